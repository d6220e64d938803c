package dev.keel.store;

import dev.keel.engines.PostgresServer;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Times {@link ApiKeys#authenticate} without its cache (every call a lookup by hash) on the embedded
 * database and on a real PostgreSQL over loopback, and with the cache, and prints p50/p99 per call: the
 * measurement behind {@link ApiKeys#SHARED_CACHE_TTL} (a measurement, not a test: absolute times vary
 * on shared machines). Run after {@code mvn test-compile}: {@code java -cp
 * target/classes:target/test-classes:CLASSPATH dev.keel.store.KeyLookupTiming}.
 */
final class KeyLookupTiming {
    private static final int KEYS = 1_000, WARMUP = 2_000, RUNS = 5_000;

    public static void main(String[] args) throws Exception {
        try (PostgresServer postgres = PostgresServer.start();
             Database embedded = Database.open(Files.createTempDirectory("keel-timing-"));
             Database shared = Database.open(postgres.storeConfig(), Files.createTempDirectory("keel-timing-"))) {
            for (Database db : List.of(embedded, shared)) {
                String kind = db.health().kind();
                List<String> secrets = create(new ApiKeys(db, Duration.ZERO));
                System.out.println(kind + " uncached: " + time(new ApiKeys(db, Duration.ZERO), secrets));
                System.out.println(kind + " cached:   " + time(new ApiKeys(db, Duration.ofHours(1)), secrets));
            }
        }
    }

    private static List<String> create(ApiKeys keys) {
        List<String> secrets = new ArrayList<>();
        for (int i = 0; i < KEYS; i++) secrets.add(keys.create("k" + i, "t" + i % 10, List.of(), 0, 0, 0, 0, 0, true, null).secret());
        return secrets;
    }

    private static String time(ApiKeys keys, List<String> secrets) {
        Random random = new Random(42);
        for (int i = 0; i < WARMUP; i++) keys.authenticate(secrets.get(random.nextInt(KEYS))).orElseThrow();
        long[] nanos = new long[RUNS];
        for (int i = 0; i < RUNS; i++) {
            String secret = secrets.get(random.nextInt(KEYS));
            long start = System.nanoTime();
            keys.authenticate(secret).orElseThrow();
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        return String.format("p50 %.3f ms, p99 %.3f ms per lookup (%d lookups over %d keys)", nanos[RUNS / 2] / 1e6, nanos[RUNS * 99 / 100] / 1e6, RUNS, KEYS);
    }
}
