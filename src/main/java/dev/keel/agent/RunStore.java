package dev.keel.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.Jackson;
import dev.keel.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs and their event logs in the metadata database ({@code agent_runs}, {@code agent_events}, migration V13).
 * Appending event {@code n} succeeds for exactly one writer: the (run, seq) primary key refuses the second, which
 * learns it lost ({@link #append} returns false), so two threads or replicas never both act on one state. Each
 * append renews the writer's lease on the run; a replica resumes a running run only once its lease expired.
 * Thread-safe.
 */
final class RunStore {
    /** How long a run stays claimed after its last event: longer than any one model call (the gateway's deadline is 5 min). */
    static final Duration LEASE = Duration.ofMinutes(6);
    private static final ObjectMapper JSON = Jackson.api();
    private final Database db;

    RunStore(Database db) {
        this.db = db;
    }

    /** A run's row: who owns it and the status of its latest event. {@code scopes} null: every scope. */
    record Row(String id, String tenant, String agent, String keyId, List<String> scopes, RunStatus status) {}

    /** Creates a run with its plan (event 0), claimed by {@code owner}. */
    void create(Row row, RunEvent plan, String owner) {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO agent_runs (id, tenant, agent, key_id, scopes, status, created_at, updated_at,"
                    + " lease_owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, row.id());
                ps.setString(2, row.tenant());
                ps.setString(3, row.agent());
                ps.setString(4, row.keyId());
                ps.setString(5, row.scopes() == null ? null : write(row.scopes()));
                ps.setString(6, row.status().wire());
                ps.setLong(7, plan.atMillis());
                ps.setLong(8, plan.atMillis());
                ps.setString(9, owner);
                ps.setLong(10, plan.atMillis() + LEASE.toMillis());
                ps.executeUpdate();
            }
            insert(c, row.id(), plan);
            return null;
        });
    }

    /**
     * Appends {@code event} at its seq and, unless {@code status} is null, records it as the run's and renews
     * {@code owner}'s lease; false, changing nothing, when another writer appended that seq first.
     */
    boolean append(String runId, RunEvent event, RunStatus status, String owner) {
        if (status == null) return db.withConnection(c -> insert(c, runId, event));
        return db.inTransaction(c -> {
            if (!insert(c, runId, event)) return false;
            try (PreparedStatement ps = c.prepareStatement("UPDATE agent_runs SET status = ?, updated_at = ?, lease_owner = ?, lease_until = ? WHERE id = ?")) {
                ps.setString(1, status.wire());
                ps.setLong(2, event.atMillis());
                ps.setString(3, owner);
                ps.setLong(4, event.atMillis() + LEASE.toMillis());
                ps.setString(5, runId);
                ps.executeUpdate();
            }
            return true;
        });
    }

    private static boolean insert(java.sql.Connection c, String runId, RunEvent e) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO agent_events (run_id, seq, type, payload, tokens, cost_usd, at_ms)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, seq) DO NOTHING")) {
            ps.setString(1, runId);
            ps.setInt(2, e.seq());
            ps.setString(3, e.type().wire());
            ps.setString(4, write(e.payload()));
            ps.setLong(5, e.tokens());
            ps.setDouble(6, e.costUsd());
            ps.setLong(7, e.atMillis());
            return ps.executeUpdate() == 1;
        }
    }

    Optional<Row> run(String runId) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, tenant, agent, key_id, scopes, status FROM agent_runs WHERE id = ?")) {
                ps.setString(1, runId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) return Optional.<Row>empty();
                    String scopes = rs.getString(5);
                    return Optional.of(new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            scopes == null ? null : List.of(JSON.readValue(scopes, String[].class)), RunStatus.ofWire(rs.getString(6))));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException("unreadable scopes of run " + runId, e);
                }
            }
        });
    }

    /** The run's events in order. */
    List<RunEvent> events(String runId) {
        return db.withConnection(c -> {
            List<RunEvent> events = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, type, payload, tokens, cost_usd, at_ms FROM agent_events WHERE run_id = ? ORDER BY seq")) {
                ps.setString(1, runId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        events.add(new RunEvent(rs.getInt(1), RunEvent.Type.ofWire(rs.getString(2)), (ObjectNode) JSON.readTree(rs.getString(3)),
                                rs.getLong(4), rs.getDouble(5), rs.getLong(6)));
                    }
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException("unreadable event of run " + runId, e);
                }
            }
            return events;
        });
    }

    /**
     * Claims the runs left {@code running} whose lease expired before {@code now} (with the embedded store, every one:
     * the process that ran them is gone), for {@code owner}; returns their ids.
     */
    List<String> claimInterrupted(String owner, long now) {
        List<String> candidates = db.withConnection(c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM agent_runs WHERE status = ? AND (lease_until < ? OR ?)")) {
                ps.setString(1, RunStatus.RUNNING.wire());
                ps.setLong(2, now);
                ps.setBoolean(3, !db.shared());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) ids.add(rs.getString(1));
                }
            }
            return ids;
        });
        List<String> claimed = new ArrayList<>();
        for (String id : candidates) {
            boolean won = db.withConnection(c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE agent_runs SET lease_owner = ?, lease_until = ? WHERE id = ? AND status = ?"
                        + " AND (lease_until < ? OR ?)")) {
                    ps.setString(1, owner);
                    ps.setLong(2, now + LEASE.toMillis());
                    ps.setString(3, id);
                    ps.setString(4, RunStatus.RUNNING.wire());
                    ps.setLong(5, now);
                    ps.setBoolean(6, !db.shared());
                    return ps.executeUpdate() == 1;
                }
            });
            if (won) claimed.add(id);
        }
        return claimed;
    }

    private static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
