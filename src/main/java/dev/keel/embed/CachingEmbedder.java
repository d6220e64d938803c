package dev.keel.embed;

import dev.keel.store.ContentHash;
import dev.keel.store.EmbeddingCache;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Embeds each distinct text once: identical texts in one batch share a vector, and vectors already
 * in the persistent {@link EmbeddingCache} (keyed by model id and text hash) are reused. Queries are
 * not cached here. Thread-safe.
 */
public final class CachingEmbedder implements Embedder {
    private final Embedder inner;
    private final EmbeddingCache cache;
    private final AtomicLong computed = new AtomicLong();
    private final AtomicLong reused = new AtomicLong();

    public CachingEmbedder(Embedder inner, EmbeddingCache cache) {
        this.inner = inner;
        this.cache = cache;
    }

    @Override
    public String modelId() {
        return inner.modelId();
    }

    @Override
    public int dimension() {
        return inner.dimension();
    }

    @Override
    public List<float[]> embedDocuments(List<String> texts) {
        List<String> hashes = new ArrayList<>(texts.size());
        Map<String, String> distinct = new LinkedHashMap<>();
        for (String t : texts) {
            String h = ContentHash.sha256(t);
            hashes.add(h);
            distinct.putIfAbsent(h, t);
        }
        Map<String, float[]> vectors = new HashMap<>(cache.getAll(modelId(), distinct.keySet()));
        List<String> missingHashes = distinct.keySet().stream().filter(h -> !vectors.containsKey(h)).toList();
        if (!missingHashes.isEmpty()) {
            List<float[]> fresh = inner.embedDocuments(missingHashes.stream().map(distinct::get).toList());
            Map<String, float[]> toStore = new HashMap<>();
            for (int i = 0; i < missingHashes.size(); i++) toStore.put(missingHashes.get(i), fresh.get(i));
            cache.putAll(modelId(), toStore);
            vectors.putAll(toStore);
        }
        computed.addAndGet(missingHashes.size());
        reused.addAndGet(texts.size() - missingHashes.size());
        List<float[]> out = new ArrayList<>(texts.size());
        for (String h : hashes) out.add(vectors.get(h));
        return out;
    }

    @Override
    public float[] embedQuery(String query) {
        return inner.embedQuery(query);
    }

    @Override
    public void forget(java.util.Collection<String> texts) {
        cache.removeAll(modelId(), texts.stream().map(ContentHash::sha256).toList());
    }

    /** Texts actually sent to the model since start. */
    public long computedCount() {
        return computed.get();
    }

    /** Texts served from the cache or deduplicated within a batch since start. */
    public long reusedCount() {
        return reused.get();
    }

    @Override
    public void close() {
        inner.close();
    }
}
