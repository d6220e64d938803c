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
                s.execute(MIGRATIONS.get(i));
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
