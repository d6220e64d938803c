package dev.keel.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.provider.DocumentAnswerer;
import dev.keel.store.ContentHash;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;

/**
 * An evaluation dataset read from JSONL, one example per line:
 * {@code {id, question, reference_answer?, relevant?: [ids], answerable, slices?: [tags], facts?: [phrases]}}
 * ({@code sources} is read as {@code relevant}, as the sample golden set spells it). An optional first line
 * {@code {"_meta": {"name", "locked", "test_share"}}} names the set, marks it locked (a gold set whose test split
 * may only be reported in aggregate) and sets the share of examples in the test split (default
 * {@value #DEFAULT_TEST_SHARE}). Fields it does not know are ignored; a UTF-8 byte order mark at the start is
 * skipped. Every error names the file and line. Immutable.
 */
public record EvalDataset(String name, Path path, boolean locked, double testShare, List<EvalExample> examples) {
    public static final double DEFAULT_TEST_SHARE = 0.3;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_EXAMPLES = 100_000;
    /** A question is asked as {@code POST /v1/answer} would ask it, so it is held to that route's limit. */
    private static final int MAX_QUESTION_CHARS = DocumentAnswerer.MAX_QUESTION_CHARS;
    /** The largest dataset file read: {@value #MAX_EXAMPLES} examples of a few hundred bytes each fit with room to spare, a stray dump does not. */
    private static final long MAX_BYTES = 64L << 20;
    /** Editors on Windows start UTF-8 files with it; it is no part of the first line's JSON. */
    private static final String BYTE_ORDER_MARK = "\uFEFF";

    public EvalDataset {
        examples = List.copyOf(examples);
    }

    /** The examples of one split, or all of them for {@code null}. */
    public List<EvalExample> examples(EvalExample.Split split) {
        return split == null ? examples : examples.stream().filter(e -> e.split() == split).toList();
    }

    /**
     * One fingerprint for the whole set: a hash over its name, whether it is locked and every example's fingerprint in
     * file order, so a copy with its {@code _meta} line removed (an unlocked gold set) is not the same dataset.
     */
    public String fingerprint() {
        StringBuilder all = new StringBuilder(name).append('\0').append(locked).append('\n');
        for (EvalExample e : examples) all.append(e.fingerprint()).append('\n');
        return ContentHash.sha256(all.toString()).substring(0, 16);
    }

    /** Reads a dataset; a bad line, a missing field or a duplicate id is an {@link IllegalArgumentException} naming the line. */
    public static EvalDataset load(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("dataset not found: " + file);
        List<String> lines;
        try {
            if (Files.size(file) > MAX_BYTES) throw new IllegalArgumentException(file + ": larger than " + (MAX_BYTES >> 20) + " MiB");
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read dataset " + file + ": " + e.getMessage(), e);
        }
        String name = file.getFileName().toString().replaceFirst("\\.jsonl?$", "");
        boolean locked = false;
        double testShare = DEFAULT_TEST_SHARE;
        List<JsonNode> rows = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = i == 0 && lines.get(0).startsWith(BYTE_ORDER_MARK) ? lines.get(0).substring(1) : lines.get(i);
            if (line.isBlank()) continue;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(where(file, i) + "not valid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) throw new IllegalArgumentException(where(file, i) + "expected a JSON object");
            if (node.has("_meta")) {
                if (!rows.isEmpty()) throw new IllegalArgumentException(where(file, i) + "\"_meta\" must be the first line");
                JsonNode meta = node.get("_meta");
                name = meta.path("name").asText(name);
                JsonNode lockedFlag = meta.get("locked");
                if (lockedFlag != null && !lockedFlag.isBoolean()) throw new IllegalArgumentException(where(file, i) + "\"locked\" must be true or false");
                locked = lockedFlag != null && lockedFlag.asBoolean();
                testShare = meta.path("test_share").asDouble(DEFAULT_TEST_SHARE);
                if (!(testShare >= 0 && testShare <= 1)) throw new IllegalArgumentException(where(file, i) + "test_share must be between 0 and 1");
                continue;
            }
            if (rows.size() >= MAX_EXAMPLES) throw new IllegalArgumentException(file + ": more than " + MAX_EXAMPLES + " examples");
            rows.add(node);
            lineNumbers.add(i);
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        List<EvalExample> examples = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int r = 0; r < rows.size(); r++) {
            EvalExample e = example(rows.get(r), file, lineNumbers.get(r), testShare);
            if (!ids.add(e.id())) throw new IllegalArgumentException(where(file, lineNumbers.get(r)) + "duplicate id \"" + e.id() + "\"");
            examples.add(e);
        }
        return new EvalDataset(name, file.toAbsolutePath().normalize(), locked, testShare, examples);
    }

