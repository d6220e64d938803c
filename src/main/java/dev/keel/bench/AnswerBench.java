package dev.keel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import dev.keel.ingest.IngestListener;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code POST /v1/answer} end to end over HTTP on the sample corpus. After a JVM warm-up with
 * synthetic questions, every golden question is asked once "cold" (never seen: query and sentence
 * embeddings computed), then in repeated rounds "warm" (served from the in-process embedding caches,
 * as repeated questions are in production).
 */
public final class AnswerBench {
    /** Cold and warm latency, in milliseconds. */
    public record Result(int questions, int warmRequests, double coldP50, double coldP99, double warmP50, double warmP99, double allP50) {}

    /** Unseen questions asked first so the JIT has compiled the path; they are not measured. */
    private static final int WARMUP_QUESTIONS = 60;

    private AnswerBench() {}

    public static Result run(Path docs, Path golden, int rounds, Path work, KeelConfig config, PrintStream log) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> questions = new ArrayList<>();
        for (String line : Files.readAllLines(golden)) if (!line.isBlank()) questions.add(json.readTree(line).get("question").asText());
        KeelConfig local = config.withServer(config.server().withPort(0).withHost("127.0.0.1"));
        try (Keel keel = Keel.open(local, work.resolve("data"))) {
            log.println("answer: ingesting the sample corpus…");
            keel.ingestor().ingestPaths(Keel.DEFAULT_TENANT, List.of(docs), false, keel.traces().start("bench", Keel.DEFAULT_TENANT), IngestListener.NONE);
            try (HttpServer server = new HttpServer(keel)) {
                URI uri = URI.create("http://127.0.0.1:" + server.start() + "/v1/answer");
                HttpClient http = HttpClient.newHttpClient();
                SyntheticCorpus words = new SyntheticCorpus(3);
                for (int i = 0; i < WARMUP_QUESTIONS; i++) ask(http, uri, json, "What does the documentation say about " + words.query(i) + "?");
                double[] cold = new double[questions.size()];
                for (int i = 0; i < questions.size(); i++) cold[i] = ask(http, uri, json, questions.get(i));
                double[] warm = new double[questions.size() * rounds];
                for (int r = 0; r < rounds; r++) {
                    for (int i = 0; i < questions.size(); i++) warm[r * questions.size() + i] = ask(http, uri, json, questions.get(i));
                }
                double[] all = new double[cold.length + warm.length];
                System.arraycopy(cold, 0, all, 0, cold.length);
                System.arraycopy(warm, 0, all, cold.length, warm.length);
                return new Result(questions.size(), warm.length, Measurements.percentile(cold, 50), Measurements.percentile(cold, 99),
                        Measurements.percentile(warm, 50), Measurements.percentile(warm, 99), Measurements.percentile(all, 50));
            }
        }
    }

    private static double ask(HttpClient http, URI uri, ObjectMapper json, String question) throws Exception {
        String body = json.writeValueAsString(java.util.Map.of("question", question));
        long t = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        double ms = (System.nanoTime() - t) / 1e6;
        if (r.statusCode() != 200) throw new IllegalStateException("/v1/answer returned " + r.statusCode() + ": " + r.body());
        return ms;
    }
}
