package dev.keel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.engines.PostgresServer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** An embedded installation copied into PostgreSQL: everything arrives once, also across interruptions. */
class StoreCopyTest {
    private static final int LEDGER_ROWS = 2_345, VECTORS = 321, BATCH = 100;
    private static final long JAN_2 = 1_704_153_600_000L;
    @RegisterExtension
    static final PostgresServer.PerClass POSTGRES = new PostgresServer.PerClass();

    @TempDir
    Path dir;
    private Database source, target;
    private String secret;


    @BeforeEach
    void anEmbeddedInstallationWithData() {
        source = Database.open(dir);
        ApiKeys keys = new ApiKeys(source);
        secret = keys.create("ci", "acme", List.of("gpt-4o"), 60, 1_000, 1.5, 20, 0.1, false, null, List.of("orders:write")).secret();
        keys.revoke(keys.create("old", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of()).key().id());
        try (Ledger ledger = new Ledger(source)) {
            for (int i = 0; i < LEDGER_ROWS; i++) {
                ledger.record(StoreConcernsTest.entry(i % 3 == 0 ? "other" : "acme", i % 2 == 0 ? "key_a" : null, "m" + i % 4, JAN_2 + i * 60_000L, 0.001 * i,
                        i % 50 == 0 ? 502 : 200));
            }
        }
        EmbeddingCache cache = new EmbeddingCache(source);
        Map<String, float[]> vectors = new HashMap<>();
        for (int i = 0; i < VECTORS; i++) vectors.put("h" + i, new float[] {i, -i, 0.5f});
        cache.keep("bge", "acme", "doc-1", vectors);
        cache.keep("bge", "other", "doc-9", Map.of("h1", new float[] {9f}));
        target = Database.open(POSTGRES.server().storeConfig(), dir);
    }

    @AfterEach
    void close() {
        source.close();
        target.close();
    }

    @Test
    void theCopyAnswersEveryQueryAsTheOriginalDoes() {
        long copied = StoreCopy.copy(source, target, "sqlite:test", BATCH, p -> {});
        assertThat(copied).isEqualTo(2 + LEDGER_ROWS + (VECTORS + 1) * 2);
        assertSameContent();
        assertThat(new ApiKeys(target).authenticate(secret)).get().extracting(ApiKey::scopes).isEqualTo(List.of("orders:write"));
    }

    @Test
    void anInterruptedCopyContinuesWithoutDuplicatesOrGaps() {
        AtomicInteger ledgerBatches = new AtomicInteger();
        assertThatThrownBy(() -> StoreCopy.copy(source, target, "sqlite:test", BATCH, p -> {
            if (p.table().equals("ledger") && ledgerBatches.incrementAndGet() == 7) throw new IllegalStateException("killed mid-batch");
        })).hasMessageContaining("killed mid-batch");
        assertThat(ledgerRows(target)).as("six committed batches, the seventh undone").isEqualTo(6 * BATCH);

        long second = StoreCopy.copy(source, target, "sqlite:test", BATCH, p -> {});
        assertThat(second).isEqualTo(LEDGER_ROWS - 6 * BATCH + (VECTORS + 1) * 2);
        assertSameContent();
    }

    @Test
    void runningACompleteCopyAgainCopiesNothing() {
        StoreCopy.copy(source, target, "sqlite:test", BATCH, p -> {});
        assertThat(StoreCopy.copy(source, target, "sqlite:test", BATCH, p -> {})).isZero();
        assertSameContent();
    }

    @Test
    void rowsAlreadyInTheTargetStay() {
        try (Ledger live = new Ledger(target)) {
            live.record(StoreConcernsTest.entry("acme", "key_live", "m", JAN_2, 5.0, 200));
        }
        StoreCopy.copy(source, target, "sqlite:test", BATCH, p -> {});
        assertThat(ledgerRows(target)).isEqualTo(LEDGER_ROWS + 1);
        assertThat(new Ledger(target).spentSince("key_live", 0)).isEqualTo(5.0);
    }

    private void assertSameContent() {
        try (Ledger from = new Ledger(source); Ledger to = new Ledger(target)) {
            for (String tenant : List.of("acme", "other")) {
                for (Ledger.GroupBy g : Ledger.GroupBy.values()) {
                    assertThat(to.usage(tenant, g, 0, Long.MAX_VALUE)).as(tenant + " by " + g).usingRecursiveFieldByFieldElementComparatorIgnoringFields("costUsd")
                            .isEqualTo(from.usage(tenant, g, 0, Long.MAX_VALUE));
                }
            }
            assertThat(to.spentSince("key_a", 0)).isCloseTo(from.spentSince("key_a", 0), org.assertj.core.data.Offset.offset(1e-9));
        }
        assertThat(ledgerRows(target)).isEqualTo(LEDGER_ROWS);
        assertThat(new ApiKeys(target).list()).isEqualTo(new ApiKeys(source).list());
        EmbeddingCache from = new EmbeddingCache(source), to = new EmbeddingCache(target);
        assertThat(to.size()).isEqualTo(from.size());
        List<String> hashes = java.util.stream.IntStream.range(0, VECTORS).mapToObj(i -> "h" + i).toList();
        assertThat(to.getAll("bge", "acme", hashes)).hasSize(VECTORS).allSatisfy((h, v) -> assertThat(v).containsExactly(from.getAll("bge", "acme", List.of(h)).get(h)));
        to.release("bge", "acme", "doc-1");
        assertThat(to.size()).as("references arrived too: releasing the document frees its vectors").isEqualTo(1);
    }

    private static long ledgerRows(Database db) {
        return db.withConnection(c -> {
            try (var rs = c.createStatement().executeQuery("SELECT count(*) FROM ledger")) {
                return rs.next() ? rs.getLong(1) : -1L;
            }
        });
    }
}
