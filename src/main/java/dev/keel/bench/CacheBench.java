package dev.keel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The response caches end to end over HTTP: {@code keel serve} in its own process with its default
 * caches, in front of a local fake upstream with fixed latency. One client sends, one request at a
 * time, deterministic chat requests (temperature 0) of distinct questions (misses, each reaching the
 * upstream), the same requests again (exact hits), then a paraphrase of each never sent before
 * (semantic hits: each is embedded and compared). Every phase reports what the server said it did
 * ({@code x-keel-cache}) beside the latencies, so a wrong kind of answer is visible, not averaged in.
 * Warm-up questions come from the same generator but are never measured.
 */
public final class CacheBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Distinct actions and objects: their combinations are the questions, "How do I …?" asked and "How can I …?" paraphrased. */
    private static final List<String> ACTIONS = List.of("cancel", "export", "rename", "archive", "restore", "verify", "transfer", "download",
            "encrypt", "schedule");
    private static final List<String> OBJECTS = List.of("subscription", "invoice history", "workspace", "API key", "password", "profile photo",
            "billing address", "team member", "webhook endpoint", "database backup", "phone number", "shipping label", "calendar invite",
            "support ticket", "gift card", "tax receipt", "SSH certificate", "domain name", "mailing list", "expense report", "payroll run",
            "purchase order", "loyalty points", "home router", "parking permit", "library card", "flight booking", "insurance claim",
            "rental car", "medical record");
    /** Requests of each kind sent before anything is measured, so the server's JIT has compiled the request paths. */
    private static final int WARM_UP_QUESTIONS = 60, WARM_UP_ROUNDS = 5;

    /**
     * Latency of one phase as the client saw it, the time spent inside Keel ({@code x-keel-overhead-ms},
     * upstream excluded), and how many of its requests the server served as each {@code x-keel-cache} value.
     */
    public record Phase(int requests, Map<String, Integer> served, double p50Ms, double p99Ms, double meanMs, double insideKeelP50Ms) {}

    /** The run: misses (the same-run baseline), exact hits and semantic hits, and the upstream's fixed latency. */
    public record Result(int upstreamLatencyMs, Phase miss, Phase exact, Phase semantic) {}

    private CacheBench() {}

    /** Runs the benchmark with {@code questions} measured questions (at most the generator's 300 less the warm-up's). */
    public static Result run(int questions, int latencyMs, List<String> serverJvmOptions, Path work, PrintStream log) throws Exception {
        List<String> all = questions();
        if (questions + WARM_UP_QUESTIONS > all.size()) {
            throw new IllegalArgumentException("at most " + (all.size() - WARM_UP_QUESTIONS) + " questions (the generator has " + all.size() + ")");
        }
        try (FakeUpstream upstream = new FakeUpstream(latencyMs, 0, 0)) {
            Path config = Files.writeString(work.resolve("keel-cache-bench.yaml"), """
                    server: {admin_key: %s}
                    providers:
                      bench: {type: openai, base_url: "%s", max_retries: 0}
                    models:
                      bench:
                        targets:
                          - {provider: bench, model: bench-upstream, input_per_mtok: 1.0, output_per_mtok: 2.0}
                    """.formatted(GatewayBench.ADMIN_KEY, upstream.baseUrl()));
            log.println("cache: starting keel serve in its own process…");
            try (ServerProcess keel = ServerProcess.keel(config, work.resolve("keel"), serverJvmOptions); HttpClient http = HttpClient.newHttpClient()) {
                Client client = new Client(http, URI.create("http://127.0.0.1:" + keel.port() + "/v1/chat/completions"),
                        "Bearer " + GatewayBench.createKey(keel.port(), "bench"));
                List<String> warm = all.subList(0, WARM_UP_QUESTIONS), measured = all.subList(WARM_UP_QUESTIONS, WARM_UP_QUESTIONS + questions);
                log.printf("cache: warming up with %d questions × %d rounds…%n", warm.size(), WARM_UP_ROUNDS);
                for (int round = 0; round < WARM_UP_ROUNDS; round++) {
                    for (String q : warm) {
                        client.ask(q + (round == 0 ? "" : " (round " + round + ")"));
                        client.ask(q + (round == 0 ? "" : " (round " + round + ")"));
                        client.ask(paraphrase(q) + (round == 0 ? "" : " (round " + round + ")"));
                    }
                }
                log.printf("cache: %d misses, %d exact hits, %d semantic hits, one at a time…%n", questions, questions, questions);
                Phase miss = client.phase(measured);
                Phase exact = client.phase(measured);
                Phase semantic = client.phase(measured.stream().map(CacheBench::paraphrase).toList());
                return new Result(latencyMs, miss, exact, semantic);
            }
        }
    }

    /** "How do I cancel my subscription?" for every action and object, in a fixed order. */
    static List<String> questions() {
        List<String> out = new ArrayList<>();
        for (String object : OBJECTS) for (String action : ACTIONS) out.add("How do I " + action + " my " + object + "?");
        return out;
    }

    static String paraphrase(String question) {
        return question.replace("How do I ", "How can I ");
    }

    /** One sequential client: each request's latency and its {@code x-keel-cache} header. */
    private record Client(HttpClient http, URI uri, String auth) {
        private HttpResponse<String> ask(String question) throws IOException, InterruptedException {
            ObjectNode body = JSON.createObjectNode().put("model", "bench").put("temperature", 0).put("max_tokens", 50);
            body.putArray("messages").addObject().put("role", "system").put("content", "You answer support questions in one sentence.");
            body.withArray("messages").addObject().put("role", "user").put("content", question);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Authorization", auth).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IOException("Keel answered " + r.statusCode() + ": " + r.body());
            return r;
        }

        private Phase phase(List<String> questions) throws IOException, InterruptedException {
            double[] ms = new double[questions.size()], inside = new double[questions.size()];
            Map<String, Integer> served = new TreeMap<>();
            for (int i = 0; i < ms.length; i++) {
                long start = System.nanoTime();
                HttpResponse<String> r = ask(questions.get(i));
                ms[i] = (System.nanoTime() - start) / 1e6;
                served.merge(r.headers().firstValue("x-keel-cache").orElse("absent"), 1, Integer::sum);
                inside[i] = Double.parseDouble(r.headers().firstValue("x-keel-overhead-ms").orElse("0"));
            }
            double mean = 0;
            for (double m : ms) mean += m / ms.length;
            return new Phase(ms.length, served, Measurements.percentile(ms, 50), Measurements.percentile(ms, 99), mean, Measurements.percentile(inside, 50));
        }
    }
}
