package dev.keel.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Persistent vectors of chunk texts: (model id, tenant, SHA-256 of the text) → vector, with the
 * documents that reference each vector. Makes re-ingesting a changed document pay only for its
 * changed chunks, and survives index rebuilds. A vector is stored only as part of a document
 * ({@link #keep}) and removed as soon as no document of its tenant references it, so the cache holds
 * exactly the chunks that exist; tenants never share entries. Thread-safe; each call is one transaction.
 * On a shared database, two replicas changing documents with a chunk text in common at the same moment
 * may leave a reference whose vector the other removed: that chunk misses the cache once and is
 * embedded again; a lookup never returns a vector of another text, model or tenant.
 */
public final class EmbeddingCache {
    private static final int LOOKUP_BATCH = 500;
    private final Database db;

    public EmbeddingCache(Database db) {
        this.db = db;
    }

    /** The stored vectors of these text hashes (absent ones are missing from the map). */
    public Map<String, float[]> getAll(String model, String tenant, Collection<String> hashes) {
        Map<String, float[]> found = new HashMap<>();
        List<String> all = List.copyOf(hashes);
        for (int from = 0; from < all.size(); from += LOOKUP_BATCH) {
            List<String> part = all.subList(from, Math.min(all.size(), from + LOOKUP_BATCH));
            String marks = String.join(",", Collections.nCopies(part.size(), "?"));
            db.withConnection(c -> {
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT text_hash, vector FROM embedding_cache WHERE model = ? AND tenant = ? AND text_hash IN (" + marks + ")")) {
                    ps.setString(1, model);
                    ps.setString(2, tenant);
                    for (int i = 0; i < part.size(); i++) ps.setString(i + 3, part.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) found.put(rs.getString(1), decode(rs.getBytes(2)));
                    }
                }
                return null;
            });
        }
        return found;
    }

    /**
     * Makes {@code vectors} (text hash → vector) the chunk vectors of one document: stores them,
     * records the document as their user, and removes the vectors of its previous chunks that no
     * document of the tenant uses any more.
     */
    public void keep(String model, String tenant, String docId, Map<String, float[]> vectors) {
        db.inTransaction(c -> {
            Set<String> previous = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT text_hash FROM embedding_refs WHERE model = ? AND tenant = ? AND doc_id = ?")) {
                bind(ps, model, tenant, docId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) previous.add(rs.getString(1));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM embedding_refs WHERE model = ? AND tenant = ? AND doc_id = ?")) {
                bind(ps, model, tenant, docId);
                ps.executeUpdate();
            }
            try (PreparedStatement vector = c.prepareStatement("INSERT INTO embedding_cache (model, tenant, text_hash, vector) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
                 PreparedStatement ref = c.prepareStatement("INSERT INTO embedding_refs (model, tenant, doc_id, text_hash) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                for (Map.Entry<String, float[]> e : vectors.entrySet()) {
                    bind(vector, model, tenant, e.getKey());
                    vector.setBytes(4, encode(e.getValue()));
                    vector.addBatch();
                    bind(ref, model, tenant, docId);
                    ref.setString(4, e.getKey());
                    ref.addBatch();
                }
                vector.executeBatch();
                ref.executeBatch();
            }
            previous.removeAll(vectors.keySet());
            removeUnused(c, model, tenant, previous);
            return null;
        });
    }

    /** Forgets a deleted document's chunk vectors, except those another document of the tenant still uses. */
    public void release(String model, String tenant, String docId) {
        keep(model, tenant, docId, Map.of());
    }

    /** Vectors stored, all models and tenants. */
    public long size() {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM embedding_cache"); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    private static void removeUnused(Connection c, String model, String tenant, Set<String> hashes) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM embedding_cache WHERE model = ? AND tenant = ? AND text_hash = ? AND NOT EXISTS "
                + "(SELECT 1 FROM embedding_refs r WHERE r.model = ? AND r.tenant = ? AND r.text_hash = ?)")) {
            for (String h : hashes) {
                bind(ps, model, tenant, h);
                ps.setString(4, model);
                ps.setString(5, tenant);
                ps.setString(6, h);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void bind(PreparedStatement ps, String a, String b, String c) throws SQLException {
        ps.setString(1, a);
        ps.setString(2, b);
        ps.setString(3, c);
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
