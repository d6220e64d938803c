package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.Keel;
import dev.keel.config.GuardConfig;
import dev.keel.config.GuardConfig.GroundingAction;
import dev.keel.guard.Guard;
import dev.keel.config.RerankConfig;
import dev.keel.config.SearchConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.GatewayCache;
import dev.keel.index.RankedList;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.index.SearchResult;
import dev.keel.model.ApiException;
import dev.keel.model.ProviderException;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerEvents;
import dev.keel.rag.AnswerRequest;
import dev.keel.rag.QueryExpansion;
import dev.keel.rag.Rerankers;
import dev.keel.rag.SearchOptions;
import dev.keel.trace.Trace;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** {@code POST /v1/search} (retrieval with an optional debug view) and {@code POST /v1/answer} (JSON or SSE). */
final class QueryRoutes {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(QueryRoutes.class);
    private static final int MAX_QUERY_CHARS = dev.keel.provider.DocumentAnswerer.MAX_QUESTION_CHARS;
    /** One cap for every index: below Solr's 1,024 clauses a query may hold, so both indexes answer the same request alike. */
    static final int MAX_FILTER_DOC_IDS = 1_000;
    private final Keel keel;
    /** What shapes an answer besides the request and the documents: a changed setting must not serve answers made under the old one. */
    private final String answerSettings;

    QueryRoutes(Keel keel) {
        this.keel = keel;
        this.answerSettings = dev.keel.store.ContentHash.sha256(keel.config().answer() + "|" + keel.config().search() + "|" + keel.config().rerank()
                + "|" + keel.answers().promptHash());
    }

    void register(RoutesConfig routes) {
        routes.post("/v1/search", this::search);
        routes.post("/v1/answer", this::answer);
    }

