package dev.keel.store;

import dev.keel.engines.PostgresServer;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Times the store on the embedded database and on a real PostgreSQL over loopback and prints the
 * figures (a measurement, not a test: absolute times vary on shared machines): {@link ApiKeys#authenticate}
 * without its cache (every call a lookup by hash) and with it, p50/p99 per call, the measurement behind
 * {@link ApiKeys#SHARED_CACHE_TTL}; and ledger entries and shared traces written per second by their
 * background writers. Run after {@code mvn test-compile}: {@code java -cp
 * target/classes:target/test-classes:CLASSPATH dev.keel.store.StoreTiming}.
 */
final class StoreTiming {
    private static final int KEYS = 1_000, WARMUP = 2_000, RUNS = 5_000, WRITES = 50_000;
    private static final byte[] TRACE = ("{\"id\":\"x\",\"name\":\"POST /v1/chat/completions\",\"spans\":[" + "{\"name\":\"provider\",\"duration_ms\":12.5},".repeat(8)
            + "{}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        try (PostgresServer postgres = PostgresServer.start();
             Database embedded = Database.open(Files.createTempDirectory("keel-timing-"));
             Database shared = Database.open(postgres.storeConfig(), Files.createTempDirectory("keel-timing-"))) {
            for (Database db : List.of(embedded, shared)) {
                String kind = db.health().kind();
                List<String> secrets = create(new ApiKeys(db, Duration.ZERO));
                System.out.println(kind + " uncached: " + time(new ApiKeys(db, Duration.ZERO), secrets));
                System.out.println(kind + " cached:   " + time(new ApiKeys(db, Duration.ofHours(1)), secrets));
                System.out.println(kind + " ledger:   " + ledgerWrites(db));
                if (db.shared()) System.out.println(kind + " traces:   " + traceWrites(db));
            }
        }
    }

    private static String ledgerWrites(Database db) {
        try (Ledger ledger = new Ledger(db)) {
            long start = System.nanoTime();
            for (int i = 0; i < WRITES; i++) {
                ledger.record(new Ledger.Entry(System.currentTimeMillis(), "key_" + i % 100, "t" + i % 10, "gpt-4o-mini", "openai", "gpt-4o-mini", 500, 200, 0,
                        0.0004, false, true, 850.0, null, 200, "trace-" + i, Ledger.Tags.NONE));
            }
            ledger.flush();
            return String.format("%,.0f entries/s stored (%d recorded, then flushed)", WRITES / ((System.nanoTime() - start) / 1e9), WRITES);
        }
    }

    private static String traceWrites(Database db) {
        try (TraceArchive archive = new TraceArchive(db, Duration.ofHours(1))) {
            long start = System.nanoTime();
            for (int i = 0; i < WRITES; i++) archive.save("trace-" + i, "t" + i % 10, TRACE);
            archive.flush();
            return String.format("%,.0f traces/s stored (%d of %d bytes)", WRITES / ((System.nanoTime() - start) / 1e9), WRITES, TRACE.length);
        }
    }

    private static List<String> create(ApiKeys keys) {
        List<String> secrets = new ArrayList<>();
        for (int i = 0; i < KEYS; i++) secrets.add(keys.create("k" + i, "t" + i % 10, List.of(), 0, 0, 0, 0, 0, true, null, List.of()).secret());
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
