package dev.keel.bench;

import dev.keel.config.RedisConfig;
import dev.keel.gateway.LimitStore;
import dev.keel.store.ApiKey;
import dev.keel.store.Database;
import dev.keel.store.Ledger;
import dev.keel.store.Redis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Admission throughput of one replica: admit + settle pairs of budgeted, rate-limited keys against
 * the in-process {@link LimitStore} and against Redis (same run, same load), so the cost of sharing
 * limits across replicas reads as a ratio, at each number of concurrent callers asked for. Limits
 * high enough that nothing is refused. Redis's own CPU per pair comes from its {@code INFO cpu}
 * (user + system seconds of the server process), read before and after each Redis phase.
 */
public final class LimitsBench {
    /** Per phase: pairs per second and the latency of one pair. */
    public record Phase(String store, int pairs, double pairsPerSecond, double p50Ms, double p99Ms) {}

    /**
     * Both stores at one number of concurrent callers; {@code redisCpuMsPerPair}: the Redis server's CPU per
     * admit + settle pair (two Lua calls), {@code redisCpuShare}: its CPU seconds per second of the phase (1.0 = one core).
     */
    public record Level(int threads, Phase inProcess, Phase redis, double redisCpuMsPerPair, double redisCpuShare) {}

    public record Result(int keys, List<Level> levels) {}

    /** Passes a request through every check without ever refusing it. */
    private static final long UNLIMITED_RATE = 1_000_000_000L;
    private static final double UNLIMITED_USD = 1e9;

    private LimitsBench() {}

    public static Result run(String redisUrl, int pairs, List<Integer> threads, int keys, Path work) throws Exception {
        RedisConfig config = new RedisConfig(redisUrl, RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN,
                RedisConfig.DEFAULTS.timeoutMs(), RedisConfig.DEFAULTS.reservationLeaseSeconds());
        RedisClient infoClient = RedisClient.create(redisUrl);
        try (Database db = Database.open(work); Ledger ledger = new Ledger(db); Redis redis = Redis.open(config, new SimpleMeterRegistry());
             StatefulRedisConnection<String, String> info = infoClient.connect()) {
            LimitStore local = LimitStore.inProcess(ledger), shared = LimitStore.redis(redis, config, ledger);
            measure("in-process", local, Math.min(pairs, 2000), threads.getFirst(), keys); // warm-up
            measure("redis", shared, Math.min(pairs, 2000), threads.getFirst(), keys);
            List<Level> levels = new ArrayList<>();
            for (int t : threads) {
                Phase inProcess = measure("in-process", local, pairs, t, keys);
                double cpuBefore = redisCpuSeconds(info);
                Phase viaRedis = measure("redis", shared, pairs, t, keys);
                double cpu = redisCpuSeconds(info) - cpuBefore;
                levels.add(new Level(t, inProcess, viaRedis, cpu * 1000 / pairs, cpu * viaRedis.pairsPerSecond() / pairs));
            }
            return new Result(keys, levels);
        } finally {
            infoClient.shutdown();
        }
    }

    /** The Redis server's CPU time so far (user + system, all its threads), from {@code INFO cpu}. */
    private static double redisCpuSeconds(StatefulRedisConnection<String, String> info) {
        double seconds = 0;
        for (String line : info.sync().info("cpu").split("\r?\n")) {
            if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) seconds += Double.parseDouble(line.substring(line.indexOf(':') + 1).strip());
        }
        return seconds;
    }

    private static Phase measure(String name, LimitStore store, int pairs, int threads, int keys) throws Exception {
        List<ApiKey> ks = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            ks.add(new ApiKey("key_bench_" + UUID.randomUUID().toString().replace("-", ""), "bench", "bench", "sk-keel-b", List.of(), UNLIMITED_RATE,
                    UNLIMITED_RATE, UNLIMITED_USD, UNLIMITED_USD, 0, 0, null, true, null, List.of()));
        }
        double[] latencies = new double[pairs];
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> all = new ArrayList<>(pairs);
            for (int i = 0; i < pairs; i++) {
                int n = i;
                all.add(pool.submit(() -> {
                    ApiKey key = ks.get(n % keys);
                    String permit = UUID.randomUUID().toString();
                    long t = System.nanoTime();
                    long tokens = store.admit(key, permit, 500, 0.001);
                    store.settle(key, permit, tokens, 300, 0.001, 0.0006);
                    latencies[n] = (System.nanoTime() - t) / 1e6;
                }));
            }
            for (Future<?> f : all) f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Phase(name, pairs, pairs / seconds, Measurements.percentile(latencies, 50), Measurements.percentile(latencies, 99));
    }
}
