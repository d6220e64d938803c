package dev.keel.eval;

import dev.keel.embed.Vectors;
import dev.keel.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Online evaluation's tables in the metadata database ({@code V11__online_eval.sql}): per tenant, bucket and metric
 * the count, sum and sum of squares of the sampled values; per tenant and bucket the summed query vectors; the alert
 * episodes in progress. Rows carry this process's {@code writer} id and only this process updates them, so replicas
 * sharing PostgreSQL add up without a lost update; reads sum every writer's rows. Parameterised SQL only. Thread-safe
 * as the {@link Database} is; {@link #add} must be called from one thread (it reads, adds to and rewrites its vectors).
 */
final class OnlineSampleStore {
    /** A tenant's summed unit query vectors over some buckets, and how many were summed. */
    record Centroid(long n, double[] sum) {
        static final Centroid NONE = new Centroid(0, new double[0]);

        /** Cosine distance between the directions of two sums; NaN when either is empty or they differ in dimension. */
        double distance(Centroid other) {
            if (n == 0 || other.n == 0 || sum.length != other.sum.length) return Double.NaN;
            double dot = 0, a = 0, b = 0;
            for (int i = 0; i < sum.length; i++) {
                dot += sum[i] * other.sum[i];
                a += sum[i] * sum[i];
                b += other.sum[i] * other.sum[i];
            }
            return a == 0 || b == 0 ? Double.NaN : 1 - dot / Math.sqrt(a * b);
        }
    }

    private final Database db;
    private final String writer;

    OnlineSampleStore(Database db, String writer) {
        this.db = db;
        this.writer = writer;
    }

    /** Adds the samples to their tenants' buckets, in one transaction. */
    void add(List<OnlineSample> samples, long bucketMillis) {
        Map<List<Object>, Moments> stats = new LinkedHashMap<>();
        Map<List<Object>, float[]> vectors = new LinkedHashMap<>();
        Map<List<Object>, Integer> counts = new HashMap<>();
        for (OnlineSample s : samples) {
            long bucket = Math.floorDiv(s.atMillis(), bucketMillis) * bucketMillis;
            s.values().forEach((metric, v) -> stats.merge(List.of(s.tenant(), bucket, metric), Moments.of(v), Moments::plus));
            if (s.query() != null) {
                List<Object> key = List.of(s.tenant(), bucket);
                float[] sum = vectors.get(key);
                if (sum != null && sum.length != s.query().length) continue; // a model change mid-bucket: keep the first model's
                vectors.put(key, sum == null ? s.query().clone() : plus(sum, s.query()));
                counts.merge(key, 1, Integer::sum);
            }
        }
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO online_eval_stats (tenant, bucket, writer, metric, n, total, total_sq)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, bucket, writer, metric) DO UPDATE SET n = online_eval_stats.n + excluded.n,"
                    + " total = online_eval_stats.total + excluded.total, total_sq = online_eval_stats.total_sq + excluded.total_sq")) {
                for (var e : stats.entrySet()) {
                    ps.setString(1, (String) e.getKey().get(0));
                    ps.setLong(2, (Long) e.getKey().get(1));
                    ps.setString(3, writer);
                    ps.setString(4, (String) e.getKey().get(2));
                    ps.setLong(5, e.getValue().n());
                    ps.setDouble(6, e.getValue().sum());
                    ps.setDouble(7, e.getValue().sumSq());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            for (var e : vectors.entrySet()) addVectors(c, (String) e.getKey().get(0), (Long) e.getKey().get(1), counts.get(e.getKey()), e.getValue());
            return null;
        });
    }

    /** Read, add, rewrite: safe because only this process's one writing thread touches rows of its {@code writer}. */
    private void addVectors(Connection c, String tenant, long bucket, int n, float[] sum) throws SQLException {
        long stored = 0;
        float[] total = sum;
        try (PreparedStatement ps = c.prepareStatement("SELECT n, vector FROM online_eval_centroids WHERE tenant = ? AND bucket = ? AND writer = ?")) {
            ps.setString(1, tenant);
            ps.setLong(2, bucket);
            ps.setString(3, writer);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    float[] before = Vectors.fromBytes(rs.getBytes(2));
                    if (before.length == sum.length) {
                        stored = rs.getLong(1);
                        total = plus(before, sum);
                    }
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO online_eval_centroids (tenant, bucket, writer, n, vector) VALUES (?, ?, ?, ?, ?)"
                + " ON CONFLICT (tenant, bucket, writer) DO UPDATE SET n = excluded.n, vector = excluded.vector")) {
            ps.setString(1, tenant);
            ps.setLong(2, bucket);
            ps.setString(3, writer);
            ps.setLong(4, stored + n);
            ps.setBytes(5, Vectors.toBytes(total));
            ps.executeUpdate();
        }
    }

    /** Each metric's moments over the tenant's buckets starting in [from, to). */
    Map<String, Moments> moments(String tenant, long fromMillis, long toMillis) {
        return db.withConnection(c -> {
            Map<String, Moments> out = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT metric, SUM(n), SUM(total), SUM(total_sq) FROM online_eval_stats"
                    + " WHERE tenant = ? AND bucket >= ? AND bucket < ? GROUP BY metric")) {
                ps.setString(1, tenant);
                ps.setLong(2, fromMillis);
                ps.setLong(3, toMillis);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.put(rs.getString(1), new Moments(rs.getLong(2), rs.getDouble(3), rs.getDouble(4)));
                }
            }
            return out;
        });
    }

    /** The summed query vectors of the tenant's buckets starting in [from, to), of vectors with {@code dimension} entries. */
    Centroid centroid(String tenant, long fromMillis, long toMillis, int dimension) {
        return db.withConnection(c -> {
            long n = 0;
            double[] sum = new double[dimension];
            try (PreparedStatement ps = c.prepareStatement("SELECT n, vector FROM online_eval_centroids WHERE tenant = ? AND bucket >= ? AND bucket < ?")) {
                ps.setString(1, tenant);
                ps.setLong(2, fromMillis);
                ps.setLong(3, toMillis);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        float[] v = Vectors.fromBytes(rs.getBytes(2));
                        if (v.length != dimension) continue;
                        n += rs.getLong(1);
                        for (int i = 0; i < dimension; i++) sum[i] += v[i];
                    }
                }
            }
            return n == 0 ? Centroid.NONE : new Centroid(n, sum);
        });
    }

    /** Tenants with samples in buckets starting at or after {@code fromMillis}, or with an alert in progress. */
    List<String> activeTenants(long fromMillis) {
        return db.withConnection(c -> {
            TreeSet<String> out = new TreeSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT tenant FROM online_eval_stats WHERE bucket >= ?")) {
                ps.setLong(1, fromMillis);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(rs.getString(1));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT tenant FROM online_eval_alerts");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
            return new ArrayList<>(out);
        });
    }

    /** Deletes every bucket that started before {@code cutoffMillis}. */
    void deleteBefore(long cutoffMillis) {
        db.inTransaction(c -> {
            for (String table : List.of("online_eval_stats", "online_eval_centroids")) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE bucket < ?")) {
                    ps.setLong(1, cutoffMillis);
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    /** Starts an alert episode; false when one is already in progress (raised here or by another replica). */
    boolean raise(String tenant, String signal, long sinceMillis) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO online_eval_alerts (tenant, signal, since) VALUES (?, ?, ?)"
                    + " ON CONFLICT (tenant, signal) DO NOTHING")) {
                ps.setString(1, tenant);
                ps.setString(2, signal);
                ps.setLong(3, sinceMillis);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Ends an alert episode; false when none was in progress. */
    boolean clear(String tenant, String signal) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM online_eval_alerts WHERE tenant = ? AND signal = ?")) {
                ps.setString(1, tenant);
                ps.setString(2, signal);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** The tenant's alert episodes in progress: signal → since (epoch ms), by signal. */
    Map<String, Long> alerts(String tenant) {
        return db.withConnection(c -> {
            Map<String, Long> out = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT signal, since FROM online_eval_alerts WHERE tenant = ?")) {
                ps.setString(1, tenant);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
                }
            }
            return out;
        });
    }

    private static float[] plus(float[] a, float[] b) {
        float[] out = a.clone();
        for (int i = 0; i < out.length; i++) out[i] += b[i];
        return out;
    }
}
