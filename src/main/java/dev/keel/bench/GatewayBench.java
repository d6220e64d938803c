package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's cost in latency, throughput and CPU: the same load, in the same run, straight to a
 * local fake upstream with fixed latency and through Keel ({@code keel serve} in its own process)
 * with key auth, rate limits, budget and ledger on; maximum throughput side by side with the
 * Portkey gateway (Node, installed with npm on first use); and a fault run where the primary
 * provider fails half its calls. The load generator and the fake upstream share this process.
 * With shared engines named (Redis, PostgreSQL), a second Keel over them is measured at maximum
 * throughput in the same run, after the embedded one, so the cost of sharing reads as a ratio.
 */
public final class GatewayBench {
    /** The user message of every benchmark request, numbered so that each is new to Keel's caches. */
    private static final String PROMPT = "Say ok.";
    private static final java.util.function.Supplier<byte[]> BODY = LoadGenerator.chatBodies("bench", PROMPT);
    static final String ADMIN_KEY = "bench-admin-key-" + java.util.UUID.randomUUID();
    private static final int PORTKEY_PORT = 8787;
    private static final Duration WARM_UP = Duration.ofSeconds(2);
    /** Long enough for the server JVM's JIT to compile the request path before anything is measured. */
    private static final Duration JIT_WARM_UP = Duration.ofSeconds(15);
    /**
     * Before each measured rate, both paths run at that rate this long (the generator and fake upstream are
     * Java too): switching from saturation (warm-up) or
     * idleness (the direct run) to a steady rate deoptimises and recompiles hundreds of methods (seen in
     * -XX:+LogCompilation: ~500 compilations in the first 10 s), and C2 then takes CPU from the requests.
     */
    private static final Duration RATE_WARM_UP = Duration.ofSeconds(10);
    /**
     * Before each path's maximum throughput is measured (Keel's, Portkey's), it runs at maximum this long. With 5 s, C2
     * still recompiled Keel's request path's largest methods inside the measured 10 s (JFR: deoptimisations on branches
     * first taken at full concurrency, then ~3 s of compiler time in the window) and Keel's figure swung with it (8.2-11.4x
     * Portkey in five runs; with 20 s, 10.3-11.5x in three). The compilers' CPU inside the window is printed with the result.
     */
    private static final Duration MAX_WARM_UP = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SEQUENTIAL_ROUNDS = 5;

    /**
     * Latency and success of one configuration at one load. {@code overheadP50Ms}/{@code overheadP99Ms}:
     * Keel's own {@code x-keel-overhead-ms} (time in Keel, upstream excluded), 0 when direct;
     * {@code serverCpuMsPerRequest}: CPU time the server process used per completed request, 0 when direct;
     * {@code failed}: requests that got no 200 (an error status, a transport failure or no answer in time).
     */
    public record Stats(double p50Ms, double p99Ms, double successRate, double throughput, Map<String, Long> failures, double overheadP50Ms,
                        double overheadP99Ms, double serverCpuMsPerRequest, double p90Ms, long failed) {
        static Stats of(LoadGenerator.Run r, double cpuSeconds) {
            double[] l = r.latenciesMs().length == 0 ? new double[] {0} : r.latenciesMs();
            double[] o = r.overheadMs().length == 0 ? new double[] {0} : r.overheadMs();
            return new Stats(Measurements.percentile(l, 50), Measurements.percentile(l, 99), r.successRate(), r.throughput(), r.failures(),
                    Measurements.percentile(o, 50), Measurements.percentile(o, 99), cpuSeconds <= 0 ? 0 : cpuSeconds * 1000 / Math.max(1, r.ok()),
                    Measurements.percentile(l, 90), r.failed());
        }
    }

    /**
     * Direct vs through Keel at one offered rate (0: sequential or maximum throughput). Added latency is Keel's
     * percentile less direct's, per percentile.
     */
    public record RateResult(int offered, Stats direct, Stats keel) {
        /** What {@code x-keel-overhead-ms} may differ from the added latency measured outside at p50 and still agree. */
        public static final double HEADER_AGREEMENT_MS = 0.1;

