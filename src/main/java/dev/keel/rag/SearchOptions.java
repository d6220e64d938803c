package dev.keel.rag;

/**
 * How one search goes beyond the index settings: the reranking to apply and, when not null, the
 * query expansion (multi-query, HyDE) to run first.
 */
public record SearchOptions(Rerankers.Choice rerank, QueryExpansion expansion) {
    public SearchOptions {
        if (rerank == null) throw new IllegalArgumentException("rerank is required");
    }
}
