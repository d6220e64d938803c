package dev.keel.gateway;

import dev.keel.config.CacheConfig;
import dev.keel.embed.Vectors;
import dev.keel.engines.PostgresServer;
import dev.keel.store.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

/**
 * Times the shared semantic cache over a real PostgreSQL on loopback and prints the figures (a
 * measurement, not a test: absolute times vary on shared machines): the cost of a nearest lookup
 * answered from a replica's in-memory copy next to the in-process cache's, with the same entries; and
 * how long an entry put through one replica takes to be found by another (put to first hit, p50/p99).
 * Run after {@code mvn test-compile}: {@code java -cp target/classes:target/test-classes:CLASSPATH
 * dev.keel.gateway.SemanticCacheTiming}.
 */
final class SemanticCacheTiming {
    /** bge-small's dimension, and a scope as full as one busy tenant's. */
    private static final int DIMENSION = 384, ENTRIES = 1_000, WARMUP = 20_000, RUNS = 50_000, PUTS = 300;
    private static final Duration VISIBLE = Duration.ofSeconds(10);

    public static void main(String[] args) throws Exception {
        Random random = new Random(42);
        List<float[]> vectors = new ArrayList<>();
        for (int i = 0; i < ENTRIES; i++) vectors.add(vector(random));
        ResponseCache.Entry entry = new ResponseCache.Entry("{\"answer\":\"x\"}".getBytes(StandardCharsets.UTF_8), 0.001, List.of(), WordOrder.NONE);
        try (PostgresServer postgres = PostgresServer.start()) {
            var store = postgres.storeConfig(); // one new database for both replicas
            try (Database two = Database.open(store, Path.of("/nonexistent"));
                 Database first = Database.open(store, Path.of("/nonexistent"));
                 PostgresResponseCache writer = new PostgresResponseCache(first, CacheConfig.DEFAULTS, new CaffeineResponseCache(CacheConfig.DEFAULTS),
                         Duration.ofSeconds(10), new SimpleMeterRegistry());
                 PostgresResponseCache reader = new PostgresResponseCache(two, CacheConfig.DEFAULTS, new CaffeineResponseCache(CacheConfig.DEFAULTS),
                         Duration.ofSeconds(10), new SimpleMeterRegistry())) {
                CaffeineResponseCache inProcess = new CaffeineResponseCache(CacheConfig.DEFAULTS);
                for (int i = 0; i < ENTRIES; i++) {
                    inProcess.putSimilar("t", "s", "k" + i, vectors.get(i), entry);
                    writer.putSimilar("t", "s", "k" + i, vectors.get(i), entry);
                }
                writer.flush();
                float[] last = vectors.getLast();
                long deadline = System.nanoTime() + VISIBLE.toNanos();
                while (reader.nearest("t", "s", () -> last, 0.999, e -> true).isEmpty() && System.nanoTime() < deadline) LockSupport.parkNanos(1_000_000);
                System.out.println("nearest over " + ENTRIES + " entries, in-process cache: " + lookups(inProcess, random));
                System.out.println("nearest over " + ENTRIES + " entries, shared copy:      " + lookups(reader, random));
                System.out.println("visible on the other replica after put (" + PUTS + " puts): " + visibility(writer, reader, entry, random));
            }
        }
    }

    private static float[] vector(Random random) {
        float[] v = new float[DIMENSION];
        for (int i = 0; i < DIMENSION; i++) v[i] = (float) random.nextGaussian();
        return Vectors.normalize(v);
    }

    private static String lookups(ResponseCache cache, Random random) {
        float[] query = vector(random);
        for (int i = 0; i < WARMUP; i++) cache.nearest("t", "s", () -> query, 0.95, e -> true);
        long[] nanos = new long[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long start = System.nanoTime();
            cache.nearest("t", "s", () -> query, 0.95, e -> true);
            nanos[i] = System.nanoTime() - start;
        }
        return percentiles(nanos, 1_000, "µs");
    }

    private static String visibility(PostgresResponseCache writer, PostgresResponseCache reader, ResponseCache.Entry entry, Random random) {
        long[] nanos = new long[PUTS];
        for (int i = 0; i < PUTS; i++) {
            float[] v = vector(random);
            long start = System.nanoTime();
            writer.putSimilar("t", "visible", "v" + i, v, entry);
            while (reader.nearest("t", "visible", () -> v, 0.999, e -> true).isEmpty()) {
                if (System.nanoTime() - start > VISIBLE.toNanos()) throw new IllegalStateException("put " + i + " not visible within " + VISIBLE);
                LockSupport.parkNanos(20_000);
            }
            nanos[i] = System.nanoTime() - start;
        }
        return percentiles(nanos, 1_000_000, "ms");
    }

    private static String percentiles(long[] nanos, double per, String unit) {
        Arrays.sort(nanos);
        return String.format("p50 %.3f %s, p99 %.3f %s", nanos[nanos.length / 2] / per, unit, nanos[nanos.length * 99 / 100] / per, unit);
    }
}
