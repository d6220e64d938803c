package dev.keel.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.keel.config.StoreConfig;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A shared PostgreSQL behind a HikariCP pool of {@code store.pool_size} connections: callers run
 * concurrently, each on its own connection. Connecting, waiting for a pooled connection and every
 * statement's wait for the server are bounded by {@code store.timeout_ms}. Messages name the address,
 * never the user's password.
 */
final class PostgresDatabase extends Database {
    private final HikariDataSource pool;
    private final String address;
    private final String url;
    private final Properties properties;

    private PostgresDatabase(HikariDataSource pool, String address, String url, Properties properties) {
        this.pool = pool;
        this.address = address;
        this.url = url;
        this.properties = properties;
    }

    static PostgresDatabase connect(StoreConfig config) {
        Properties properties = connectionProperties(config);
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("keel-store");
        hikari.setJdbcUrl(config.url());
        hikari.setDataSourceProperties(properties);
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setConnectionTimeout(Math.max(250, config.timeoutMs()));
        hikari.setValidationTimeout(Math.max(250, Math.min(config.timeoutMs(), 5_000)));
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hikari);
        } catch (RuntimeException e) {
            throw new StoreException("cannot reach PostgreSQL at " + config.address() + ": " + SchemaMigrations.rootMessage(e), e);
        }
        try {
            SchemaMigrations.apply(Dialect.POSTGRESQL, config.url(), properties);
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw new StoreException("cannot migrate the metadata database at PostgreSQL " + config.address() + ": " + e.getMessage(), e);
        }
        return new PostgresDatabase(pool, config.address(), config.url(), properties);
    }

    /** The driver's properties: credentials kept out of the URL, and timeouts on connecting and on every read. */
    private static Properties connectionProperties(StoreConfig config) {
        Properties p = new Properties();
        if (config.user() != null) p.setProperty("user", config.user());
        if (config.password() != null) p.setProperty("password", config.password());
        int seconds = (int) Math.max(1, Math.ceil(config.timeoutMs() / 1000.0));
        p.setProperty("connectTimeout", String.valueOf(seconds));
        p.setProperty("loginTimeout", String.valueOf(seconds));
        p.setProperty("socketTimeout", String.valueOf(Math.max(seconds, MIN_SOCKET_TIMEOUT_SECONDS)));
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("reWriteBatchedInserts", "true"); // a ledger or trace batch becomes a few multi-row INSERTs, not one round trip per row
        p.setProperty("ApplicationName", "keel");
        return p;
    }

    /** A read may legitimately take a while (a month's usage sums); a dead server must not hold a request for ever. */
    private static final int MIN_SOCKET_TIMEOUT_SECONDS = 30;

    @Override
    public <T> T withConnection(SqlWork<T> work) {
        try (Connection c = pool.getConnection()) {
            return work.apply(c);
        } catch (SQLException e) {
            // A failed batch's own message repeats the statement with every value: say what the server said instead.
            String message = e instanceof BatchUpdateException && e.getNextException() != null ? e.getNextException().getMessage() : e.getMessage();
            throw new StoreException("database error (PostgreSQL at " + address + "): " + message, e);
        }
    }

    /**
     * A connection of its own, outside the pool and with the pool's timeouts, for a session that lives
     * long (LISTEN), shown to operators as {@code applicationName}: the caller closes it. Its failure
     * names the address, never the password.
     */
    Connection connectOutsidePool(String applicationName) {
        Properties own = new Properties();
        own.putAll(properties);
        own.setProperty("ApplicationName", applicationName);
        try {
            return DriverManager.getConnection(url, own);
        } catch (SQLException e) {
            throw new StoreException("cannot reach PostgreSQL at " + address + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    String address() {
        return address;
    }

    @Override
    Dialect dialect() {
        return Dialect.POSTGRESQL;
    }

    @Override
    public void close() {
        pool.close();
    }
}
