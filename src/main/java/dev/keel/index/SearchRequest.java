package dev.keel.index;

import dev.keel.config.SearchConfig;

/**
 * A retrieval request. {@code tenant} is mandatory and always filters. {@code queryVector} is
 * required unless the mode is BM25.
 */
public record SearchRequest(String tenant, String query, float[] queryVector, SearchMode mode, int topK,
                            SearchConfig settings, SearchFilters filters, boolean debug) {
    public SearchRequest {
        if (tenant == null || tenant.isBlank()) throw new IllegalArgumentException("tenant is required");
        if (query == null) throw new IllegalArgumentException("query is required");
        if (mode != SearchMode.BM25 && queryVector == null) throw new IllegalArgumentException("queryVector is required for " + mode);
        if (filters == null) filters = SearchFilters.NONE;
    }
}
