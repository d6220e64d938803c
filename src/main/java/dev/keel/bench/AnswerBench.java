package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import dev.keel.ingest.IngestListener;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * {@code POST /v1/answer} end to end over HTTP on the sample corpus. After a JVM warm-up with
 * synthetic questions, every golden question is asked once "cold" (never seen: query and sentence
 * embeddings computed), then in repeated rounds "warm" (served from the in-process embedding caches,
 * as repeated questions are in production). Then throughput: {@code callers} concurrent callers for a
 * fixed time each, first with questions never asked before (cold), then the golden questions again
 * (warm), with the process's CPU per answer and, from each answer's trace, where its time went.
 */
public final class AnswerBench {
    /** Cold and warm latency, in milliseconds. */
    public record Result(int questions, int warmRequests, double coldP50, double coldP99, double warmP50, double warmP99, double allP50,
                         List<Throughput> throughput) {}

    /**
     * Answers per second of one kind with {@code callers} concurrent callers; {@code cpuMsPerAnswer}: this process's CPU
     * per answer (Keel and the HTTP client share it); {@code stageMeanMs}: mean time per answer in each traced stage
     * (stages nest: {@code retrieve} holds {@code bm25} and {@code knn}).
     */
    public record Throughput(String kind, int callers, int answers, double answersPerSecond, double p50Ms, double cpuMsPerAnswer,
                             Map<String, Double> stageMeanMs) {}

    /** Unseen questions asked first so the JIT has compiled the path; they are not measured. */
    private static final int WARMUP_QUESTIONS = 60;

    private AnswerBench() {}

    public static Result run(Path docs, Path golden, int rounds, int callers, Duration perPhase, Path work, KeelConfig config, PrintStream log)
            throws Exception {
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
                List<Throughput> throughput = new ArrayList<>();
                if (callers > 0) {
                    log.printf("answer: %d callers for %d s with new questions, then with the golden ones…%n", callers, perPhase.toSeconds());
                    AtomicInteger unseen = new AtomicInteger(WARMUP_QUESTIONS);
                    throughput.add(throughput(keel, http, uri, json, "cold", callers, perPhase,
                            n -> "What does the documentation say about " + words.query(unseen.getAndIncrement()) + "?"));
                    throughput.add(throughput(keel, http, uri, json, "warm", callers, perPhase, n -> questions.get(n % questions.size())));
                }
                return new Result(questions.size(), warm.length, Measurements.percentile(cold, 50), Measurements.percentile(cold, 99),
                        Measurements.percentile(warm, 50), Measurements.percentile(warm, 99), Measurements.percentile(all, 50), throughput);
            }
        }
    }

    private static Throughput throughput(Keel keel, HttpClient http, URI uri, ObjectMapper json, String kind, int callers, Duration length,
                                         IntFunction<String> question) throws Exception {
        Queue<Double> latencies = new ConcurrentLinkedQueue<>();
        Queue<String> traceIds = new ConcurrentLinkedQueue<>();
        AtomicInteger asked = new AtomicInteger();
        long cpu = processCpuNanos(), start = System.nanoTime(), end = start + length.toNanos();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                all.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        long t = System.nanoTime();
                        String body = post(http, uri, json, question.apply(asked.getAndIncrement()));
                        latencies.add((System.nanoTime() - t) / 1e6);
                        traceIds.add(json.readTree(body).path("trace_id").asText());
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9, cpuMs = (processCpuNanos() - cpu) / 1e6;
        Map<String, Double> stages = new TreeMap<>();
        for (String id : traceIds) {
            byte[] trace = keel.traces().findJson(id, Keel.DEFAULT_TENANT).orElseThrow(() -> new IllegalStateException("trace " + id + " not kept"));
            for (JsonNode span : json.readTree(trace).path("spans")) stages.merge(span.path("name").asText(), span.path("duration_ms").asDouble(), Double::sum);
        }
        stages.replaceAll((name, total) -> total / traceIds.size());
        double[] l = latencies.stream().mapToDouble(Double::doubleValue).toArray();
        return new Throughput(kind, callers, l.length, l.length / seconds, Measurements.percentile(l, 50), cpuMs / Math.max(1, l.length), stages);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double ask(HttpClient http, URI uri, ObjectMapper json, String question) throws Exception {
        long t = System.nanoTime();
        post(http, uri, json, question);
        return (System.nanoTime() - t) / 1e6;
    }

    private static String post(HttpClient http, URI uri, ObjectMapper json, String question) throws Exception {
        String body = json.writeValueAsString(Map.of("question", question));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IllegalStateException("/v1/answer returned " + r.statusCode() + ": " + r.body());
        return r.body();
    }
}
