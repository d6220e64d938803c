package dev.keel.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The semantic response cache's rows in the shared PostgreSQL (table {@code semantic_cache}), and the
 * feed that keeps a replica's in-memory copy of them current. Writes ({@link #put}, {@link #delete}) are
 * queued and committed off the caller's thread in order, each change announced on channel
 * {@value #CHANNEL} in its transaction; nothing is thrown to the caller. A change that cannot be
 * committed (PostgreSQL down) is kept, up to a bound, and committed again after the listener reconnects
 * (a row then with what is left of its life); beyond the bound it is dropped and counted. A dedicated connection outside the pool LISTENs: at startup and
 * after every reconnection it hands the {@link Mirror} every live row (newest first, at most
 * {@code loadLimit}), then each batch of announced changes as the rows now stored for them, so a change
 * missed while disconnected is caught up by the reload. Times to live are counted by the server's clock,
 * so a row's remaining life is the same on every replica. Only rows of one tenant and key are ever
 * read together with their own tenant and key; the mirror owns tenant isolation of lookups.
 * Metrics: {@code keel.semantic_cache.failures} by operation (write, listen),
 * {@code keel.semantic_cache.dropped}, gauge {@code keel.semantic_cache.listening}. Thread-safe;
 * closing flushes queued writes and stops listening.
 */
public final class SemanticCacheTable implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SemanticCacheTable.class);
    /** The NOTIFY channel; a payload names one (tenant, key). */
    static final String CHANNEL = "keel_semantic_cache";
    /** How the listening connection shows in {@code pg_stat_activity}. */
    public static final String APPLICATION_NAME = "keel-semantic-cache";
    /** Writes waiting beyond which new ones are dropped: a store that stopped answering must not take the heap with it. */
    private static final int QUEUE_CAPACITY = 10_000;
    /** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a change that would need one is not stored. */
    private static final int MAX_PAYLOAD_BYTES = 7_999;
    /** How long one wait for notifications lasts: also how soon {@link #close()} stops the listener. */
    private static final int POLL_MILLIS = 250;
    /** A quiet connection is checked this often, so a server that vanished without closing it is noticed. */
    private static final long HEARTBEAT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int HEARTBEAT_TIMEOUT_SECONDS = 2;
    /** Pause between reconnection attempts while PostgreSQL is away: quick recovery, no busy loop. */
    private static final long RECONNECT_MILLIS = 500;
    /** Expired rows are deleted in passing, at most this often: they are already invisible to reads. */
    private static final long PURGE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Epoch milliseconds by the server's clock, so every replica counts a row's life alike. */
    private static final String NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
    private static final String COLUMNS = "SELECT tenant, key, scope, vector, entry, expires_at - " + NOW_MS + " FROM semantic_cache ";

    /** A stored row: {@code vector} and {@code entry} are opaque bytes to this class; {@code ttl} is what is left of its life. */
    public record Row(String tenant, String scope, String key, byte[] vector, byte[] entry, Duration ttl) {}

    /** One entry's identity. */
    public record Ref(String tenant, String key) {}

    /** Receives the table's state, on the listener's thread, one call at a time. */
    public interface Mirror {
        /** Every live row now (at most the load limit): replaces whatever the mirror held. */
        void reload(List<Row> live);

        /** These entries changed: {@code live} holds those still stored and live; any other was removed or expired. */
        void changed(Set<Ref> refs, List<Row> live);
    }

    private sealed interface Change permits Put, Delete {
        Ref ref();
    }

    /** {@code at}: when it was queued ({@link System#nanoTime()}), so a retried row keeps only what is left of its life. */
    private record Put(Row row, long at) implements Change {
        public Ref ref() {
            return new Ref(row.tenant, row.key);
        }

        Duration ttl() {
            return row.ttl.minusNanos(System.nanoTime() - at);
        }
    }

    private record Delete(Ref ref) implements Change {}

    private final PostgresDatabase db;
    private final int loadLimit;
    private final Mirror mirror;
    private final BatchWriter<Change> writer;
    private final Counter writeFailures, listenFailures, dropped;
    /** Changes that could not be committed, oldest first: queued again when the listener reconnects, as long as their rows live. */
    private final java.util.concurrent.BlockingQueue<Change> failed = new java.util.concurrent.LinkedBlockingQueue<>(QUEUE_CAPACITY);
    private final AtomicInteger listening;
    private final CountDownLatch firstLoad = new CountDownLatch(1), closing = new CountDownLatch(1);
    private final Thread listener;
    private long lastPurge = System.nanoTime() - PURGE_INTERVAL_NANOS; // the first write purges

    /**
     * Starts listening on {@code database} (which must be shared) and waits up to {@code startup} for the
     * first load, so a replica starts with what the others cached.
     */
    public SemanticCacheTable(Database database, int loadLimit, Duration startup, MeterRegistry registry, Mirror mirror) {
        if (!(database instanceof PostgresDatabase postgres)) throw new IllegalArgumentException("a shared semantic cache needs PostgreSQL");
        this.db = postgres;
        this.loadLimit = loadLimit;
        this.mirror = mirror;
        this.writeFailures = registry.counter("keel.semantic_cache.failures", "operation", "write");
        this.listenFailures = registry.counter("keel.semantic_cache.failures", "operation", "listen");
        this.dropped = registry.counter("keel.semantic_cache.dropped");
        this.listening = registry.gauge("keel.semantic_cache.listening", new AtomicInteger());
        this.writer = new BatchWriter<>("semantic-cache", Change.class, QUEUE_CAPACITY, this::write);
        this.listener = Thread.ofPlatform().name("keel-semantic-cache-listener").daemon(true).start(this::listen);
        try {
            if (!firstLoad.await(startup.toMillis(), TimeUnit.MILLISECONDS)) LOG.warn("semantic cache: no load from PostgreSQL at {} yet", db.address());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Queues a row to be stored for {@code row.ttl()} (replacing one of the same tenant and key) and announced. */
    public void put(Row row) {
        enqueue(new Put(row, System.nanoTime()));
    }

    /** Queues the removal of an entry, announced to every replica. */
    public void delete(String tenant, String key) {
        enqueue(new Delete(new Ref(tenant, key)));
    }

    /** Whether the listening connection is up (readiness and the metrics show it). */
    public boolean listening() {
        return listening.get() == 1;
    }

    /** Blocks until every change queued before this call was committed (or dropped). */
    public void flush() {
        writer.flush();
    }

    private void enqueue(Change change) {
        if (payload(change.ref()).getBytes(StandardCharsets.UTF_8).length > MAX_PAYLOAD_BYTES || !writer.add(change)) dropped.increment();
    }

    /** {@code <tenant length>:<tenant><key>}: the length ends the tenant wherever its own colons are. */
    private static String payload(Ref ref) {
        return ref.tenant.length() + ":" + ref.tenant + ref.key;
    }

    private static Ref parse(String payload) {
        int colon = payload.indexOf(':');
        int length = Integer.parseInt(payload.substring(0, colon));
        return new Ref(payload.substring(colon + 1, colon + 1 + length), payload.substring(colon + 1 + length));
    }

    private void write(List<Change> batch) {
        Map<Ref, Change> last = new LinkedHashMap<>();
        for (Change c : batch) last.put(c.ref(), c);
        boolean purge = System.nanoTime() - lastPurge >= PURGE_INTERVAL_NANOS;
        try {
            db.inTransaction(c -> {
                try (PreparedStatement upsert = c.prepareStatement("INSERT INTO semantic_cache (tenant, key, scope, vector, entry, expires_at)"
                        + " VALUES (?, ?, ?, ?, ?, " + NOW_MS + " + ?) ON CONFLICT (tenant, key) DO UPDATE SET scope = excluded.scope,"
                        + " vector = excluded.vector, entry = excluded.entry, expires_at = excluded.expires_at");
                     PreparedStatement delete = c.prepareStatement("DELETE FROM semantic_cache WHERE tenant = ? AND key = ?")) {
                    for (Change change : last.values()) {
                        switch (change) {
                            case Put p when !p.ttl().isPositive() -> {}
                            case Put p -> {
                                Row r = p.row;
                                upsert.setString(1, r.tenant);
                                upsert.setString(2, r.key);
                                upsert.setString(3, r.scope);
                                upsert.setBytes(4, r.vector);
                                upsert.setBytes(5, r.entry);
                                upsert.setLong(6, p.ttl().toMillis());
                                upsert.addBatch();
                            }
                            case Delete(Ref ref) -> {
                                delete.setString(1, ref.tenant);
                                delete.setString(2, ref.key);
                                delete.addBatch();
                            }
                        }
                    }
                    upsert.executeBatch();
                    delete.executeBatch();
                }
                try (PreparedStatement notify = c.prepareStatement("SELECT pg_notify('" + CHANNEL + "', p) FROM unnest(?::text[]) AS p")) {
                    notify.setArray(1, c.createArrayOf("text", last.keySet().stream().map(SemanticCacheTable::payload).toArray()));
                    notify.executeQuery().close();
                }
                if (purge) {
                    try (Statement s = c.createStatement()) {
                        s.executeUpdate("DELETE FROM semantic_cache WHERE expires_at <= " + NOW_MS);
                    }
                }
                return null;
            });
        } catch (StoreException e) {
            writeFailures.increment();
            for (Change c : last.values()) if (!failed.offer(c)) dropped.increment();
            throw e;
        }
        if (purge) lastPurge = System.nanoTime();
    }

    private void listen() {
        while (closing.getCount() > 0) {
            try (Connection c = db.connectOutsidePool(APPLICATION_NAME)) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                // Listening before loading: a change committed during the load is announced afterwards, so none falls between.
                mirror.reload(rows(c, "WHERE expires_at > " + NOW_MS + " ORDER BY expires_at DESC LIMIT " + loadLimit, null));
                if (listening.getAndSet(1) == 0 && firstLoad.getCount() == 0) LOG.info("semantic cache: listening to PostgreSQL at {} again", db.address());
                List<Change> retry = new ArrayList<>();
                failed.drainTo(retry);
                retry.forEach(this::enqueue);
                firstLoad.countDown();
                follow(c);
            } catch (SQLException | StoreException | IllegalArgumentException | IndexOutOfBoundsException e) {
                listenFailures.increment();
                if (listening.getAndSet(0) == 1) {
                    LOG.warn("semantic cache: lost PostgreSQL at {} ({}); serving this replica's copy, reconnecting", db.address(), e.getMessage());
                }
            }
            try {
                if (closing.await(RECONNECT_MILLIS, TimeUnit.MILLISECONDS)) return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Hands each batch of announced changes to the mirror until the connection fails or the table closes. */
    private void follow(Connection c) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        long lastHeard = System.nanoTime();
        while (closing.getCount() > 0) {
            PGNotification[] notes = pg.getNotifications(POLL_MILLIS);
            if (notes != null && notes.length > 0) {
                Set<Ref> refs = new java.util.LinkedHashSet<>();
                for (PGNotification n : notes) if (CHANNEL.equals(n.getName())) refs.add(parse(n.getParameter()));
                if (!refs.isEmpty()) mirror.changed(refs, rows(c, "WHERE (tenant, key) IN (SELECT * FROM unnest(?::text[], ?::text[]))"
                        + " AND expires_at > " + NOW_MS, refs));
                lastHeard = System.nanoTime();
            } else if (System.nanoTime() - lastHeard > HEARTBEAT_NANOS) {
                if (!c.isValid(HEARTBEAT_TIMEOUT_SECONDS)) throw new SQLException("no answer within " + HEARTBEAT_TIMEOUT_SECONDS + " s");
                lastHeard = System.nanoTime();
            }
        }
    }

    private static List<Row> rows(Connection c, String where, Set<Ref> refs) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(COLUMNS + where)) {
            if (refs != null) {
                ps.setArray(1, c.createArrayOf("text", refs.stream().map(Ref::tenant).toArray()));
                ps.setArray(2, c.createArrayOf("text", refs.stream().map(Ref::key).toArray()));
            }
            List<Row> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(rs.getString(1), rs.getString(3), rs.getString(2), rs.getBytes(4), rs.getBytes(5), Duration.ofMillis(rs.getLong(6))));
                }
            }
            return rows;
        }
    }

    @Override
    public void close() {
        closing.countDown();
        try {
            writer.close();
        } catch (StoreException e) {
            LOG.warn("semantic cache: changes not yet stored are dropped on close: {}", e.getMessage()); // the cache may forget; closing goes on
        } finally {
            try {
                listener.join(Duration.ofMillis(POLL_MILLIS * 4L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