    private void search(Context ctx) {
        ObjectNode body = Json.object(ctx.body());
        String query = query(body, "query");
        SearchConfig defaults = keel.config().search();
        SearchMode mode = enumParam(body, "mode", SearchMode.class, SearchMode.HYBRID);
        SearchConfig settings = new SearchConfig(
                enumParam(body, "fusion", SearchConfig.Fusion.class, defaults.fusion()),
                Json.optionalInt(body, "rrf_k", defaults.rrfK(), 1, 10_000),
                orDefault(Json.optionalDouble(body, "alpha", 0, 1), defaults.alpha()),
                Json.optionalInt(body, "candidates", defaults.candidates(), 1, 1_000),
                defaults.topK(), defaults.mmr(), defaults.mmrLambda(),
                defaults.titleWeight(), defaults.bodyWeight(),
                orDefault(Json.optionalBool(body, "prf"), defaults.prf()), defaults.prfDocs(), defaults.prfTerms(), defaults.prfWeight());
        int topK = Json.optionalInt(body, "top_k", defaults.topK(), 1, 100);
        boolean debug = orDefault(Json.optionalBool(body, "debug"), false);
        Trace trace = HttpServer.trace(ctx);
        trace.attr("query.chars", query.length()).attr("mode", mode.name().toLowerCase(Locale.ROOT));
        SearchOptions options = new SearchOptions(rerank(body), expansion(ctx, body));
        SearchResult result = keel.answers().search(HttpServer.tenant(ctx), query, mode, topK, settings, filters(body), debug, options, trace);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "search_result");
        out.put("mode", mode.name().toLowerCase(Locale.ROOT));
        out.put("data", ApiViews.hits(result.hits(), result.rerankScores(), debug));
        if (debug) out.put("debug", debugView(result));
        out.put("trace_id", trace.id());
        out.put("took_ms", round(trace.elapsedMs()));
        ChatRoutes.costHeader(Exchange.of(ctx));
        HttpServer.json(ctx, 200, out);
    }

    private void answer(Context ctx) throws IOException {
        ObjectNode body = Json.object(ctx.body());
        String question = body.has("query") && !body.has("question") ? query(body, "query") : query(body, "question");
        String model = Json.optionalText(body, "model");
        if (model != null && model.isBlank()) throw ApiException.badRequest("'model' must not be empty", "model");
        Trace trace = HttpServer.trace(ctx);
        trace.attr("question.chars", question.length());
        String session = Json.optionalText(body, "session_id");
        if (session == null) session = ctx.header(ChatRoutes.SESSION_HEADER);
        ChatGateway.Caller asking = ChatRoutes.caller(Exchange.of(ctx), session, body.has("session_id") ? "session_id" : ChatRoutes.SESSION_HEADER);
        // The input guard checks the question once, here; the answer's model calls carry its pass (README "In the request pipeline").
        ChatGateway.Screened screened = keel.gateway().screenQuestion(question, asking, trace);
        boolean redacted = !screened.question().equals(question);
        // A user-specific answer: its model calls (answer, rewrite, expansion, verifier) skip the caches too.
        ChatGateway.Caller caller = "off".equals(body.path("cache").asText(null)) ? screened.caller().withoutCache() : screened.caller();
        AnswerRequest request = new AnswerRequest(HttpServer.tenant(ctx), screened.question(), filters(body), model, caller, session);
        boolean stream = "true".equalsIgnoreCase(ctx.queryParam("stream")) || Boolean.TRUE.equals(Json.optionalBool(body, "stream"));
        // cache: serve a cached answer; a fresh one is remembered below (README "Caches"). Not in a conversation, whose turns it would skip.
        keel.answers().checkModel(request);
        // The caller's guard policy decides the grounding action, which chunks may be context, the canary and the output checks:
        // an answer cached under one policy is not served under another.
        GuardConfig policy = guardPolicy(caller);
        GatewayCache.Probe asked = keel.cache().answer(HttpServer.tenant(ctx), ctx.attribute(HttpServer.KEY_ATTR), answerSettings + "|guard:"
                + caller.guardPolicy() + "|" + policy.output().grounding() + "|" + policy.indirect().policy(), body, question);
        // A redacted question's answer holds the caller's own values: no other caller may be served it.
        GatewayCache.Probe probe = session != null ? new GatewayCache.Off("answer", "session") : redacted ? new GatewayCache.Off("answer", "guard") : asked;
        Optional<GatewayCache.Hit> hit = keel.cache().lookup(probe, trace, h -> CachedAnswers.servable(keel.gateway(), caller, h));
        if (hit.isPresent()) {
            CachedAnswers.send(ctx, keel.gateway(), caller, keel.answers().modelOf(request), hit.get(), stream,
                    keel.config().server().heartbeatSeconds(), trace);
            return;
        }
        ChatRoutes.cacheHeader(Exchange.of(ctx), trace);
        // end cache
        if (!stream) {
            Answer a = underGroundingPolicy(keel.answers().answer(request, trace), policy, trace);
            keel.onlineEvaluation().offer(request.tenant(), request.question(), a);
            Map<String, Object> out = view(a, policy, trace);
            out.put("sources", ApiViews.hits(a.sources()));
            CachedAnswers.remember(keel.cache(), probe, a, out, trace);
            ChatRoutes.costHeader(Exchange.of(ctx));
            ChatRoutes.routeHeader(Exchange.of(ctx), trace);
            HttpServer.json(ctx, 200, out);
            return;
        }
        SseAnswer events = new SseAnswer(ctx, trace, policy.enabled() && policy.output().grounding() == GroundingAction.BLOCK);
        try {
            Answer a = underGroundingPolicy(keel.answers().stream(request, trace, events), policy, trace);
            keel.onlineEvaluation().offer(request.tenant(), request.question(), a);
            if (events.sse == null) return;
            events.release(a);
            Map<String, Object> done = view(a, policy, trace);
            events.sse.event("done", ChatRoutes.withCost(Exchange.of(ctx), ApiViews.streamed(done, a)));
            done.put("sources", ApiViews.hits(a.sources()));
            CachedAnswers.remember(keel.cache(), probe, a, done, trace);
        } catch (RuntimeException e) {
            // Before the stream started the error has its own status; after, the client reads it as an event.
            if (events.sse == null) throw e;
            events.sse.event("error", midStreamError(e, trace));
        } finally {
            if (events.sse != null) events.sse.close();
        }
    }

    /** The guard settings under {@code caller}'s policy (see {@link ChatGateway#guardOf}). */
    private GuardConfig guardPolicy(ChatGateway.Caller caller) {
        Guard guard = keel.gateway().guardOf(caller);
        return guard == null ? keel.config().guard() : guard.config();
    }

    /** The message of an answer withheld for its unsupported sentences. */
    static final String UNGROUNDED_CODE = "ungrounded_answer";
    static final String UNGROUNDED = "The answer was withheld because parts of it are not supported by your documents. Ask a narrower question,"
            + " or add the documents that cover it.";

    /**
     * {@code guard.output.grounding}: an answer with unsupported sentences is withheld ({@code block},
     * code {@code ungrounded_answer}) or passes; {@link #view} drops the grounding report under {@code pass}
     * and from a withheld answer (it quotes the withheld sentences).
     */
    private static Answer underGroundingPolicy(Answer a, GuardConfig guard, Trace trace) {
        if (!guard.enabled() || guard.output().grounding() != GroundingAction.BLOCK || a.grounding() == null || a.grounding().unsupported().isEmpty()) {
            return a;
        }
        trace.attr("guard.output.grounding", "block");
        return a.withheld(UNGROUNDED, UNGROUNDED_CODE);
    }

    private static Map<String, Object> view(Answer a, GuardConfig guard, Trace trace) {
        Map<String, Object> out = ApiViews.answer(a, trace.elapsedMs());
        if (guard.enabled() && guard.output().grounding() == GroundingAction.PASS || UNGROUNDED_CODE.equals(a.refused())) out.remove("grounding");
        return out;
    }

    /** A failure after the answer's stream started, as its {@code error} event: classified like a chat stream's, the detail in the log. */
    private static Map<String, Object> midStreamError(RuntimeException e, Trace trace) {
        if (e instanceof ProviderException p) {
            trace.fail("stream_interrupted");
            LOG.warn("answer stream broke after it started (trace {}): {}", trace.id(), p.getMessage());
            return HttpServer.errorBody("upstream_error", ChatRoutes.midStreamMessage(p) + " after the stream started; not retried (trace "
                    + trace.id() + ")", null, p.kind().name().toLowerCase(Locale.ROOT));
        }
        trace.fail("answer_failed");
        if (e instanceof ApiException a) return HttpServer.errorBody(a.type(), a.getMessage() + " (after the stream started)", a.param(), a.code());
        LOG.error("answer failed after its stream started (trace {})", trace.id(), e);
        return HttpServer.errorBody("server_error", "internal error after the stream started; see the server log (trace " + trace.id() + ")", null, null);
    }

    /**
     * An answer streamed as SSE: the stream opens with the {@code sources} event, so a request refused
     * before the model's first token (budget, limits, unknown model) still gets its HTTP status.
     */
    private final class SseAnswer implements AnswerEvents {
        private final Context ctx;
        private final Trace trace;
        /** Under grounding: block the text waits for the check ({@link #release}), so a withheld answer is never shown. */
        private final StringBuilder held;
        SseStream sse;

        SseAnswer(Context ctx, Trace trace, boolean holdUntilChecked) {
            this.ctx = ctx;
            this.trace = trace;
            this.held = holdUntilChecked ? new StringBuilder() : null;
        }

        /** Sends the held text of the checked answer {@code a}: its own text, or the guard's message in its place. */
        void release(Answer a) {
            if (held != null && sse.isOpen()) sse.event("delta", Map.of("text", a.refused() != null ? a.text() : held.toString()));
        }

        @Override
        public void sources(List<SearchHit> sources) {
            ChatRoutes.routeHeader(Exchange.of(ctx), trace);
            try {
                sse = new SseStream(ctx, keel.config().server().heartbeatSeconds());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            sse.event("sources", Map.of("sources", ApiViews.hits(sources)));
        }

        @Override
        public boolean delta(String text) {
            if (held != null) held.append(text);
            else if (sse.isOpen()) sse.event("delta", Map.of("text", text));
            if (sse.isOpen()) return true;
            trace.attr(Trace.CLIENT_DISCONNECTED, true);
            return false;
        }
    }

    /** {@code rerank}, or the deprecated {@code mmr: true|false}; {@code mmr_lambda} tunes MMR. */
    private Rerankers.Choice rerank(ObjectNode body) {
        Rerankers rerankers = keel.answers().rerankers();
        Rerankers.Choice configured = rerankers.defaults();
        RerankConfig.Method method = enumParam(body, "rerank", RerankConfig.Method.class, null);
        Boolean mmr = Json.optionalBool(body, "mmr");
        if (mmr != null && method != null && mmr != (method == RerankConfig.Method.MMR)) {
            throw ApiException.badRequest("'mmr' (deprecated) contradicts 'rerank': send only 'rerank'", "mmr");
        }
        if (method == null) method = mmr == null ? configured.method() : mmr ? RerankConfig.Method.MMR : RerankConfig.Method.NONE;
        double lambda = orDefault(Json.optionalDouble(body, "mmr_lambda", 0, 1), configured.mmrLambda());
        return rerankers.choose(method, lambda, "rerank");
    }

    /** {@code multi_query} (alternatives, 0 = off) and {@code hyde} override the configured expansion; null when both are off. */
    private QueryExpansion expansion(Context ctx, ObjectNode body) {
        RerankConfig.Expansion configured = keel.config().rerank().expansion();
        QueryExpansion.Settings settings = new QueryExpansion.Settings(
                Json.optionalInt(body, "multi_query", configured.queries(), 0, RerankConfig.Expansion.MAX_QUERIES),
                orDefault(Json.optionalBool(body, "hyde"), configured.hyde()));
        if (!settings.on()) return null;
        if (configured.model() == null) {
            throw ApiException.badRequest("query expansion needs a chat model: set rerank.expansion.model in keel.yaml",
                    settings.hyde() && !body.has("multi_query") ? "hyde" : "multi_query");
        }
        return keel.answers().expansion(settings, ChatRoutes.caller(Exchange.of(ctx)));
    }

    private static String query(ObjectNode body, String field) {
        String q = Json.requiredText(body, field);
        if (q.length() > MAX_QUERY_CHARS) throw ApiException.badRequest("'" + field + "' is longer than " + MAX_QUERY_CHARS + " characters", field);
        return q;
    }

    private static SearchFilters filters(ObjectNode body) {
        JsonNode f = body.get("filters");
        if (f == null || f.isNull()) return SearchFilters.NONE;
        if (!(f instanceof ObjectNode o)) throw ApiException.badRequest("'filters' must be an object", "filters");
        List<String> docIds = Json.optionalStrings(o, "doc_ids");
        if (docIds.size() > MAX_FILTER_DOC_IDS) {
            throw ApiException.badRequest("'filters.doc_ids' lists " + docIds.size() + " ids; at most " + MAX_FILTER_DOC_IDS
                    + " are allowed: search in several requests, or filter by source_prefix", "filters.doc_ids");
        }
        try {
            return new SearchFilters(Json.optionalText(o, "source_prefix"), docIds, Json.optionalText(o, "section_prefix"));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage(), "filters");
        }
    }

    /** An optional enum field, matched without regard to case; a value that names none is a 400 listing them. */
    static <E extends Enum<E>> E enumParam(ObjectNode body, String field, Class<E> type, E fallback) {
        String v = Json.optionalText(body, field);
        if (v == null) return fallback;
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(v)) return e;
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) names.add(e.name().toLowerCase(Locale.ROOT));
        throw ApiException.badRequest("'" + field + "' must be one of " + names + ", got '" + v + "'", field);
    }

    private static Map<String, Object> debugView(SearchResult result) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (RankedList l : result.debug()) out.put(l.name(), l.entries());
        if (!result.expansion().isEmpty()) out.put("prf_terms", result.expansion());
        return out;
    }

    private static <T> T orDefault(T v, T fallback) {
        return v == null ? fallback : v;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
