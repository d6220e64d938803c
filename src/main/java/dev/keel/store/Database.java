package dev.keel.store;

import dev.keel.config.StoreConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Keel's metadata database: the embedded SQLite file in the data directory (one connection,
 * serialised), or a shared PostgreSQL through a bounded connection pool (concurrent). Opening brings
 * the schema up to date with Flyway ({@code db/migration/sqlite|postgresql}: one logical schema) and
 * refuses a database written by a newer Keel. Thread-safe; {@link #withConnection} lends a connection
 * for one unit of work and never hands it to two callers at once. Closing releases the file or the pool.
 */
public abstract sealed class Database implements AutoCloseable permits EmbeddedDatabase, PostgresDatabase {
    /** What readiness shows of the store: its kind ({@code sqlite}, {@code postgresql}), address (never credentials) and whether it answers. */
    public record Health(String kind, String address, boolean reachable) {}

    /** Opens (or creates) the embedded database in {@code dataDir}. */
    public static Database open(Path dataDir) {
        return EmbeddedDatabase.openFile(dataDir);
    }

    /** The shared PostgreSQL when {@code config} names one (failing fast, naming its address, when it cannot be reached), else the embedded one in {@code dataDir}. */
    public static Database open(StoreConfig config, Path dataDir) {
        return config.shared() ? PostgresDatabase.connect(config) : open(dataDir);
    }

    /** Work against a connection that no one else uses meanwhile. */
    public abstract <T> T withConnection(SqlWork<T> work);

    /** Work in one transaction: committed when it returns, rolled back when it throws. */
    public <T> T inTransaction(SqlWork<T> work) {
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

    /** True when several Keel replicas may share this database: what one writes, the others read. */
    public abstract boolean shared();

    /**
     * Kind, address and whether the database answers now. Answers within {@link #HEALTH_TIMEOUT_SECONDS}
     * whatever the database does (a store slower than that counts as unreachable), and concurrent callers
     * share one probe, so frequent readiness checks during an outage neither stall nor pile up on the pool.
     */
    public Health health() {
        CompletableFuture<Boolean> running = probe.get();
        if (running == null || running.isDone()) {
            CompletableFuture<Boolean> next = new CompletableFuture<>();
            if (probe.compareAndSet(running, next)) {
                Thread.ofVirtual().name("keel-store-probe").start(() -> {
                    try {
                        next.complete(withConnection(c -> c.isValid(HEALTH_TIMEOUT_SECONDS)));
                    } catch (RuntimeException e) {
                        next.complete(false);
                    }
                });
            }
            running = probe.get();
        }
        boolean reachable;
        try {
            reachable = running.get(HEALTH_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            reachable = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reachable = false;
        }
        return new Health(dialect().folder, address(), reachable);
    }

    /** Readiness probes are frequent: a store that is this slow is reported unreachable rather than stalling the probe. */
    private static final int HEALTH_TIMEOUT_SECONDS = 2;
    private final AtomicReference<CompletableFuture<Boolean>> probe = new AtomicReference<>();

    /** Where the database is, for operators: never credentials. */
    abstract String address();

    abstract Dialect dialect();

    @Override
    public abstract void close();

    /** A unit of JDBC work. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T apply(Connection c) throws SQLException;
    }
}
