package dev.keel.rag;

import dev.keel.trace.Traces;

import dev.keel.provider.DocumentAnswerer;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keel.config.AnswerConfig;
import dev.keel.config.RerankConfig;
import dev.keel.config.SearchConfig;
import dev.keel.embed.Embedder;
import dev.keel.embed.Vectors;
import dev.keel.gateway.ChatGateway;
import dev.keel.guard.Guard;
import dev.keel.index.RankedList;
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
import java.util.Optional;

/**
 * The query pipeline: embed the query (cached), hybrid retrieve for the tenant — expanded and
 * reranked as configured, the one retrieval routine of searches and answers — then answer
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
    private final Rerankers rerankers;
    private final Cache<TenantText, float[]> queryVectors = Caffeine.newBuilder().maximumSize(10_000).build();
    private final ChatGateway gateway;
    private final GroundingChecker checker;
    private final GroundedAnswerer grounded;
    private final Sessions sessions;
    private final FollowUpRewriter rewriter;
    /** The guard of the global settings; an answer applies the one under its caller's policy ({@link #policed}). */
    private final Guard guard;

    /**
     * Model calls go through {@code gateway}; answer counters go to {@code metrics}; chunks flagged at
     * ingest reach answers as {@code guard}'s {@code indirect.policy} says. The prompt template
     * {@code answer.prompt} is loaded here: a missing or malformed one fails naming it.
     */
    public AnswerEngine(ChunkIndex index, Embedder embedder, SearchConfig search, AnswerConfig answerConfig, Rerankers rerankers,
                        ChatGateway gateway, Sessions sessions, MeterRegistry metrics, Guard guard) {
        this.index = index;
        this.guard = guard;
        this.sessions = sessions;
        this.rewriter = new FollowUpRewriter(index);
        this.rerankers = rerankers;
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

    public Rerankers rerankers() {
        return rerankers;
    }

    /** Retrieval only, reranked as configured. {@code settings} may override the configured fusion and candidates. */
    public SearchResult search(String tenant, String query, SearchMode mode, int topK, SearchConfig settings, SearchFilters filters,
                               boolean debug, Trace trace) {
        return search(tenant, query, mode, topK, settings, filters, debug, new SearchOptions(rerankers.defaults(), null), trace);
    }

    /**
     * Retrieval only: expands the query when {@code options} say so (HyDE blends a hypothetical
     * passage's vector into the query's; multi-query fuses the alternatives' lists with RRF), then
     * reranks the first candidates down to {@code topK}. The debug view holds the BM25, vector and
     * fused lists, the multi-query list when there was one, the reranked list when a reranker ran,
     * and the final list. Answers retrieve the same way.
     */
    public SearchResult search(String tenant, String query, SearchMode mode, int topK, SearchConfig settings, SearchFilters filters,
                               boolean debug, SearchOptions options, Trace trace) {
        return retrieval(tenant, query, mode, topK, settings, filters, debug, options, trace).result();
    }

    /**
     * Query expansion with {@code settings}, each generation asking the configured
     * {@code rerank.expansion.model} through the gateway on behalf of {@code caller} (billed, limited
     * and traced like its chat completions); null when {@code settings} turn nothing on.
     */
    public QueryExpansion expansion(QueryExpansion.Settings settings, ChatGateway.Caller caller) {
        RerankConfig.Expansion configured = rerankers.config().expansion();
        return settings.on() ? new QueryExpansion(QueryExpansion.through(gateway, caller, configured.model(), configured.maxTokens()), settings) : null;
    }

    /** How answers for {@code caller} retrieve: the configured reranking and query expansion. */
    private SearchOptions configuredOptions(ChatGateway.Caller caller) {
        RerankConfig.Expansion configured = rerankers.config().expansion();
        return new SearchOptions(rerankers.defaults(), expansion(new QueryExpansion.Settings(configured.queries(), configured.hyde()), caller));
    }

    /** What one retrieval found, and the query's own vector (null for BM25 only), which the extractive answerer reads. */
    private record Retrieval(SearchResult result, float[] queryVector) {}

    private Retrieval retrieval(String tenant, String query, SearchMode mode, int topK, SearchConfig settings, SearchFilters filters,
                                boolean debug, SearchOptions options, Trace trace) {
        int pool = rerankers.pool(options.rerank(), topK);
        QueryExpansion expansion = options.expansion() != null && QueryExpansion.worthwhile(index, tenant, trace) ? options.expansion() : null;
        float[] vector = mode == SearchMode.BM25 ? null : embedQuery(tenant, query, trace);
        float[] searchVector = vector;
        if (expansion != null && vector != null) {
            Optional<String> passage = expansion.hypothetical(query, trace);
            if (passage.isPresent()) searchVector = hydeVector(vector, passage.get(), trace);
        }
        SearchResult primary = retrieve(tenant, query, searchVector, mode, pool, settings, filters, debug, trace);
        List<SearchHit> candidates = primary.hits();
        List<RankedList> lists = new ArrayList<>(primary.debug().stream().filter(l -> !l.name().equals("final")).toList()); // empty unless debug
        List<String> alternatives = expansion == null ? List.of() : expansion.alternatives(query, trace);
        if (!alternatives.isEmpty()) {
            List<List<SearchHit>> results = new ArrayList<>(List.of(candidates));
            for (String alternative : alternatives) {
                float[] v = mode == SearchMode.BM25 ? null : embedQuery(tenant, alternative, trace);
                results.add(retrieve(tenant, alternative, v, mode, pool, settings, filters, false, trace).hits());
            }
            List<SearchHit> fused = QueryExpansion.fuse(results, settings.rrfK());
            candidates = fused.subList(0, Math.min(pool, fused.size()));
            if (debug) lists.add(ranked("multi_query", candidates));
        }
        Rerankers.Outcome outcome = rerankers.rerank(options.rerank(), query, candidates, topK, trace);
        if (!debug) return new Retrieval(new SearchResult(outcome.hits(), List.of(), List.of(), outcome.scores()), vector);
        if (outcome.reranked() != null) lists.add(outcome.reranked());
        lists.add(ranked("final", outcome.hits()));
        return new Retrieval(new SearchResult(outcome.hits(), lists, primary.expansion(), outcome.scores()), vector);
    }

    private SearchResult retrieve(String tenant, String query, float[] vector, SearchMode mode, int topK, SearchConfig settings,
                                  SearchFilters filters, boolean debug, Trace trace) {
        try (Span span = trace.span("retrieve")) {
            SearchResult result = index.search(new SearchRequest(tenant, query, vector, mode, topK, settings, filters, debug), trace);
            span.attr("mode", mode.name().toLowerCase()).attr("hits", result.hits().size());
            return result;
        }
    }

    /** HyDE: the query's vector and the hypothetical passage's, averaged (as HyDE averages the query with its passages). */
    private float[] hydeVector(float[] query, String passage, Trace trace) {
        float[] p;
        try (Span span = trace.span("embed_hyde")) {
            p = embedder.embedDocuments(List.of(passage)).get(0);
            span.attr("model", embedder.modelId());
        }
        float[] sum = new float[query.length];
        for (int i = 0; i < sum.length; i++) sum[i] = query[i] + p[i];
        return Vectors.normalize(sum);
    }

    private static RankedList ranked(String name, List<SearchHit> hits) {
        List<RankedList.Entry> entries = new ArrayList<>(hits.size());
        for (int i = 0; i < hits.size(); i++) entries.add(new RankedList.Entry(i + 1, hits.get(i).chunk().chunkId(), hits.get(i).score()));
        return new RankedList(name, entries);
    }

    /**
     * This engine as the gateway's offline provider: each answer is traced on its own (named
     * "extractive answer", in the caller's tenant) and retrieves without query expansion, whose model
     * calls could reach this provider again.
     */
    public DocumentAnswerer asDocumentAnswerer(Traces traces) {
        return (tenant, question) -> {
            Trace trace = traces.start("extractive answer", tenant);
            try {
                AnswerRequest request = new AnswerRequest(tenant, question, SearchFilters.NONE, AnswerConfig.EXTRACTIVE, null);
                Answer a = answer(request, new SearchOptions(rerankers.defaults(), null), trace, AnswerEvents.NONE, false);
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
        return answer(request, configuredOptions(request.caller()), trace, AnswerEvents.NONE, false);
    }

    /** Answers {@code request} as {@link #answer(AnswerRequest, Trace)} does, telling {@code events} the sources and the text as it comes. */
    public Answer stream(AnswerRequest request, Trace trace, AnswerEvents events) {
        return answer(request, configuredOptions(request.caller()), trace, events, true);
    }

    /**
     * Refuses, as {@link #answer} would before any work, a model that does not exist or that the
     * caller's key may not use; callers that may answer without the engine (from a cache) check first.
     */
    public void checkModel(AnswerRequest request) {
        String model = modelOf(request);
        if (!answerConfig.extractive(model)) gateway.checkChatModel(model, request.caller());
    }

    /** The hash of the prompt template that grounded answers use. */
    public String promptHash() {
        return grounded.promptHash();
    }

    /**
     * The name and every text of the prompt template grounded answers use (system message, few-shot examples, user
     * sections), for evaluation's check that no eval question leaked into it.
     */
    public PromptText promptText() {
        return new PromptText(grounded.template().name(), grounded.template().text());
    }

    /** A prompt template's name and text. */
    public record PromptText(String name, String text) {}

    /** The model that answers {@code request}: its own, else {@code answer.model}. */
    public String modelOf(AnswerRequest request) {
        return request.model() != null ? request.model() : answerConfig.model();
    }

    private Answer answer(AnswerRequest request, SearchOptions options, Trace trace, AnswerEvents events, boolean stream) {
        checkModel(request);
        // Callers other than /v1/answer (keel ask, embedders of the engine) have not passed the input guard yet; a passed caller is not checked twice.
        AnswerRequest asked = request.screened(gateway.screenQuestion(request.question(), request.caller(), trace));
        String model = modelOf(asked);
        boolean extractive = answerConfig.extractive(model) || gateway.quotesDocuments(model);
        if (asked.sessionId() == null) return answer(asked, options, model, Conversation.EMPTY, trace, events, stream);
        Conversation history = sessions.get(asked.tenant(), asked.caller().keyId(), asked.sessionId());
        FollowUpRewriter.Rewrite rewrite;
        try (Span span = trace.span("rewrite")) {
            rewrite = extractive ? rewriter.rewrite(asked.question(), history)
                    : rewriter.rewrite(asked.question(), history, (system, user) ->
                            QueryExpansion.through(gateway, asked.caller(), model, FollowUpRewriter.MAX_REWRITE_TOKENS).generate(system, user, trace));
            span.attr("turns", history.turns().size()).attr("summary", !history.summary().isEmpty()).attr("follow_up", rewrite.followUp())
                    .attr("method", rewrite.method()).attr("standalone.chars", rewrite.standalone().length());
        }
        Answer a = answer(asked.asking(rewrite.standalone()), options, model, history, trace, events, stream);
        // A stream its client left holds a cut, unchecked answer: not something to build the next turn on.
        if (trace.attribute(Trace.CLIENT_DISCONNECTED) == null) {
            sessions.record(asked.tenant(), asked.caller().keyId(), asked.sessionId(), new Conversation.Turn(asked.question(), rewrite.standalone(), a.text()));
        }
        return rewrite.standalone().equals(asked.question()) ? a : a.rewrittenFrom(rewrite.standalone());
    }

    private Answer answer(AnswerRequest request, SearchOptions options, String model, Conversation history, Trace trace, AnswerEvents events,
                          boolean stream) {
        boolean extractive = answerConfig.extractive(model);
        Guard policed = policed(request);
        Retrieval retrieved = retrieval(request.tenant(), request.question(), SearchMode.HYBRID, answerConfig.contextChunks(), search,
                UntrustedChunks.retrieving(policed, request.filters()), false, options, trace);
        float[] vector = retrieved.queryVector();
        List<SearchHit> context = UntrustedChunks.context(policed, retrieved.result().hits().stream().filter(h -> h.chunk().tenant().equals(request.tenant())).toList());
        ExtractiveAnswerer.Extraction e;
        try (Span span = trace.span("answer")) {
            e = answerer.answer(request.tenant(), request.question(), vector, UntrustedChunks.quotable(policed, context));
            span.attr("answerer", "extractive").attr("answered", e.answered()).attr("support", round(e.support()))
                    .attr("citations", e.citations().size()).attr("sentences_considered", e.considered().size());
        }
        Answer offline = new Answer(e.text(), e.answered(), e.citations(), context, e.support(), trace.id());
        if (!extractive) return grounded.answer(request, model, history, context, offline, trace, events, stream);
        emit(offline, events);
        return offline;
    }

    /** The guard under the policy of {@code request}'s caller (its {@code indirect.policy} decides how flagged chunks reach the answer). */
    private Guard policed(AnswerRequest request) {
        Guard under = gateway.guardOf(request.caller());
        return under == null ? guard : under;
    }

    /**
     * Checks {@code answer}, a text with {@code [n]} markers written from {@code context} (block n is
     * {@code context.get(n - 1)}), as a model's answer is checked: invalid citations and sentences
     * their cited context does not support. The grounding benchmark measures the checker with it.
     */
    public Grounding checkGrounding(String tenant, String question, String answer, List<SearchHit> context) {
        return checker.check(tenant, question, answer, blocks(context)).grounding();
    }

    /**
     * One answer sentence as the grounding check read it: its text (with markers), the block ids it cites (empty: it
     * cites none and was checked against every block), whether its cited context supports it, and the support.
     */
    public record SentenceSupport(String sentence, java.util.Set<Integer> cited, boolean supported, double support) {}

    /** What the grounding check found sentence by sentence, and the cited ids that named no block; for evaluation's judges. */
    public record SentenceChecks(List<SentenceSupport> sentences, List<Integer> invalidCitations) {}

    /** Checks {@code answer} against {@code context} as {@link #checkGrounding} does, and tells sentence by sentence. */
    public SentenceChecks checkSentences(String tenant, String question, String answer, List<SearchHit> context) {
        GroundingChecker.Checked checked = checker.check(tenant, question, answer, blocks(context));
        List<SentenceSupport> sentences = new ArrayList<>();
        for (GroundingChecker.SentenceCheck c : checked.checks()) sentences.add(new SentenceSupport(c.sentence(), c.cited(), c.supported(), c.support()));
        return new SentenceChecks(List.copyOf(sentences), checked.grounding().invalidCitations());
    }

    private static List<ContextPacker.Block> blocks(List<SearchHit> context) {
        List<ContextPacker.Block> blocks = new ArrayList<>();
        for (SearchHit h : context) blocks.add(new ContextPacker.Block(blocks.size() + 1, h, h.chunk().body()));
        return blocks;
    }

    /** A finished answer as events: its sources, then its text in word groups. */
    /** {@code events} without its sources event: for an answer whose stream has sent its sources already. */
    static AnswerEvents textOnly(AnswerEvents events) {
        return new AnswerEvents() {
            @Override
            public void sources(List<SearchHit> sources) {}

            @Override
            public boolean delta(String text) {
                return events.delta(text);
            }
        };
    }

    static void emit(Answer a, AnswerEvents events) {
        events.sources(a.sources());
        for (String piece : pieces(a.text())) if (!events.delta(piece)) return;
    }

    /** Splits an answer into groups of four words for streaming; concatenated they equal the answer. */
    public static List<String> pieces(String text) {
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
