package dev.keel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A retrieval test collection in BEIR layout: {@code corpus.jsonl} ({@code _id, title, text}),
 * {@code queries.jsonl} ({@code _id, text}) and {@code qrels/SPLIT.tsv} (query-id, corpus-id, score,
 * with a header). Only queries that have judgements are kept; scores ≤ 0 count as not relevant.
 */
public record BeirDataset(String name, List<Doc> corpus, Map<String, String> queries, Map<String, Map<String, Integer>> qrels) {
    public record Doc(String id, String title, String text) {}

    public static BeirDataset load(Path dir, String split) {
        Path corpusFile = dir.resolve("corpus.jsonl"), queriesFile = dir.resolve("queries.jsonl"), qrelsFile = dir.resolve("qrels").resolve(split + ".tsv");
        for (Path p : List.of(corpusFile, queriesFile, qrelsFile)) {
            if (!Files.isRegularFile(p)) throw new IllegalArgumentException("not a BEIR dataset: missing " + p);
        }
        ObjectMapper json = new ObjectMapper();
        List<Doc> corpus = new ArrayList<>();
        Map<String, String> allQueries = new HashMap<>();
        Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
        try {
            readJsonl(json, corpusFile, n -> corpus.add(new Doc(n.path("_id").asText(), n.path("title").asText(""), n.path("text").asText(""))));
            readJsonl(json, queriesFile, n -> allQueries.put(n.path("_id").asText(), n.path("text").asText("")));
            List<String> lines = Files.readAllLines(qrelsFile, StandardCharsets.UTF_8);
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).split("\t");
                if (f.length < 3) continue;
                qrels.computeIfAbsent(f[0].trim(), k -> new HashMap<>()).put(f[1].trim(), Integer.parseInt(f[2].trim()));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read dataset " + dir + ": " + e.getMessage(), e);
        }
        Map<String, String> queries = new LinkedHashMap<>();
        for (String q : qrels.keySet()) {
            boolean anyRelevant = qrels.get(q).values().stream().anyMatch(s -> s > 0);
            if (allQueries.containsKey(q) && anyRelevant) queries.put(q, allQueries.get(q));
        }
        return new BeirDataset(dir.toAbsolutePath().normalize().getFileName().toString(), corpus, queries, qrels);
    }

    private static void readJsonl(ObjectMapper json, Path file, java.util.function.Consumer<JsonNode> sink) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) sink.accept(json.readTree(line));
            }
        }
    }
}
