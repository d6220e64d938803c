package dev.keel.embed;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keel.store.ContentHash;
import dev.keel.store.EmbeddingCache;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Embeds each distinct text once, with caches that never mix tenants. Chunk texts go through the
 * persistent {@link EmbeddingCache}: stored vectors are reused, and new ones are written only when a
 * document keeps them ({@link #keepDocument}), so the store holds the chunks that exist and nothing
 * else. Other passages of a tenant (answer sentences, {@code /v1/embeddings} inputs) go through a
 * bounded in-memory cache whose keys start with the tenant. Used as a plain {@link Embedder} it keeps
 * nothing beyond one call. Thread-safe.
 */
public final class CachingEmbedder implements Embedder {
    /** Passages kept in memory, all tenants together: about 1.6 KB each at 384 dimensions. */
    public static final int MEMORY_ENTRIES = 10_000;

    private record PassageKey(String tenant, String textHash) {}

    private final Embedder inner;
    private final EmbeddingCache store;
    private final Cache<PassageKey, float[]> passages;
    private final AtomicLong computed = new AtomicLong();
    private final AtomicLong reused = new AtomicLong();

    public CachingEmbedder(Embedder inner, EmbeddingCache store, int memoryEntries) {
        this.inner = inner;
        this.store = store;
        this.passages = Caffeine.newBuilder().maximumSize(memoryEntries).executor(Runnable::run).build();
    }

    @Override
    public String modelId() {
        return inner.modelId();
    }

    @Override
    public int dimension() {
        return inner.dimension();
    }

    /** Embeds passages, identical ones once; caches nothing (there is no tenant to key a cache by). */
    @Override
    public List<float[]> embedDocuments(List<String> texts) {
        return embedOnce(texts, hashes -> Map.of());
    }

    @Override
    public float[] embedQuery(String query) {
        return inner.embedQuery(query);
    }

    /** Chunk texts of one tenant: stored vectors are reused, the others computed (and stored by {@link #keepDocument}). */
    public List<float[]> embedChunks(String tenant, List<String> texts) {
        return embedOnce(texts, hashes -> store.getAll(modelId(), tenant, hashes));
    }

    /**
     * Stores the vectors of a document's chunk texts as that document's, and removes the stored
     * vectors of its earlier chunk texts that no document of the tenant uses any more.
     */
    public void keepDocument(String tenant, String docId, List<String> texts, List<float[]> vectors) {
        Map<String, float[]> byHash = new HashMap<>();
        for (int i = 0; i < texts.size(); i++) byHash.put(ContentHash.sha256(texts.get(i)), vectors.get(i));
        store.keep(modelId(), tenant, docId, byHash);
    }

    /** Removes a deleted document's stored vectors, except those another document of the tenant still uses. */
    public void forgetDocument(String tenant, String docId) {
        store.release(modelId(), tenant, docId);
    }

    /** Passages of one tenant that are not chunks, through the bounded in-memory cache. */
    public List<float[]> embedPassages(String tenant, List<String> texts) {
        List<float[]> out = embedOnce(texts, hashes -> {
            Map<String, float[]> found = new HashMap<>();
            for (String h : hashes) {
                float[] v = passages.getIfPresent(new PassageKey(tenant, h));
                if (v != null) found.put(h, v);
            }
            return found;
        });
        for (int i = 0; i < texts.size(); i++) passages.put(new PassageKey(tenant, ContentHash.sha256(texts.get(i))), out.get(i));
        return out;
    }

    @Override
    public List<String> unseen(String text) {
        return inner.unseen(text);
    }

    /** A view whose {@link #embedDocuments} goes through {@link #embedPassages} for {@code tenant}; queries are not remembered. */
    @Override
    public Embedder forTenant(String tenant) {
        CachingEmbedder all = this;
        return new Embedder() {
            @Override
            public String modelId() {
                return all.modelId();
            }

            @Override
            public int dimension() {
                return all.dimension();
            }

            @Override
            public List<float[]> embedDocuments(List<String> texts) {
                return all.embedPassages(tenant, texts);
            }

            @Override
            public float[] embedQuery(String query) {
                return all.embedQuery(query);
            }

            @Override
            public List<String> unseen(String text) {
                return all.unseen(text);
            }

            @Override
            public Embedder forTenant(String other) {
                return all.forTenant(other);
            }
        };
    }

    /** Vectors in the persistent store, all tenants. */
    public long storedVectors() {
        return store.size();
    }

    /** Texts actually sent to the model since start. */
    public long computedCount() {
        return computed.get();
    }

    /** Texts served from a cache or deduplicated within a call since start. */
    public long reusedCount() {
        return reused.get();
    }

    @Override
    public void close() {
        inner.close();
    }

    /** Embeds the distinct texts that {@code known} (text hash → vector) does not already hold. */
    private List<float[]> embedOnce(List<String> texts, Function<List<String>, Map<String, float[]>> known) {
        List<String> hashes = new ArrayList<>(texts.size());
        Map<String, String> distinct = new LinkedHashMap<>();
        for (String t : texts) {
            String h = ContentHash.sha256(t);
            hashes.add(h);
            distinct.putIfAbsent(h, t);
        }
        Map<String, float[]> vectors = new HashMap<>(known.apply(List.copyOf(distinct.keySet())));
        List<String> missing = distinct.keySet().stream().filter(h -> !vectors.containsKey(h)).toList();
        if (!missing.isEmpty()) {
            List<float[]> fresh = inner.embedDocuments(missing.stream().map(distinct::get).toList());
            for (int i = 0; i < missing.size(); i++) vectors.put(missing.get(i), fresh.get(i));
        }
        computed.addAndGet(missing.size());
        reused.addAndGet(texts.size() - missing.size());
        List<float[]> out = new ArrayList<>(texts.size());
        for (String h : hashes) out.add(vectors.get(h));
        return out;
    }
}
