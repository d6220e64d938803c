package dev.keel.store;

import dev.keel.trace.Traces;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Finished traces in the shared database, so that every replica answers {@code GET /v1/traces/{id}}:
 * written off the request path in batches (a trace saved again, after late attributes, replaces its
 * row), answerable for {@code retention} after it was last saved, then deleted, and found only with
 * the tenant that owns it. Stores the trace's API JSON as given (already free of raw user text).
 * Thread-safe; closing flushes.
 */
public final class TraceArchive implements Traces.Archive, AutoCloseable {
    /** Traces waiting to be written beyond which new ones are dropped (their replica still shows them). */
    private static final int QUEUE_CAPACITY = 20_000;
    /** Expired rows are deleted in passing, at most this often: they are already invisible to reads. */
    private static final long PURGE_INTERVAL_MS = 60_000;

    private record Saved(String id, String tenant, long savedAtMillis, byte[] json) {}

    private final Database db;
    private final long retentionMs;
    private final LongSupplier clock;
    private final BatchWriter<Saved> writer;
    private long lastPurgeMillis; // 0: never, so the first write purges

    public TraceArchive(Database db, Duration retention) {
        this(db, retention, System::currentTimeMillis);
    }

    TraceArchive(Database db, Duration retention, LongSupplier clock) {
        this.db = db;
        this.retentionMs = retention.toMillis();
        this.clock = clock;
        this.writer = new BatchWriter<>("traces", Saved.class, QUEUE_CAPACITY, this::write);
    }

    @Override
    public void save(String id, String tenant, byte[] json) {
        writer.add(new Saved(id, tenant, clock.getAsLong(), json));
    }

    @Override
    public Optional<byte[]> find(String id, String tenant) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT json FROM traces WHERE id = ? AND tenant = ? AND finished_at >= ?")) {
                ps.setString(1, id);
                ps.setString(2, tenant);
                ps.setLong(3, clock.getAsLong() - retentionMs);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
                }
            }
        });
    }

    /** Blocks until every trace saved before this call is stored. */
    public void flush() {
        writer.flush();
    }

    private void write(List<Saved> batch) {
        Map<String, Saved> latest = new LinkedHashMap<>();
        for (Saved s : batch) latest.put(s.id(), s);
        long now = clock.getAsLong();
        boolean purge = now - lastPurgeMillis >= PURGE_INTERVAL_MS;
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO traces (id, tenant, finished_at, json) VALUES (?, ?, ?, ?) ON CONFLICT (id)"
                    + " DO UPDATE SET tenant = excluded.tenant, finished_at = excluded.finished_at, json = excluded.json")) {
                for (Saved s : latest.values()) {
                    ps.setString(1, s.id());
                    ps.setString(2, s.tenant());
                    ps.setLong(3, s.savedAtMillis());
                    ps.setBytes(4, s.json());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            if (purge) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM traces WHERE finished_at < ?")) {
                    ps.setLong(1, now - retentionMs);
                    ps.executeUpdate();
                }
            }
            return null;
        });
        if (purge) lastPurgeMillis = now;
    }

    @Override
    public void close() {
        writer.close();
    }
}
