package dev.keel.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Persistent map (model id, SHA-256 of the embedded text) → vector. Makes re-ingesting changed
 * documents pay only for their changed chunks, and survives index rebuilds. Thread-safe.
 */
public final class EmbeddingCache {
    private static final int LOOKUP_BATCH = 500;
    private final Database db;

    public EmbeddingCache(Database db) {
        this.db = db;
    }

    public Map<String, float[]> getAll(String model, Collection<String> hashes) {
        Map<String, float[]> found = new HashMap<>();
        List<String> all = List.copyOf(hashes);
        for (int from = 0; from < all.size(); from += LOOKUP_BATCH) {
            List<String> part = all.subList(from, Math.min(all.size(), from + LOOKUP_BATCH));
            String marks = String.join(",", java.util.Collections.nCopies(part.size(), "?"));
            db.withConnection(c -> {
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT text_hash, vector FROM embedding_cache WHERE model = ? AND text_hash IN (" + marks + ")")) {
                    ps.setString(1, model);
                    for (int i = 0; i < part.size(); i++) ps.setString(i + 2, part.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) found.put(rs.getString(1), decode(rs.getBytes(2)));
                    }
                }
                return null;
            });
        }
        return found;
    }

    public void putAll(String model, Map<String, float[]> vectors) {
        if (vectors.isEmpty()) return;
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT OR REPLACE INTO embedding_cache (model, text_hash, vector) VALUES (?, ?, ?)")) {
                for (Map.Entry<String, float[]> e : vectors.entrySet()) {
                    ps.setString(1, model);
                    ps.setString(2, e.getKey());
                    ps.setBytes(3, encode(e.getValue()));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    public void removeAll(String model, Collection<String> hashes) {
        if (hashes.isEmpty()) return;
        db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM embedding_cache WHERE model = ? AND text_hash = ?")) {
                for (String h : hashes) {
                    ps.setString(1, model);
                    ps.setString(2, h);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    private static byte[] encode(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    private static float[] decode(byte[] bytes) {
        float[] v = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