        public double addedP50Ms() {
            return keel.p50Ms() - direct.p50Ms();
        }

        public double addedP90Ms() {
            return keel.p90Ms() - direct.p90Ms();
        }

        public double addedP99Ms() {
            return keel.p99Ms() - direct.p99Ms();
        }

        /** {@code x-keel-overhead-ms} at p50 less the added latency measured outside at p50. */
        public double headerMinusAddedP50Ms() {
            return keel.overheadP50Ms() - addedP50Ms();
        }

        /** Whether Keel's own header agrees with the outside measurement at p50, within {@link #HEADER_AGREEMENT_MS}. */
        public boolean headerAgrees() {
            return Math.abs(headerMinusAddedP50Ms()) <= HEADER_AGREEMENT_MS;
        }
    }

    /** The fault run (null when not run). */
    public record FaultResult(long requests, double successRate, long ledgerRows, long upstreamCalls) {}

    /** Memory of a server process at the end of its runs; heap is -1 for a non-JVM server. */
    public record Footprint(double heapAfterGcMiB, double rssMiB) {}

    /** The whole run; {@code maxThroughput} and {@code footprints} are keyed direct / keel / portkey. */
    public record Result(int upstreamLatencyMs, RateResult sequential, List<RateResult> rates, Map<String, Stats> maxThroughput, FaultResult fault,
                         Map<String, Footprint> footprints, String portkeyNote, GatewayStreamBench.Result streaming, CompileTime keelMaxCompile) {}

    /**
     * Keel's JIT compilers' CPU seconds inside its measured maximum, and the whole process's there (both 0 where
     * {@code /proc} is unavailable): a steady state compiles next to nothing; seconds mean the figure is the JIT's too.
     */
    public record CompileTime(double compilerCpuSeconds, double processCpuSeconds) {}

    private GatewayBench() {}

    /** What a run measures. */
    public enum Part { SEQUENTIAL, RATES, MAX, PORTKEY, FAULTS, STREAMING, STREAMS }

    /**
     * How a run measures: offered loads, seconds per load, callers at maximum throughput, the fake upstream's latency;
     * {@code sharedEngines}: {@code keel.yaml} sections ({@code redis:}, {@code store:}) of a second Keel measured at
     * maximum throughput as {@code keel-shared}, empty for none; {@code guards}: false turns Keel's guards off
     * ({@code guard.enabled: false}) to show what they cost per request.
     */
    public record Options(List<Integer> rates, Duration perRate, int concurrency, int latencyMs, Set<Part> parts, Path portkeyDir,
                          List<String> serverJvmOptions, String sharedEngines, boolean guards) {}

