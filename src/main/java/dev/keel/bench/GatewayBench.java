package dev.keel.bench;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import dev.keel.store.ApiKeys;
import dev.keel.store.Ledger;
import java.io.IOException;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's cost in latency and throughput: the same load, in the same run, straight to a local
 * fake upstream with fixed latency and through Keel with auth, rate limits, budget and ledger on;
 * maximum throughput side by side with the Portkey gateway (Node) when it is installed; and a
 * fault run where the primary provider fails half its calls.
 */
public final class GatewayBench {
    private static final String BODY = "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":\"Say ok.\"}],\"max_tokens\":5}";
    private static final int PORTKEY_PORT = 8787;

    /** Latency and success of one configuration at one load. */
    /** {@code overheadP50Ms}/{@code overheadP99Ms}: Keel's own {@code x-keel-overhead-ms} (time in Keel, upstream excluded); 0 when direct. */
    public record Stats(double p50Ms, double p99Ms, double successRate, double throughput, Map<String, Long> failures, double overheadP50Ms,
                        double overheadP99Ms) {
        static Stats of(LoadGenerator.Run r) {
            double[] l = r.latenciesMs().length == 0 ? new double[] {0} : r.latenciesMs();
            double[] o = r.overheadMs().length == 0 ? new double[] {0} : r.overheadMs();
            return new Stats(Measurements.percentile(l, 50), Measurements.percentile(l, 99), (double) r.ok() / Math.max(1, r.sent()), r.throughput(),
                    r.failures(), Measurements.percentile(o, 50), Measurements.percentile(o, 99));
        }
    }

    /** Direct vs through Keel at one offered rate. */
    public record RateResult(int offered, Stats direct, Stats keel) {
        public double addedP50Ms() {
            return keel.p50Ms() - direct.p50Ms();
        }

        public double addedP99Ms() {
            return keel.p99Ms() - direct.p99Ms();
        }
    }

    /** The fault run. */
    public record FaultResult(long requests, double successRate, long ledgerRows, long upstreamCalls) {}

    /** The whole run. */
    public record Result(int upstreamLatencyMs, List<RateResult> rates, Map<String, Double> maxThroughput, FaultResult fault, double heapMiB,
                         double rssMiB, String portkeyNote) {}

    private GatewayBench() {}

    public static Result run(List<Integer> rates, Duration perRate, int concurrency, int latencyMs, Path work, Path portkeyDir, PrintStream log)
            throws Exception {
        LoadGenerator load = new LoadGenerator();
        try (FakeUpstream upstream = new FakeUpstream(latencyMs, 0, 0)) {
            String admin = "bench-admin";
            KeelConfig config = KeelConfig.parse("""
                    server: {port: 0, admin_key: %s}
                    providers:
                      bench: {type: openai, base_url: "%s", max_retries: 2}
                    models:
                      bench:
                        targets:
                          - {provider: bench, model: bench-upstream, input_per_mtok: 1.0, output_per_mtok: 2.0}
                    """.formatted(admin, upstream.baseUrl()), k -> null);
            try (Keel keel = Keel.open(config, work.resolve("keel")); HttpServer server = new HttpServer(keel)) {
                URI keelUri = URI.create("http://127.0.0.1:" + server.start() + "/v1/chat/completions");
                URI directUri = URI.create(upstream.baseUrl() + "/chat/completions");
                ApiKeys.Created key = keel.keys().create("bench", "bench", List.of(), 100_000_000, 1_000_000_000, 1e9, 1e9, 10);
                Map<String, String> auth = Map.of("Authorization", "Bearer " + key.secret());
                List<RateResult> results = new ArrayList<>();
                for (int rate : rates) {
                    log.printf("gateway: %,d req/s for %d s, direct then through Keel…%n", rate, perRate.toSeconds());
                    load.fixedRate(directUri, Map.of(), BODY, rate, Duration.ofSeconds(2));
                    Stats direct = Stats.of(load.fixedRate(directUri, Map.of(), BODY, rate, perRate));
                    load.fixedRate(keelUri, auth, BODY, rate, Duration.ofSeconds(2));
                    Stats viaKeel = Stats.of(load.fixedRate(keelUri, auth, BODY, rate, perRate));
                    results.add(new RateResult(rate, direct, viaKeel));
                }
                log.printf("gateway: maximum throughput with %d concurrent callers…%n", concurrency);
                Map<String, Double> max = new LinkedHashMap<>();
                max.put("direct", Stats.of(load.closedLoop(directUri, Map.of(), BODY, concurrency, perRate)).throughput());
                max.put("keel", Stats.of(load.closedLoop(keelUri, auth, BODY, concurrency, perRate)).throughput());
                String note = portkey(portkeyDir, upstream, load, concurrency, perRate, max, log);
                FaultResult fault = faults(work, load, latencyMs, log);
                return new Result(latencyMs, results, max, fault, Measurements.heapUsedAfterGcMiB(), Measurements.rssMiB(), note);
            }
        }
    }