    /** A retrieval-only dataset from a BEIR collection: its judged queries, relevant documents as {@code relevant} with their grades. */
    public static EvalDataset fromBeir(BeirDataset beir) {
        List<EvalExample> examples = new ArrayList<>();
        beir.queries().forEach((id, text) -> {
            Map<String, Integer> grades = new LinkedHashMap<>();
            beir.qrels().get(id).forEach((doc, grade) -> {
                if (grade > 0) grades.put(doc, grade);
            });
            examples.add(new EvalExample(id, text, null, List.copyOf(grades.keySet()), true, List.of(), List.of(), splitOf(id, DEFAULT_TEST_SHARE),
                    fingerprint(text, null), grades));
        });
        return new EvalDataset(beir.name(), null, false, DEFAULT_TEST_SHARE, examples);
    }

    /** The split of an example: a stable hash of its id, so adding or reordering examples never moves another one. */
    public static EvalExample.Split splitOf(String id, double testShare) {
        String hash = ContentHash.sha256(id);
        long bucket = Long.parseLong(hash.substring(0, 8), 16) % 10_000;
        return bucket < Math.round(testShare * 10_000) ? EvalExample.Split.TEST : EvalExample.Split.DEV;
    }

    /** An example's fingerprint: a hash of its normalised question and reference answer, to detect leakage into prompts. */
    public static String fingerprint(String question, String reference) {
        return ContentHash.sha256(normalise(question) + "\u0000" + (reference == null ? "" : normalise(reference))).substring(0, 16);
    }

    /** Lower case, NFKC, letters and digits separated by single spaces: the form leakage checks compare. */
    public static String normalise(String text) {
        String folded = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        return folded.replaceAll("[^\\p{L}\\p{N}]+", " ").trim();
    }

    private static EvalExample example(JsonNode n, Path file, int line, double testShare) {
        String id = text(n, "id", file, line, true);
        String question = text(n, "question", file, line, true);
        if (question.isBlank()) throw new IllegalArgumentException(where(file, line) + "\"question\" is empty");
        if (question.length() > MAX_QUESTION_CHARS) {
            throw new IllegalArgumentException(where(file, line) + "\"question\" is longer than " + MAX_QUESTION_CHARS + " characters, the most an answer request takes");
        }
        String reference = text(n, "reference_answer", file, line, false);
        JsonNode answerable = n.get("answerable");
        if (answerable != null && !answerable.isBoolean()) throw new IllegalArgumentException(where(file, line) + "\"answerable\" must be true or false");
        List<String> relevant = strings(n.has("relevant") ? n.get("relevant") : n.get("sources"), n.has("relevant") ? "relevant" : "sources", file, line);
        return new EvalExample(id, question, reference, relevant, answerable == null || answerable.asBoolean(),
                strings(n.get("slices"), "slices", file, line), strings(n.get("facts"), "facts", file, line), splitOf(id, testShare),
                fingerprint(question, reference));
    }

    private static String text(JsonNode n, String field, Path file, int line, boolean required) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (required) throw new IllegalArgumentException(where(file, line) + "missing \"" + field + "\"");
            return null;
        }
        if (!v.isTextual() && !(field.equals("id") && v.isNumber())) throw new IllegalArgumentException(where(file, line) + "\"" + field + "\" must be a string");
        return v.asText();
    }

    private static List<String> strings(JsonNode v, String field, Path file, int line) {
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw new IllegalArgumentException(where(file, line) + "\"" + field + "\" must be an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual()) throw new IllegalArgumentException(where(file, line) + "\"" + field + "\" must be an array of strings");
            out.add(s.asText());
        }
        return out;
    }

    private static String where(Path file, int zeroBasedLine) {
        return file + ":" + (zeroBasedLine + 1) + ": ";
    }
}