    public static Result run(Options o, Path work, PrintStream log) throws Exception {
        List<Integer> rates = o.parts().contains(Part.RATES) ? o.rates() : List.of();
        Duration perRate = o.perRate();
        int concurrency = o.concurrency(), latencyMs = o.latencyMs();
        Map<String, Stats> max = new LinkedHashMap<>();
        CompileTime maxCompileCpu = null;
        Map<String, Footprint> footprints = new LinkedHashMap<>();
        List<RateResult> results = new ArrayList<>();
        RateResult sequential = null;
        try (LoadGenerator load = new LoadGenerator(); FakeUpstream upstream = new FakeUpstream(latencyMs, 0, 0); FakeUpstream fast = new FakeUpstream(0, 0, 0)) {
            Path config = Files.writeString(work.resolve("keel-bench.yaml"), keelConfig(Map.of("bench", upstream.baseUrl(), "fast", fast.baseUrl()), o.guards()));
            log.println("gateway: starting keel serve in its own process…");
            try (ServerProcess keel = ServerProcess.keel(config, work.resolve("keel"), o.serverJvmOptions())) {
                URI keelUri = URI.create("http://127.0.0.1:" + keel.port() + "/v1/chat/completions");
                URI directUri = URI.create(upstream.baseUrl() + "/chat/completions");
                Map<String, String> auth = Map.of("Authorization", "Bearer " + createKey(keel.port(), "bench"));
                log.println("gateway: warming up both paths…");
                load.closedLoop(directUri, Map.of(), BODY, concurrency, WARM_UP.multipliedBy(2));
                load.closedLoop(keelUri, auth, BODY, concurrency, JIT_WARM_UP);
                if (o.parts().contains(Part.SEQUENTIAL)) sequential = sequential(load, keel, URI.create(fast.baseUrl() + "/chat/completions"), keelUri, auth, perRate, log);
                for (int rate : rates) {
                    log.printf("gateway: %,d req/s for %d s, direct then through Keel…%n", rate, perRate.toSeconds());
                    load.fixedRate(directUri, Map.of(), BODY, rate, RATE_WARM_UP);
                    Stats direct = Stats.of(load.fixedRate(directUri, Map.of(), BODY, rate, perRate), 0);
                    load.fixedRate(keelUri, auth, BODY, rate, RATE_WARM_UP);
                    double cpu = keel.cpuSeconds();
                    LoadGenerator.Run viaKeel = load.fixedRate(keelUri, auth, BODY, rate, perRate);
                    results.add(new RateResult(rate, direct, Stats.of(viaKeel, keel.cpuSeconds() - cpu)));
                }
                if (o.parts().contains(Part.MAX)) {
                    log.printf("gateway: maximum throughput with %d concurrent callers…%n", concurrency);
                    max.put("direct", Stats.of(load.closedLoop(directUri, Map.of(), BODY, concurrency, perRate), 0));
                    load.closedLoop(keelUri, auth, BODY, concurrency, MAX_WARM_UP);
                    double cpu = keel.cpuSeconds();
                    Map<String, Double> compilers = keel.compilerCpuSeconds();
                    LoadGenerator.Run viaKeel = load.closedLoop(keelUri, auth, BODY, concurrency, perRate);
                    double used = keel.cpuSeconds() - cpu;
                    max.put("keel", Stats.of(viaKeel, used));
                    maxCompileCpu = new CompileTime(keel.compilerCpuSecondsSince(compilers), used);
                }
                footprints.put("keel", new Footprint(keel.heapAfterGcMiB(), keel.rssMiB()));
            }
            if (o.parts().contains(Part.MAX) && !o.sharedEngines().isBlank()) {
                Path shared = Files.writeString(work.resolve("keel-bench-shared.yaml"), Files.readString(config) + o.sharedEngines());
                log.println("gateway: starting keel serve over the shared engines…");
                try (ServerProcess keel = ServerProcess.keel(shared, work.resolve("keel-shared"), o.serverJvmOptions())) {
                    URI keelUri = URI.create("http://127.0.0.1:" + keel.port() + "/v1/chat/completions");
                    Map<String, String> auth = Map.of("Authorization", "Bearer " + createKey(keel.port(), "bench"));
                    load.closedLoop(keelUri, auth, BODY, concurrency, JIT_WARM_UP);
                    log.printf("gateway: maximum throughput over the shared engines with %d concurrent callers…%n", concurrency);
                    double cpu = keel.cpuSeconds();
                    LoadGenerator.Run viaKeel = load.closedLoop(keelUri, auth, BODY, concurrency, perRate);
                    max.put("keel-shared", Stats.of(viaKeel, keel.cpuSeconds() - cpu));
                    footprints.put("keel-shared", new Footprint(keel.heapAfterGcMiB(), keel.rssMiB()));
                }
            }
            String note = o.parts().contains(Part.PORTKEY) ? portkey(o.portkeyDir(), upstream, load, concurrency, perRate, max, footprints, log)
                    : "Portkey not measured (not asked for)";
            FaultResult fault = o.parts().contains(Part.FAULTS) ? faults(work, load, latencyMs, o.serverJvmOptions(), log) : null;
            GatewayStreamBench.Result streaming = o.parts().contains(Part.STREAMING) || o.parts().contains(Part.STREAMS)
                    ? GatewayStreamBench.run(o.parts().contains(Part.STREAMING), o.parts().contains(Part.STREAMS), o.guards(), o.serverJvmOptions(), load, work, log) : null;
            return new Result(latencyMs, sequential, results, max, fault, footprints, note, streaming, maxCompileCpu);
        }
    }

