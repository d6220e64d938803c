package dev.keel.rag;

import dev.keel.trace.Traces;

import dev.keel.provider.DocumentAnswerer;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keel.config.AnswerConfig;
import dev.keel.config.SearchConfig;
import dev.keel.embed.Embedder;
import dev.keel.index.ChunkIndex;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.index.SearchRequest;
import dev.keel.index.SearchResult;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import java.util.List;

/**
 * The query pipeline: embed the query (cached), hybrid retrieve for the tenant, then answer
 * extractively with citations, each stage a span of the caller's trace. Context is re-checked
 * against the tenant before it is used. Thread-safe.
 */
public final class AnswerEngine {
    private final ChunkIndex index;
    private final Embedder embedder;
    private final SearchConfig search;
    private final AnswerConfig answerConfig;
    private final ExtractiveAnswerer answerer;
    private final Cache<TenantText, float[]> queryVectors = Caffeine.newBuilder().maximumSize(10_000).build();

    public AnswerEngine(ChunkIndex index, Embedder embedder, SearchConfig search, AnswerConfig answerConfig) {
        this.index = index;
        this.embedder = embedder;
        this.search = search;
        this.answerConfig = answerConfig;
        this.answerer = new ExtractiveAnswerer(embedder, answerConfig, index);
    }

    public SearchConfig searchSettings() {
        return search;
    }

    /** Retrieval only. {@code settings} may override the configured fusion, candidates, MMR. */
    public SearchResult search(String tenant, String query, SearchMode mode, int topK, SearchConfig settings, SearchFilters filters,
                               boolean debug, Trace trace) {
        float[] vector = mode == SearchMode.BM25 ? null : embedQuery(tenant, query, trace);
        try (Span span = trace.span("retrieve")) {
            SearchResult result = index.search(new SearchRequest(tenant, query, vector, mode, topK, settings, filters, debug), trace);
            span.attr("mode", mode.name().toLowerCase()).attr("hits", result.hits().size());
            return result;
        }
    }

    /**
     * This engine as the gateway's offline provider: each answer is traced on its own (named
     * "extractive answer", in the caller's tenant).
     */
    public DocumentAnswerer asDocumentAnswerer(Traces traces) {
        return (tenant, question) -> {
            Trace trace = traces.start("extractive answer", tenant);
            try {
                Answer a = answer(new AnswerRequest(tenant, question, SearchFilters.NONE), trace);
                return new DocumentAnswerer.Grounded(a.text(), a.answered(), a.citations().stream()
                        .map(c -> new DocumentAnswerer.Source(c.n(), c.title(), c.source(), c.section())).toList());
            } finally {
                trace.finish();
            }
        };
    }

    public Answer answer(AnswerRequest request, Trace trace) {
        float[] vector = embedQuery(request.tenant(), request.question(), trace);
        SearchResult result;
        try (Span span = trace.span("retrieve")) {
            result = index.search(new SearchRequest(request.tenant(), request.question(), vector, SearchMode.HYBRID,
                    answerConfig.contextChunks(), search, request.filters(), false), trace);
            span.attr("mode", "hybrid").attr("hits", result.hits().size());
        }
        List<SearchHit> context = result.hits().stream().filter(h -> h.chunk().tenant().equals(request.tenant())).toList();
        ExtractiveAnswerer.Extraction e;
        try (Span span = trace.span("answer")) {
            e = answerer.answer(request.tenant(), request.question(), vector, context);
            span.attr("answerer", "extractive").attr("answered", e.answered()).attr("support", round(e.support()))
                    .attr("citations", e.citations().size()).attr("sentences_considered", e.considered().size());
        }
        return new Answer(e.text(), e.answered(), e.citations(), context, e.support(), trace.id());
    }

    /** The query's vector, cached per tenant (the span says hit or miss, and a tenant must not learn what others asked). */
    private float[] embedQuery(String tenant, String query, Trace trace) {
        try (Span span = trace.span("embed_query")) {
            TenantText key = new TenantText(tenant, query);
            float[] cached = queryVectors.getIfPresent(key);
            span.attr("cache", cached != null ? "hit" : "miss").attr("model", embedder.modelId());
            if (cached != null) return cached;
            float[] v = embedder.embedQuery(query);
            queryVectors.put(key, v);
            return v;
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
