package dev.keel.embed;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real embedder, counting what it is asked: calls and texts of {@link #embedDocuments}, the longest query (for
 * benchmarks and tests that report how much was embedded). Thread-safe when the embedder it wraps is.
 */
public class CountingEmbedder implements Embedder {
    private final Embedder inner;
    public final AtomicInteger documentCalls = new AtomicInteger();
    public final AtomicInteger documents = new AtomicInteger();
    public final AtomicInteger longestQuery = new AtomicInteger();

    public CountingEmbedder(Embedder inner) {
        this.inner = inner;
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
        documentCalls.incrementAndGet();
        documents.addAndGet(texts.size());
        return inner.embedDocuments(texts);
    }

    @Override
    public float[] embedQuery(String query) {
        longestQuery.accumulateAndGet(query.length(), Math::max);
        return inner.embedQuery(query);
    }
}