    /**
     * One caller, one connection, each request sent when the previous one answered, against an upstream that answers
     * at once: what a single client sees Keel add. Direct and through Keel alternate in {@link #SEQUENTIAL_ROUNDS}
     * rounds, so a change in the shared machine's load reaches both paths alike.
     */
    private static RateResult sequential(LoadGenerator load, ServerProcess keel, URI directUri, URI keelUri, Map<String, String> auth,
                                         Duration length, PrintStream log) throws Exception {
        log.printf("gateway: sequential requests (one connection, upstream answering at once), %d s each path…%n", length.toSeconds());
        java.util.function.Supplier<byte[]> body = LoadGenerator.chatBodies("fast", PROMPT);
        Duration round = length.dividedBy(SEQUENTIAL_ROUNDS);
        load.closedLoop(directUri, Map.of(), body, 1, RATE_WARM_UP.dividedBy(2));
        load.closedLoop(keelUri, auth, body, 1, RATE_WARM_UP);
        List<LoadGenerator.Run> direct = new ArrayList<>(), viaKeel = new ArrayList<>();
        double cpu = 0;
        for (int i = 0; i < SEQUENTIAL_ROUNDS; i++) {
            direct.add(load.closedLoop(directUri, Map.of(), body, 1, round));
            double before = keel.cpuSeconds();
            viaKeel.add(load.closedLoop(keelUri, auth, body, 1, round));
            cpu += keel.cpuSeconds() - before;
        }
        return new RateResult(0, Stats.of(LoadGenerator.Run.merge(direct), 0), Stats.of(LoadGenerator.Run.merge(viaKeel), cpu));
    }

    /**
     * The keel.yaml of a benchmark's Keel: the admin key, one provider and one catalog model of the same name per
     * {@code upstreams} entry (model name → base URL; one target at fixed prices, two retries), and the guard off
     * unless {@code guards}.
     */
    static String keelConfig(Map<String, String> upstreams, boolean guards) {
        StringBuilder providers = new StringBuilder("providers:\n"), models = new StringBuilder("models:\n");
        new java.util.TreeMap<>(upstreams).forEach((name, baseUrl) -> {
            providers.append("  ").append(name).append(": {type: openai, base_url: \"").append(baseUrl).append("\", max_retries: 2}\n");
            models.append("  ").append(name).append(":\n    targets:\n      - {provider: ").append(name)
                    .append(", model: bench-upstream, input_per_mtok: 1.0, output_per_mtok: 2.0}\n");
        });
        return "server: {admin_key: " + ADMIN_KEY + "}\n" + providers + models + (guards ? "" : "guard: {enabled: false}\n");
    }

    /** Creates a client key with limits and budgets high enough not to bind, through the admin API. */
    static String createKey(int port, String tenant) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(Map.of("name", "bench", "tenant", tenant, "requests_per_minute", 1_000_000,
                "tokens_per_minute", 1_000_000_000, "daily_budget_usd", 1e9, "monthly_budget_usd", 1e9, "max_cost_per_request_usd", 10));
        JsonNode created = call(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/keys")).header("Authorization", "Bearer " + ADMIN_KEY)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
        return created.path("key").asText();
    }

