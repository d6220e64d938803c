package dev.keel.rag;

import dev.keel.trace.Traces;

import dev.keel.provider.DocumentAnswerer;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keel.config.AnswerConfig;
import dev.keel.config.SearchConfig;
import dev.keel.embed.Embedder;
import dev.keel.gateway.ChatGateway;
import dev.keel.index.ChunkIndex;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.index.SearchRequest;
import dev.keel.index.SearchResult;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * The query pipeline: embed the query (cached), hybrid retrieve for the tenant, then answer
 * extractively with citations, and, when a model is asked for ({@code answer.model} or the
 * request's), have that model write a grounded answer from the context through the gateway (see
 * {@link GroundedAnswerer}); each stage a span of the caller's trace. Context is re-checked against
 * the tenant before it is used. Thread-safe.
 */
public final class AnswerEngine {
    private final ChunkIndex index;
    private final Embedder embedder;
    private final SearchConfig search;
    private final AnswerConfig answerConfig;
    private final ExtractiveAnswerer answerer;
    private final Cache<TenantText, float[]> queryVectors = Caffeine.newBuilder().maximumSize(10_000).build();
    private final ChatGateway gateway;
    private final GroundingChecker checker;
    private final GroundedAnswerer grounded;

    /**
     * Model calls go through {@code gateway}; answer counters go to {@code metrics}. The prompt
     * template {@code answer.prompt} is loaded here: a missing or malformed one fails naming it.
     */
    public AnswerEngine(ChunkIndex index, Embedder embedder, SearchConfig search, AnswerConfig answerConfig, ChatGateway gateway,
                        MeterRegistry metrics) {
        this.index = index;
        this.embedder = embedder;
        this.search = search;
        this.answerConfig = answerConfig;
        this.answerer = new ExtractiveAnswerer(embedder, answerConfig, index);
        this.gateway = gateway;
        this.checker = new GroundingChecker(index, answerer::vectors, answerConfig.minSentenceSupport());
        this.grounded = new GroundedAnswerer(gateway, PromptTemplate.load(answerConfig.prompt(), PromptTemplate.ANSWER_SLOTS, "answer.prompt"), answerConfig,
                new ContextPacker(index, answerConfig.expandBelowTokens()), checker, metrics);
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
                Answer a = answer(new AnswerRequest(tenant, question, SearchFilters.NONE, AnswerConfig.EXTRACTIVE, null), trace);
                return new DocumentAnswerer.Grounded(a.text(), a.answered(), a.citations().stream()
                        .map(c -> new DocumentAnswerer.Source(c.n(), c.title(), c.source(), c.section())).toList());
            } finally {
                trace.finish();
            }
        };
    }

    /**
     * Answers {@code request}. A model that does not exist or that the caller's key may not use is
     * refused (as for chat completions) before anything else runs.
     */
    public Answer answer(AnswerRequest request, Trace trace) {
        return answer(request, trace, AnswerEvents.NONE, false);
    }

    /** Answers {@code request} as {@link #answer(AnswerRequest, Trace)} does, telling {@code events} the sources and the text as it comes. */
    public Answer stream(AnswerRequest request, Trace trace, AnswerEvents events) {
        return answer(request, trace, events, true);
    }

    private Answer answer(AnswerRequest request, Trace trace, AnswerEvents events, boolean stream) {
        String model = request.model() != null ? request.model() : answerConfig.model();
        boolean extractive = answerConfig.extractive(model);
        if (!extractive) gateway.checkChatModel(model, request.caller());
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
        Answer offline = new Answer(e.text(), e.answered(), e.citations(), context, e.support(), trace.id());
        if (!extractive) return grounded.answer(request, model, context, offline, trace, events, stream);
        emit(offline, events);
        return offline;
    }

    /**
     * Checks {@code answer}, a text with {@code [n]} markers written from {@code context} (block n is
     * {@code context.get(n - 1)}), as a model's answer is checked: invalid citations and sentences
     * their cited context does not support. The grounding benchmark measures the checker with it.
     */
    public Grounding checkGrounding(String tenant, String question, String answer, List<SearchHit> context) {
        List<ContextPacker.Block> blocks = new ArrayList<>();
        for (SearchHit h : context) blocks.add(new ContextPacker.Block(blocks.size() + 1, h, h.chunk().body()));
        return checker.check(tenant, question, answer, blocks).grounding();
    }

    /** A finished answer as events: its sources, then its text in word groups. */
    static void emit(Answer a, AnswerEvents events) {
        events.sources(a.sources());
        for (String piece : pieces(a.text())) if (!events.delta(piece)) return;
    }

    /** Splits an answer into groups of four words for streaming; concatenated they equal the answer. */
    static List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        int start = 0, words = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == ' ' && ++words % 4 == 0) {
                out.add(text.substring(start, i + 1));
                start = i + 1;
            }
        }
        if (start < text.length()) out.add(text.substring(start));
        return out;
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