    private static String portkey(Path dir, FakeUpstream upstream, LoadGenerator load, int concurrency, Duration perRate, Map<String, Double> max,
                                  PrintStream log) throws Exception {
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
        Process node = new ProcessBuilder("node", script.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long until = System.nanoTime() + 30_000_000_000L;
            while (!listening(PORTKEY_PORT)) {
                if (System.nanoTime() > until || !node.isAlive()) return "Portkey not measured: it did not start";
                Thread.sleep(100);
            }
            URI uri = URI.create("http://127.0.0.1:" + PORTKEY_PORT + "/v1/chat/completions");
            Map<String, String> headers = Map.of("x-portkey-provider", "openai", "x-portkey-custom-host", upstream.baseUrl(), "Authorization", "Bearer bench");
            log.println("gateway: Portkey maximum throughput…");
            load.closedLoop(uri, headers, BODY, concurrency, Duration.ofSeconds(2));
            max.put("portkey", Stats.of(load.closedLoop(uri, headers, BODY, concurrency, perRate)).throughput());
            return "Portkey @portkey-ai/gateway 1.15.2 on " + version("node");
        } finally {
            node.destroy();
            if (!node.waitFor(10, TimeUnit.SECONDS)) node.destroyForcibly();
        }
    }

    private static FaultResult faults(Path work, LoadGenerator load, int latencyMs, PrintStream log) throws Exception {
        try (FakeUpstream flaky = new FakeUpstream(latencyMs, 0.5, 3_000); FakeUpstream healthy = new FakeUpstream(latencyMs, 0, 0)) {
            KeelConfig config = KeelConfig.parse("""
                    server: {port: 0}
                    providers:
                      primary: {type: openai, base_url: "%s", max_retries: 2, first_byte_timeout_seconds: 1}
                      backup: {type: openai, base_url: "%s", max_retries: 2}
                    models:
                      bench:
                        targets:
                          - {provider: primary, model: bench-upstream}
                          - {provider: backup, model: bench-upstream}
                    """.formatted(flaky.baseUrl(), healthy.baseUrl()), k -> null);
            try (Keel keel = Keel.open(config, work.resolve("faults")); HttpServer server = new HttpServer(keel)) {
                URI uri = URI.create("http://127.0.0.1:" + server.start() + "/v1/chat/completions");
                log.println("gateway: fault run (primary fails 50%: 500 / 429 / stalls past the timeout)…");
                LoadGenerator.Run run = load.fixedRate(uri, Map.of("X-Keel-Tenant", "faults"), BODY, 100, Duration.ofSeconds(10));
                keel.ledger().flush();
                LocalDate today = LocalDate.now(ZoneOffset.UTC);
                long rows = keel.ledger().usage("faults", Ledger.GroupBy.MODEL, today.minusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli(),
                        today.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli()).stream().mapToLong(Ledger.Row::requests).sum();
                return new FaultResult(run.sent(), (double) run.ok() / run.sent(), rows, flaky.calls() + healthy.calls());
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
            return "node " + v;
        } catch (IOException | InterruptedException e) {
            return "node";
        }
    }
}
