package dev.keel.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** The SQLite file {@code keel.db} in the data directory, in WAL mode: one connection, serialised by this object's monitor. */
final class EmbeddedDatabase extends Database {
    private final Connection connection;
    private final Path file;

    private EmbeddedDatabase(Connection connection, Path file) {
        this.connection = connection;
        this.file = file;
    }

    static EmbeddedDatabase openFile(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
            Path file = dataDir.resolve("keel.db");
            String url = "jdbc:sqlite:" + file;
            Connection c = DriverManager.getConnection(url);
            try {
                try (Statement s = c.createStatement()) {
                    s.execute("PRAGMA journal_mode=WAL");
                    s.execute("PRAGMA synchronous=NORMAL");
                    s.execute("PRAGMA busy_timeout=5000");
                }
                SchemaMigrations.apply(Dialect.SQLITE, url, new Properties());
            } catch (RuntimeException | SQLException e) {
                c.close();
                throw e;
            }
            return new EmbeddedDatabase(c, file);
        } catch (Exception e) {
            throw new StoreException("cannot open the metadata database in " + dataDir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized <T> T withConnection(SqlWork<T> work) {
        try {
            return work.apply(connection);
        } catch (SQLException e) {
            throw new StoreException("database error: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized <T> T inTransaction(SqlWork<T> work) {
        return super.inTransaction(work);
    }

    @Override
    public boolean shared() {
        return false;
    }

    @Override
    String address() {
        return file.toString();
    }

    @Override
    Dialect dialect() {
        return Dialect.SQLITE;
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new StoreException("cannot close the database: " + e.getMessage(), e);
        }
    }
}
