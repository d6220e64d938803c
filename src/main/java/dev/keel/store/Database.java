package dev.keel.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Keel's embedded metadata database (SQLite, WAL mode) in the data directory. Schema changes are
 * ordered migrations tracked in {@code PRAGMA user_version}. One connection, serialised by this
 * object's monitor; callers use {@link #withConnection}. Closing releases the file.
 */
public final class Database implements AutoCloseable {
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

    private final Connection connection;

    private Database(Connection connection) {
        this.connection = connection;
    }

    public static Database open(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("keel.db"));
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=NORMAL");
                s.execute("PRAGMA busy_timeout=5000");
            }
            migrate(c);
            return new Database(c);
        } catch (Exception e) {
            throw new StoreException("cannot open the metadata database in " + dataDir + ": " + e.getMessage(), e);
        }
    }

    private static void migrate(Connection c) throws SQLException {
        int version;
        try (Statement s = c.createStatement(); var rs = s.executeQuery("PRAGMA user_version")) {
            version = rs.next() ? rs.getInt(1) : 0;
        }
        if (version > MIGRATIONS.size()) {
            throw new SQLException("database schema version " + version + " is newer than this Keel (" + MIGRATIONS.size() + "); upgrade Keel");
        }
        for (int i = version; i < MIGRATIONS.size(); i++) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                for (String statement : MIGRATIONS.get(i).split(";")) {
                    if (!statement.isBlank()) s.execute(statement);
                }
                s.execute("PRAGMA user_version=" + (i + 1));
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** Work against the connection, serialised with all other users. */
    public synchronized <T> T withConnection(SqlWork<T> work) {
        try {
            return work.apply(connection);
        } catch (SQLException e) {
            throw new StoreException("database error: " + e.getMessage(), e);
        }
    }

    /** Work in one transaction: committed when it returns, rolled back when it throws. */
    public synchronized <T> T inTransaction(SqlWork<T> work) {
        return withConnection(c -> {
            c.setAutoCommit(false);
            try {
                T result = work.apply(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new StoreException("cannot close the database: " + e.getMessage(), e);
        }
    }

    /** A unit of JDBC work. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T apply(Connection c) throws SQLException;
    }
}
