package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.ingest.IngestListener;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * What reranking adds to {@code POST /v1/search} over HTTP on the sample corpus: the golden
 * questions searched with {@code rerank} none, mmr and remote, interleaved, after a warm-up that
 * fills the query-embedding cache (so the differences are reranking alone). The remote reranker is
 * a local Cohere-compatible server that answers at once, so its figure is Keel's own cost per call
 * (request building, HTTP on loopback, parsing, checks), to which a real reranker adds its inference.
 */
public final class RerankBench {
    /** Latency per method, in milliseconds, and p50 added over none. */
    public record Result(int questions, int rounds, int candidates, Map<String, Latency> methods) {}

    public record Latency(double p50, double p99, double addedP50) {}

    private static final List<String> METHODS = List.of("none", "mmr", "remote");

    private RerankBench() {}

    public static Result run(Path docs, Path golden, int rounds, int candidates, Path work, PrintStream log) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> questions = new ArrayList<>();
        for (String line : Files.readAllLines(golden)) if (!line.isBlank()) questions.add(json.readTree(line).get("question").asText());
        HttpServer upstream = instantReranker(json);
        try {
            String yaml = """
                    server: {port: 0, host: 127.0.0.1}
                    rerank:
                      candidates: %d
                      remote: {base_url: "http://127.0.0.1:%d/v1", timeout_ms: 2000}
                    """.formatted(candidates, upstream.getAddress().getPort());
            try (Keel keel = Keel.open(KeelConfig.parse(yaml, k -> null), work.resolve("data"))) {
                log.println("rerank: ingesting the sample corpus…");
                keel.ingestor().ingestPaths(Keel.DEFAULT_TENANT, List.of(docs), false, keel.traces().start("bench", Keel.DEFAULT_TENANT), IngestListener.NONE);
                try (dev.keel.http.HttpServer server = new dev.keel.http.HttpServer(keel)) {
                    URI uri = URI.create("http://127.0.0.1:" + server.start() + "/v1/search");
                    HttpClient http = HttpClient.newHttpClient();
                    log.println("rerank: warming up…");
                    for (int r = 0; r < 2; r++) for (String q : questions) for (String m : METHODS) search(http, uri, json, q, m);
                    Map<String, double[]> samples = new LinkedHashMap<>();
                    for (String m : METHODS) samples.put(m, new double[questions.size() * rounds]);
                    for (int r = 0; r < rounds; r++) {
                        for (int i = 0; i < questions.size(); i++) {
                            for (String m : METHODS) samples.get(m)[r * questions.size() + i] = search(http, uri, json, questions.get(i), m);
                        }
                    }
                    double base = Measurements.percentile(samples.get("none"), 50);
                    Map<String, Latency> out = new LinkedHashMap<>();
                    samples.forEach((m, s) -> out.put(m, new Latency(Measurements.percentile(s, 50), Measurements.percentile(s, 99),
                            Measurements.percentile(s, 50) - base)));
                    return new Result(questions.size(), rounds, candidates, out);
                }
            }
        } finally {
            upstream.stop(0);
        }
    }

    private static double search(HttpClient http, URI uri, ObjectMapper json, String query, String method) throws Exception {
        String body = json.writeValueAsString(Map.of("query", query, "top_k", 5, "rerank", method));
        long t = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        double ms = (System.nanoTime() - t) / 1e6;
        if (r.statusCode() != 200) throw new IllegalStateException("/v1/search returned " + r.statusCode() + ": " + r.body());
        return ms;
    }

    /** A Cohere-compatible {@code /v1/rerank} on loopback that scores documents by length, at once. */
    private static HttpServer instantReranker(ObjectMapper json) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        s.createContext("/v1/rerank", ex -> {
            JsonNode req = json.readTree(ex.getRequestBody());
            List<double[]> scored = new ArrayList<>();
            for (int i = 0; i < req.path("documents").size(); i++) scored.add(new double[] {i, req.path("documents").get(i).asText().length()});
            scored.sort((a, b) -> Double.compare(b[1], a[1]));
            StringBuilder results = new StringBuilder();
            for (double[] d : scored.subList(0, Math.min(scored.size(), req.path("top_n").asInt(scored.size())))) {
                results.append(results.isEmpty() ? "" : ",").append("{\"index\":").append((int) d[0]).append(",\"relevance_score\":").append(d[1]).append('}');
            }
            byte[] bytes = ("{\"results\":[" + results + "]}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        });
        s.start();
        return s;
    }
}
