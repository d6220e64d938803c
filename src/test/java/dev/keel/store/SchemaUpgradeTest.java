package dev.keel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.GuardConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flyway takes over an embedded database written by the hand-written migrations, and guards versions. */
class SchemaUpgradeTest {
    private static final String SECRET = "sk-keel-legacy-secret-of-a-key-created-before-flyway";
    private static final long DAY_MS = 86_400_000L, JAN_2 = 1_704_153_600_000L; // 2024-01-02T00:00Z
    private static final int LATEST = 14;
    private static final float[] VECTOR = {0.25f, -1.5f, 3.0f};

    @TempDir
    Path dir;

    @Test
    void aDatabaseWrittenBeforeFlywayOpensWithAllItsKeysLedgerAndCachedVectors() throws Exception {
        try (Connection legacy = LegacyDatabase.create(dir, 7)) {
            insertKey(legacy, "key_a", "acme", SECRET, true);
            insertKey(legacy, "key_b", "acme", "sk-keel-revoked", false);
            try (Statement s = legacy.createStatement()) {
                s.execute("UPDATE api_keys SET cache = 0, guard_profile = 'STRICT' WHERE id = 'key_a'");
                s.execute("UPDATE api_keys SET revoked_at = 5 WHERE id = 'key_b'");
            }
            insertLedger(legacy, "acme", "key_a", JAN_2, 0.5);
            insertLedger(legacy, "acme", "key_a", JAN_2 + 1000, 0.25);
            insertLedger(legacy, "acme", null, JAN_2 + DAY_MS, 1.0);
            insertLedger(legacy, "other", null, JAN_2, 9.0);
            insertVector(legacy, "acme", "doc-1", "hash-1");
        }

        try (Database db = Database.open(dir); Ledger ledger = new Ledger(db)) {
            ApiKeys keys = new ApiKeys(db);
            ApiKey key = keys.authenticate(SECRET).orElseThrow();
            assertThat(key.tenant()).isEqualTo("acme");
            assertThat(key.models()).containsExactly("gpt-4o");
            assertThat(key.requestsPerMinute()).isEqualTo(60);
            assertThat(key.dailyBudgetUsd()).isEqualTo(1.5);
            assertThat(key.cache()).isFalse();
            assertThat(key.guardProfile()).isEqualTo(GuardConfig.Profile.STRICT);
            assertThat(keys.list()).extracting(ApiKey::id).containsExactly("key_a", "key_b");
            assertThat(keys.authenticate("sk-keel-revoked")).isEmpty();

            assertThat(ledger.usage("acme", Ledger.GroupBy.DAY, 0, Long.MAX_VALUE))
                    .extracting(Ledger.Row::group, Ledger.Row::requests, Ledger.Row::costUsd)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("2024-01-02", 2L, 0.75), org.assertj.core.groups.Tuple.tuple("2024-01-03", 1L, 1.0));
            assertThat(ledger.spentSince("key_a", 0)).isEqualTo(0.75);

            EmbeddingCache cache = new EmbeddingCache(db);
            assertThat(cache.getAll("bge", "acme", List.of("hash-1")).get("hash-1")).containsExactly(VECTOR);
            cache.release("bge", "acme", "doc-1");
            assertThat(cache.size()).as("the adopted reference still governs the vector").isZero();

            ledger.record(entry("acme", JAN_2 + 2 * DAY_MS));
            ledger.flush();
            assertThat(ledger.usage("acme", Ledger.GroupBy.DAY, 0, Long.MAX_VALUE)).hasSize(3);
        }
        assertThat(LegacyDatabase.userVersion(dir)).isEqualTo(LATEST);
        assertThat(history(dir)).startsWith("7:BASELINE").contains("8:SQL", "9:SQL");
    }

    @Test
    void anOlderDatabaseGetsTheLaterChangesOfTheOldSchemaApplied() throws Exception {
        try (Connection legacy = LegacyDatabase.create(dir, 5)) {
            try (PreparedStatement ps = legacy.prepareStatement("INSERT INTO api_keys (id, name, tenant, key_hash, prefix, models, requests_per_minute,"
                    + " tokens_per_minute, daily_budget_usd, monthly_budget_usd, max_cost_per_request_usd, created_at) VALUES ('key_old', 'n', 't', ?, 'sk-keel-', '[]', 0, 0, 0, 0, 0, 1)")) {
                ps.setString(1, ContentHash.sha256(SECRET));
                ps.executeUpdate();
            }
        }
        try (Database db = Database.open(dir)) {
            ApiKey key = new ApiKeys(db).authenticate(SECRET).orElseThrow();
            assertThat(key.cache()).as("version 6's default").isTrue();
            assertThat(key.guardProfile()).as("version 7's column").isNull();
        }
        assertThat(history(dir)).startsWith("5:BASELINE").contains("6:SQL", "7:SQL", "9:SQL");
    }

    @Test
    void aFreshDatabaseGetsTheWholeSchema() throws Exception {
        try (Database db = Database.open(dir)) {
            assertThat(tables(db)).contains("api_keys", "ledger", "embedding_cache", "embedding_refs", "traces", "migration_progress");
        }
        assertThat(history(dir)).startsWith("1:SQL").contains("9:SQL");
        assertThat(LegacyDatabase.userVersion(dir)).isEqualTo(LATEST);
    }

    @Test
    void reopeningRunsNothingAgain() throws Exception {
        Database.open(dir).close();
        List<String> before = history(dir);
        Database.open(dir).close();
        assertThat(history(dir)).isEqualTo(before);
    }

    @Test
    void aDatabaseFromBeforeFlywayButNewerThanThisKeelIsRefused() throws Exception {
        try (Connection legacy = LegacyDatabase.create(dir, 7); Statement s = legacy.createStatement()) {
            s.execute("PRAGMA user_version=42");
        }
        assertThatThrownBy(() -> Database.open(dir)).isInstanceOf(StoreException.class)
                .hasMessageContaining("database schema version 42 is newer than this Keel (" + LATEST + "); upgrade Keel");
    }

    @Test
    void aDatabaseMigratedByANewerKeelIsRefused() throws Exception {
        Database.open(dir).close();
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("keel.db")); Statement s = c.createStatement()) {
            s.execute("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)"
                    + " VALUES (100, '15', 'from the future', 'SQL', 'V15__future.sql', 0, 'keel', 1, 1)");
        }
        assertThatThrownBy(() -> Database.open(dir)).isInstanceOf(StoreException.class)
                .hasMessageContaining("database schema version 15 is newer than this Keel (" + LATEST + "); upgrade Keel");
    }

    @Test
    void aFailingMigrationIsRolledBackAndNamesTheScriptTheErrorAndTheVersionKept() throws Exception {
        try (Connection legacy = LegacyDatabase.create(dir, 5); Statement s = legacy.createStatement()) {
            s.execute("ALTER TABLE api_keys ADD COLUMN cache TEXT"); // hand-made drift: version 6 adds this column
        }
        assertThatThrownBy(() -> Database.open(dir)).isInstanceOf(StoreException.class)
                .hasMessageContaining("V6__api_keys_cache.sql")
                .hasMessageContaining("duplicate column name: cache")
                .hasMessageContaining("stays at version 5");
        assertThat(LegacyDatabase.userVersion(dir)).isEqualTo(5);

        try (Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("keel.db")); Statement s = c.createStatement()) {
            s.execute("ALTER TABLE api_keys DROP COLUMN cache"); // the operator repairs the drift
        }
        Database.open(dir).close();
        assertThat(LegacyDatabase.userVersion(dir)).isEqualTo(LATEST);
    }

    private static Ledger.Entry entry(String tenant, long ts) {
        return new Ledger.Entry(ts, null, tenant, "m", "p", "u", 1, 1, 0, 0.0, false, true, 1.0, null, 200, "trace", Ledger.Tags.NONE);
    }

    private static void insertKey(Connection c, String id, String tenant, String secret, boolean withModels) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys (id, name, tenant, key_hash, prefix, models, requests_per_minute,"
                + " tokens_per_minute, daily_budget_usd, monthly_budget_usd, max_cost_per_request_usd, created_at) VALUES (?, 'n', ?, ?, 'sk-keel-xxxx', ?, 60, 1000, 1.5, 20, 0.1, ?)")) {
            ps.setString(1, id);
            ps.setString(2, tenant);
            ps.setString(3, ContentHash.sha256(secret));
            ps.setString(4, withModels ? "[\"gpt-4o\"]" : "[]");
            ps.setLong(5, id.equals("key_a") ? 1 : 2);
            ps.executeUpdate();
        }
    }

    private static void insertLedger(Connection c, String tenant, String keyId, long ts, double cost) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO ledger (ts, key_id, tenant, model, prompt_tokens, completion_tokens, cached_tokens,"
                + " cost_usd, usage_estimated, price_known, latency_ms, status, trace_id, cache) VALUES (?, ?, ?, 'gpt-4o', 10, 5, 0, ?, 0, 1, 12.5, 200, 't', 'hit-exact')")) {
            ps.setLong(1, ts);
            ps.setString(2, keyId);
            ps.setString(3, tenant);
            ps.setDouble(4, cost);
            ps.executeUpdate();
        }
    }

    private static void insertVector(Connection c, String tenant, String doc, String hash) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(VECTOR.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(VECTOR);
        try (PreparedStatement v = c.prepareStatement("INSERT INTO embedding_cache VALUES ('bge', ?, ?, ?)");
             PreparedStatement r = c.prepareStatement("INSERT INTO embedding_refs VALUES ('bge', ?, ?, ?)")) {
            v.setString(1, tenant);
            v.setString(2, hash);
            v.setBytes(3, b.array());
            v.executeUpdate();
            r.setString(1, tenant);
            r.setString(2, doc);
            r.setString(3, hash);
            r.executeUpdate();
        }
    }

    /** Flyway's history as "version:type", in order. */
    private static List<String> history(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("keel.db")); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version, type FROM flyway_schema_history WHERE success = 1 ORDER BY installed_rank")) {
            while (rs.next()) out.add(rs.getString(1) + ":" + rs.getString(2));
        }
        return out;
    }

    private static Set<String> tables(Database db) {
        return db.withConnection(c -> {
            Set<String> names = new java.util.HashSet<>();
            try (ResultSet rs = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE"})) {
                while (rs.next()) names.add(rs.getString("TABLE_NAME").toLowerCase(java.util.Locale.ROOT));
            }
            return names;
        });
    }

}
