package dev.keel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.keel.config.GuardConfig;
import dev.keel.engines.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keys, the usage ledger and the embedding cache behave the same on the embedded SQLite file and on a
 * real PostgreSQL (started once for the class).
 */
class StoreConcernsTest {
    private static final long JAN_2 = 1_704_153_600_000L, DAY_MS = 86_400_000L; // 2024-01-02T00:00Z
    private static PostgresServer postgres;
    private final List<AutoCloseable> opened = new ArrayList<>();

    enum Kind { SQLITE, POSTGRESQL }

    static Stream<Kind> kinds() {
        return Stream.of(Kind.values());
    }

    static synchronized PostgresServer postgres() throws Exception {
        if (postgres == null) postgres = PostgresServer.start();
        return postgres;
    }

    @AfterAll
    static void stopPostgres() {
        if (postgres != null) postgres.close();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened.reversed()) c.close();
    }

    private Database open(Kind kind) throws Exception {
        Database db = switch (kind) {
            case SQLITE -> Database.open(Files.createTempDirectory("keel-store-"));
            case POSTGRESQL -> Database.open(postgres().storeConfig(), Path.of("unused"));
        };
        opened.add(db);
        return db;
    }

    private Ledger ledger(Database db) {
        Ledger ledger = new Ledger(db);
        opened.add(ledger);
        return ledger;
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aCreatedKeyAuthenticatesWithItsPolicyUntilRevoked(Kind kind) throws Exception {
        ApiKeys keys = new ApiKeys(open(kind));
        assertThat(keys.anyCreated()).isFalse();
        ApiKeys.Created created = keys.create("ci", "acme", List.of("gpt-4o"), 60, 1_000, 1.5, 20, 0.1, false, GuardConfig.Profile.TRUSTED, List.of());
        ApiKey key = keys.authenticate(created.secret()).orElseThrow();
        assertThat(key).isEqualTo(created.key());
        assertThat(keys.anyCreated()).isTrue();
        assertThat(keys.authenticate(created.secret() + "x")).isEmpty();
        assertThat(keys.revoke(key.id())).isTrue();
        assertThat(keys.revoke(key.id())).as("already revoked").isFalse();
        assertThat(keys.authenticate(created.secret())).isEmpty();
        assertThat(keys.list()).singleElement().satisfies(k -> assertThat(k.revokedAtMillis()).isNotNull());
        assertThat(keys.anyCreated()).as("revoking the last key does not reopen the server").isTrue();
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void theLedgerSumsOneTenantsRequestsByDayModelAndKey(Kind kind) throws Exception {
        Database db = open(kind);
        Ledger ledger = ledger(db);
        ledger.record(entry("acme", "key_a", "gpt-4o", JAN_2, 0.5, 200));
        ledger.record(entry("acme", "key_a", "gpt-4o", JAN_2 + 1_000, 0.25, 502));
        ledger.record(entry("acme", null, "small", JAN_2 + DAY_MS, 1.0, 200));
        ledger.record(entry("other", "key_o", "gpt-4o", JAN_2, 9.0, 200));
        ledger.flush();
        assertThat(ledger.usage("acme", Ledger.GroupBy.DAY, 0, Long.MAX_VALUE))
                .extracting(Ledger.Row::group, Ledger.Row::requests, Ledger.Row::costUsd, Ledger.Row::failedRequests, Ledger.Row::promptTokens)
                .containsExactly(tuple("2024-01-02", 2L, 0.75, 1L, 20L), tuple("2024-01-03", 1L, 1.0, 0L, 10L));
        assertThat(ledger.usage("acme", Ledger.GroupBy.KEY, 0, Long.MAX_VALUE)).extracting(Ledger.Row::group).containsExactly("key_a", "local");
        assertThat(ledger.usage("acme", Ledger.GroupBy.MODEL, JAN_2 + DAY_MS, Long.MAX_VALUE)).extracting(Ledger.Row::group).containsExactly("small");
        assertThat(ledger.spentSince("key_a", JAN_2 + 1)).isEqualTo(0.25);
        assertThat(ledger.spentSince("key_o", 0)).isEqualTo(9.0);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void cachedVectorsBelongToTheirTenantAndLiveAsLongAsADocumentUsesThem(Kind kind) throws Exception {
        EmbeddingCache cache = new EmbeddingCache(open(kind));
        float[] v = {1f, -2.5f, Float.MIN_VALUE, Float.MAX_VALUE};
        cache.keep("bge", "acme", "doc-1", Map.of("h1", v, "h2", new float[] {3f}));
        cache.keep("bge", "acme", "doc-2", Map.of("h1", v));
        assertThat(cache.getAll("bge", "acme", List.of("h1", "h2", "h3"))).containsOnlyKeys("h1", "h2");
        assertThat(cache.getAll("bge", "acme", List.of("h1")).get("h1")).containsExactly(v);
        assertThat(cache.getAll("bge", "other", List.of("h1"))).as("another tenant").isEmpty();
        assertThat(cache.getAll("other-model", "acme", List.of("h1"))).isEmpty();
        cache.release("bge", "acme", "doc-1");
        assertThat(cache.getAll("bge", "acme", List.of("h1", "h2"))).as("h1 still used by doc-2").containsOnlyKeys("h1");
        cache.release("bge", "acme", "doc-2");
        assertThat(cache.size()).isZero();
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void manyLookupsAtOnceGetEveryVectorBack(Kind kind) throws Exception {
        EmbeddingCache cache = new EmbeddingCache(open(kind));
        Map<String, float[]> vectors = new java.util.HashMap<>();
        for (int i = 0; i < 1_200; i++) vectors.put("h" + i, new float[] {i});
        cache.keep("bge", "acme", "big", vectors);
        assertThat(cache.getAll("bge", "acme", vectors.keySet())).hasSize(1_200);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void concurrentWritersLoseNothing(Kind kind) throws Exception {
        Database db = open(kind);
        Ledger ledger = ledger(db);
        EmbeddingCache cache = new EmbeddingCache(db);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        ledger.record(entry("acme", "key_" + thread, "m", JAN_2 + i, 0.01, 200));
                        cache.keep("bge", "acme", "doc-" + thread + "-" + i, Map.of("shared", new float[] {1f}, "own-" + thread + "-" + i, new float[] {2f}));
                    }
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdown();
        }
        ledger.flush();
        assertThat(ledger.usage("acme", Ledger.GroupBy.KEY, 0, Long.MAX_VALUE)).hasSize(8).allSatisfy(r -> assertThat(r.requests()).isEqualTo(50));
        assertThat(cache.size()).isEqualTo(8 * 50 + 1);
    }

    static Ledger.Entry entry(String tenant, String keyId, String model, long ts, double cost, int status) {
        return new Ledger.Entry(ts, keyId, tenant, model, "p", "u", 10, 5, 0, cost, false, true, 12.5, null, status, "trace", Ledger.Tags.NONE);
    }
}