    private static JsonNode call(HttpRequest request) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) throw new IOException(request.uri().getPath() + " answered " + r.statusCode() + ": " + r.body());
            return JSON.readTree(r.body());
        }
    }

    private static String portkey(Path dir, FakeUpstream upstream, LoadGenerator load, int concurrency, Duration perRate, Map<String, Stats> max,
                                  Map<String, Footprint> footprints, PrintStream log) throws Exception {
        Path script = dir.resolve("node_modules/@portkey-ai/gateway/build/start-server.js");
        if (!Files.isRegularFile(script)) {
            log.println("gateway: installing the Portkey gateway with npm into " + dir + " …");
            Files.createDirectories(dir);
            try {
                Process npm = new ProcessBuilder("npm", "install", "--silent", "--prefix", dir.toString(), "@portkey-ai/gateway@1.15.2")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!npm.waitFor(300, TimeUnit.SECONDS) || npm.exitValue() != 0 || !Files.isRegularFile(script)) return "Portkey not measured: npm install failed";
            } catch (IOException e) {
                return "Portkey not measured: npm is not available (" + e.getMessage() + ")";
            }
        }
        if (listening(PORTKEY_PORT)) return "Portkey not measured: port " + PORTKEY_PORT + " is already in use";
        try (ServerProcess node = ServerProcess.listeningOn(List.of("node", script.toString()), PORTKEY_PORT)) {
            URI uri = URI.create("http://127.0.0.1:" + PORTKEY_PORT + "/v1/chat/completions");
            Map<String, String> headers = Map.of("x-portkey-provider", "openai", "x-portkey-custom-host", upstream.baseUrl(), "Authorization", "Bearer bench");
            log.println("gateway: Portkey maximum throughput…");
            load.closedLoop(uri, headers, BODY, concurrency, MAX_WARM_UP);
            double cpu = node.cpuSeconds();
            LoadGenerator.Run run = load.closedLoop(uri, headers, BODY, concurrency, perRate);
            max.put("portkey", Stats.of(run, node.cpuSeconds() - cpu));
            footprints.put("portkey", new Footprint(-1, node.rssMiB()));
            return "Portkey @portkey-ai/gateway 1.15.2 on node " + version("node");
        } catch (IOException e) {
            return "Portkey not measured: " + e.getMessage();
        }
    }

    private static FaultResult faults(Path work, LoadGenerator load, int latencyMs, List<String> jvmOptions, PrintStream log) throws Exception {
        try (FakeUpstream flaky = new FakeUpstream(latencyMs, 0.5, 3_000); FakeUpstream healthy = new FakeUpstream(latencyMs, 0, 0)) {
            Path config = Files.writeString(work.resolve("keel-faults.yaml"), """
                    server: {admin_key: %s}
                    providers:
                      primary: {type: openai, base_url: "%s", max_retries: 2, first_byte_timeout_seconds: 1}
                      backup: {type: openai, base_url: "%s", max_retries: 2}
                    models:
                      bench:
                        targets:
                          - {provider: primary, model: bench-upstream}
                          - {provider: backup, model: bench-upstream}
                    """.formatted(ADMIN_KEY, flaky.baseUrl(), healthy.baseUrl()));
            log.println("gateway: fault run (primary fails 50%: 500 / 429 / stalls past the timeout)…");
            try (ServerProcess keel = ServerProcess.keel(config, work.resolve("faults"), jvmOptions)) {
                String key = createKey(keel.port(), "faults");
                URI uri = URI.create("http://127.0.0.1:" + keel.port() + "/v1/chat/completions");
                LoadGenerator.Run run = load.fixedRate(uri, Map.of("Authorization", "Bearer " + key), BODY, 100, Duration.ofSeconds(10));
                JsonNode usage = call(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + keel.port() + "/v1/usage?group_by=model"))
                        .header("Authorization", "Bearer " + key).GET().build());
                long rows = 0;
                for (JsonNode row : usage.path("data")) rows += row.path("requests").asLong();
                return new FaultResult(run.sent(), run.successRate(), rows, flaky.calls() + healthy.calls());
            }
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String version(String command) {
        try {
            Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes()).strip();
            p.waitFor(10, TimeUnit.SECONDS);
            return v;
        } catch (IOException e) {
            return "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }
}
