package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.Keel;
import dev.keel.config.SearchConfig;
import dev.keel.index.RankedList;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchMode;
import dev.keel.index.SearchResult;
import dev.keel.model.ApiException;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerRequest;
import dev.keel.trace.Trace;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code POST /v1/search} (retrieval with an optional debug view) and {@code POST /v1/answer} (JSON or SSE). */
final class QueryRoutes {
    private static final int MAX_QUERY_CHARS = dev.keel.provider.DocumentAnswerer.MAX_QUESTION_CHARS;
    private final Keel keel;

    QueryRoutes(Keel keel) {
        this.keel = keel;
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
                defaults.topK(),
                orDefault(Json.optionalBool(body, "mmr"), defaults.mmr()),
                orDefault(Json.optionalDouble(body, "mmr_lambda", 0, 1), defaults.mmrLambda()),
                defaults.titleWeight(), defaults.bodyWeight(),
                orDefault(Json.optionalBool(body, "prf"), defaults.prf()), defaults.prfDocs(), defaults.prfTerms(), defaults.prfWeight());
        int topK = Json.optionalInt(body, "top_k", defaults.topK(), 1, 100);
        boolean debug = orDefault(Json.optionalBool(body, "debug"), false);
        Trace trace = HttpServer.trace(ctx);
        trace.attr("query.chars", query.length()).attr("mode", mode.name().toLowerCase(Locale.ROOT));
        SearchResult result = keel.answers().search(HttpServer.tenant(ctx), query, mode, topK, settings, filters(body), debug, trace);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "search_result");
        out.put("mode", mode.name().toLowerCase(Locale.ROOT));
        out.put("data", ApiViews.hits(result.hits()));
        if (debug) out.put("debug", debugView(result));
        out.put("trace_id", trace.id());
        out.put("took_ms", round(trace.elapsedMs()));
        HttpServer.json(ctx, 200, out);
    }

    private void answer(Context ctx) throws IOException {
        ObjectNode body = Json.object(ctx.body());
        String question = body.has("query") && !body.has("question") ? query(body, "query") : query(body, "question");
        Trace trace = HttpServer.trace(ctx);
        trace.attr("question.chars", question.length());
        AnswerRequest request = new AnswerRequest(HttpServer.tenant(ctx), question, filters(body));
        boolean stream = "true".equalsIgnoreCase(ctx.queryParam("stream")) || Boolean.TRUE.equals(Json.optionalBool(body, "stream"));
        if (!stream) {
            Answer a = keel.answers().answer(request, trace);
            Map<String, Object> out = ApiViews.answer(a, trace.elapsedMs());
            out.put("sources", ApiViews.hits(a.sources()));
            HttpServer.json(ctx, 200, out);
            return;
        }
        try (SseStream sse = new SseStream(ctx, keel.config().server().heartbeatSeconds())) {
            Answer a;
            try {
                a = keel.answers().answer(request, trace);
            } catch (RuntimeException e) {
                trace.fail("answer_failed");
                sse.event("error", Map.of("error", Map.of("type", "server_error", "message", "answering failed (trace " + trace.id() + ")")));
                return;
            }
            sse.event("sources", Map.of("sources", ApiViews.hits(a.sources())));
            for (String piece : pieces(a.text())) {
                if (!sse.isOpen()) {
                    trace.attr("client.disconnected", true);
                    return;
                }
                sse.event("delta", Map.of("text", piece));
            }
            sse.event("done", ApiViews.answer(a, trace.elapsedMs()));
        }
    }

    /** Splits an answer into word groups for streaming; concatenated they equal the answer. */
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

    private static String query(ObjectNode body, String field) {
        String q = Json.requiredText(body, field);
        if (q.length() > MAX_QUERY_CHARS) throw ApiException.badRequest("'" + field + "' is longer than " + MAX_QUERY_CHARS + " characters", field);
        return q;
    }

    private static SearchFilters filters(ObjectNode body) {
        JsonNode f = body.get("filters");
        if (f == null || f.isNull()) return SearchFilters.NONE;
        if (!(f instanceof ObjectNode o)) throw ApiException.badRequest("'filters' must be an object", "filters");
        try {
            return new SearchFilters(Json.optionalText(o, "source_prefix"), Json.optionalStrings(o, "doc_ids"), Json.optionalText(o, "section_prefix"));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage(), "filters");
        }
    }

    private static <E extends Enum<E>> E enumParam(ObjectNode body, String field, Class<E> type, E fallback) {
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
