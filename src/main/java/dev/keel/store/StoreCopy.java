package dev.keel.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Copies an installation's metadata (API keys, the usage ledger, the embedding cache) from one
 * database into another, typically the embedded file into a shared PostgreSQL. Resumable: each batch
 * is committed in the target together with how far the copy got ({@code migration_progress}, keyed
 * by {@code sourceId}), so a copy interrupted at any point and run again continues after the last
 * committed batch, with no row copied twice and none missed. Ledger rows get new ids in the target
 * (its live rows keep theirs); every other row keeps its key, and a key already present in the
 * target is left as it is. Not for a source that is being written meanwhile: stop the server first.
 */
public final class StoreCopy {
    /** How far one table got: {@code copied} of {@code total} rows. */
    public record Progress(String table, long copied, long total) {}

    /** Told of every batch just before it commits (a throw undoes that batch), and once more when a table is done. */
    @FunctionalInterface
    public interface Listener {
        void batchCopied(Progress progress);
    }

    /** A table, the columns that order and resume it, and the columns copied (without a generated id). */
    private record Table(String name, List<String> key, List<String> copied) {}

    private static final List<Table> TABLES = List.of(
            new Table("api_keys", List.of("id"), List.of("id", "name", "tenant", "key_hash", "prefix", "models", "requests_per_minute", "tokens_per_minute",
                    "daily_budget_usd", "monthly_budget_usd", "max_cost_per_request_usd", "created_at", "revoked_at", "cache", "guard_profile", "scopes", "guard_policy")),
            new Table("ledger", List.of("id"), List.of("ts", "key_id", "tenant", "model", "provider", "upstream_model", "prompt_tokens", "completion_tokens",
                    "cached_tokens", "cost_usd", "usage_estimated", "price_known", "latency_ms", "ttft_ms", "status", "trace_id", "cache", "route", "prompt_hash")),
            new Table("embedding_cache", List.of("model", "tenant", "text_hash"), List.of("model", "tenant", "text_hash", "vector")),
            new Table("embedding_refs", List.of("model", "tenant", "doc_id", "text_hash"), List.of("model", "tenant", "doc_id", "text_hash")));

    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();

    private StoreCopy() {}

    /** Copies every table in batches of {@code batchSize} rows; returns the rows copied by this run, all tables. */
    public static long copy(Database from, Database to, String sourceId, int batchSize, Listener listener) {
        long copied = 0;
        for (Table table : TABLES) copied += copy(table, from, to, sourceId, batchSize, listener);
        return copied;
    }

    private static long copy(Table table, Database from, Database to, String sourceId, int batchSize, Listener listener) {
        long total = from.withConnection(c -> count(c, table.name()));
        long copiedThisRun = 0;
        while (true) {
            Position position = to.withConnection(c -> position(c, sourceId, table.name()));
            List<List<Object>> rows = from.withConnection(c -> readAfter(c, table, position.key(), batchSize));
            if (rows.isEmpty()) {
                listener.batchCopied(new Progress(table.name(), position.copied(), total));
                return copiedThisRun;
            }
            long done = position.copied() + rows.size();
            to.inTransaction(c -> {
                write(c, table, rows);
                List<Object> last = rows.getLast().subList(0, table.key().size());
                savePosition(c, sourceId, table.name(), last, done);
                listener.batchCopied(new Progress(table.name(), done, total));
                return null;
            });
            copiedThisRun += rows.size();
        }
    }

    private record Position(List<Object> key, long copied) {}

    private static Position position(Connection c, String sourceId, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT position, copied FROM migration_progress WHERE source = ? AND item = ?")) {
            ps.setString(1, sourceId);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return new Position(null, 0);
                try {
                    return new Position(JSON.readValue(rs.getString(1), new TypeReference<List<Object>>() {}), rs.getLong(2));
                } catch (JsonProcessingException e) {
                    throw new SQLException("unreadable migration progress of " + table, e);
                }
            }
        }
    }

    private static void savePosition(Connection c, String sourceId, String table, List<Object> key, long copied) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO migration_progress (source, item, position, copied) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (source, item) DO UPDATE SET position = excluded.position, copied = excluded.copied")) {
            ps.setString(1, sourceId);
            ps.setString(2, table);
            ps.setString(3, JSON.writeValueAsString(key));
            ps.setLong(4, copied);
            ps.executeUpdate();
        } catch (JsonProcessingException e) {
            throw new SQLException("cannot record migration progress of " + table, e);
        }
    }

    /** The next rows after {@code after} in key order: the key columns first, then the copied ones. */
    private static List<List<Object>> readAfter(Connection c, Table table, List<Object> after, int limit) throws SQLException {
        String keys = String.join(", ", table.key());
        String where = after == null ? "" : " WHERE (" + keys + ") > (" + String.join(", ", Collections.nCopies(after.size(), "?")) + ")";
        String sql = "SELECT " + keys + ", " + String.join(", ", table.copied()) + " FROM " + table.name() + where + " ORDER BY " + keys + " LIMIT ?";
        List<List<Object>> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (after != null) for (Object v : after) ps.setObject(i++, v);
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                int columns = table.key().size() + table.copied().size();
                while (rs.next()) {
                    List<Object> row = new ArrayList<>(columns);
                    for (int col = 1; col <= columns; col++) row.add(rs.getObject(col));
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    private static void write(Connection c, Table table, List<List<Object>> rows) throws SQLException {
        String sql = "INSERT INTO " + table.name() + " (" + String.join(", ", table.copied()) + ") VALUES ("
                + String.join(", ", Collections.nCopies(table.copied().size(), "?")) + ")"
                + (table.name().equals("ledger") ? "" : " ON CONFLICT DO NOTHING");
        int offset = table.key().size();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (List<Object> row : rows) {
                for (int i = 0; i < table.copied().size(); i++) {
                    Object v = row.get(offset + i);
                    if (v == null) ps.setNull(i + 1, Types.NULL);
                    else ps.setObject(i + 1, v);
                }
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static long count(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + table); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }
}
