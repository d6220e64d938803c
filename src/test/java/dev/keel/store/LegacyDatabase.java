package dev.keel.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * A metadata database as Keel wrote it before Flyway: the hand-written migrations of
 * {@code store/Database.java} at commit c4e82ae, verbatim, tracked in {@code PRAGMA user_version} and
 * nothing else. Fixture of the upgrade tests; never change these statements.
 */
final class LegacyDatabase {
    private static final List<String> MIGRATIONS = List.of(
            """
            CREATE TABLE embedding_cache (
              model TEXT NOT NULL,
              text_hash TEXT NOT NULL,
              vector BLOB NOT NULL,
              PRIMARY KEY (model, text_hash)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE ledger (
              id INTEGER PRIMARY KEY,
              ts INTEGER NOT NULL,
              key_id TEXT,
              tenant TEXT NOT NULL,
              model TEXT NOT NULL,
              provider TEXT,
              upstream_model TEXT,
              prompt_tokens INTEGER NOT NULL,
              completion_tokens INTEGER NOT NULL,
              cached_tokens INTEGER NOT NULL,
              cost_usd REAL NOT NULL,
              usage_estimated INTEGER NOT NULL,
              price_known INTEGER NOT NULL,
              latency_ms REAL NOT NULL,
              ttft_ms REAL,
              status INTEGER NOT NULL,
              trace_id TEXT NOT NULL
            );
            CREATE INDEX ledger_tenant_ts ON ledger (tenant, ts)
            """,
            """
            CREATE TABLE api_keys (
              id TEXT PRIMARY KEY,
              name TEXT NOT NULL,
              tenant TEXT NOT NULL,
              key_hash TEXT NOT NULL UNIQUE,
              prefix TEXT NOT NULL,
              models TEXT NOT NULL,
              requests_per_minute INTEGER NOT NULL,
              tokens_per_minute INTEGER NOT NULL,
              daily_budget_usd REAL NOT NULL,
              monthly_budget_usd REAL NOT NULL,
              max_cost_per_request_usd REAL NOT NULL,
              created_at INTEGER NOT NULL,
              revoked_at INTEGER
            );
            CREATE INDEX ledger_key_ts ON ledger (key_id, ts)
            """,
            // The embedding cache becomes per tenant and holds only chunk vectors, with the documents that use
            // them; the old cache (any text, no tenant) is dropped: it was only a cache.
            """
            DROP TABLE embedding_cache;
            CREATE TABLE embedding_cache (
              model TEXT NOT NULL,
              tenant TEXT NOT NULL,
              text_hash TEXT NOT NULL,
              vector BLOB NOT NULL,
              PRIMARY KEY (model, tenant, text_hash)
            ) WITHOUT ROWID;
            CREATE TABLE embedding_refs (
              model TEXT NOT NULL,
              tenant TEXT NOT NULL,
              doc_id TEXT NOT NULL,
              text_hash TEXT NOT NULL,
              PRIMARY KEY (model, tenant, doc_id, text_hash)
            ) WITHOUT ROWID;
            CREATE INDEX embedding_refs_text ON embedding_refs (model, tenant, text_hash)
            """,
            """
            ALTER TABLE ledger ADD COLUMN cache TEXT;
            ALTER TABLE ledger ADD COLUMN route TEXT;
            ALTER TABLE ledger ADD COLUMN prompt_hash TEXT
            """,
            // A key may forbid Keel's response caches for its requests (user-specific answers).
            """
            ALTER TABLE api_keys ADD COLUMN cache INTEGER NOT NULL DEFAULT 1
            """,
            // A key may name its guard profile (STRICT or TRUSTED); NULL: its tenant's.
            """
            ALTER TABLE api_keys ADD COLUMN guard_profile TEXT
            """);


    private LegacyDatabase() {}

    /** Creates {@code dataDir/keel.db} at schema {@code version} (1–7) exactly as that code did, and returns an open connection to it. */
    static Connection create(Path dataDir, int version) throws Exception {
        Files.createDirectories(dataDir);
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("keel.db"));
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            for (int i = 0; i < version; i++) {
                for (String statement : MIGRATIONS.get(i).split(";")) {
                    if (!statement.isBlank()) s.execute(statement);
                }
                s.execute("PRAGMA user_version=" + (i + 1));
            }
        }
        return c;
    }

    static int userVersion(Path dataDir) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("keel.db")); Statement s = c.createStatement();
             var rs = s.executeQuery("PRAGMA user_version")) {
            return rs.getInt(1);
        }
    }
}
