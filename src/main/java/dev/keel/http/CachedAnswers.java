package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.AnswerConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.GatewayCache;
import dev.keel.gateway.ResponseCache;
import dev.keel.index.SearchHit;
import dev.keel.rag.Answer;
import dev.keel.trace.Trace;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /v1/answer} through {@link GatewayCache}: a cached answer goes out as the same JSON or the
 * same event stream (sources, deltas, done) a fresh one would, with this request's trace id, only to
 * a caller who could have got it (its key allows the model that wrote it, its cost cap admits that
 * call), admitted and billed as a chat hit is. Only complete, checked answers are remembered, with
 * the versions of the documents their sources came from: not declined ones (a document added later
 * may answer them), not stand-ins for a model that was down, not ones cut short by a client that left.
 */
final class CachedAnswers {
    private CachedAnswers() {}

    /**
     * A stored answer: its non-streamed view, and the model call that wrote it (null model: none did)
     * with that call's worst case (NaN: not known, the call was made without a key).
     */
    private record Stored(ObjectNode view, String servedBy, long maxTokens, double maxUsd) {
        static Stored of(GatewayCache.Hit hit) {
            JsonNode b = hit.body();
            return new Stored((ObjectNode) b.get("view"), b.path("served_by").textValue(), b.path("max_tokens").asLong(0),
                    b.path("max_cost_usd").isNumber() ? b.get("max_cost_usd").asDouble() : Double.NaN);
        }
    }

    /** Whether {@code caller} could have got the answer of {@code hit} itself. */
    static boolean servable(ChatGateway gateway, ChatGateway.Caller caller, GatewayCache.Hit hit) {
        Stored s = Stored.of(hit);
        return gateway.mayServeCachedAnswer(caller, s.servedBy(), s.maxUsd());
    }

    /** Admits and bills a servable hit through {@code gateway}, then sends it (the non-streamed JSON, sources included, or its events). */
    static void send(Context ctx, ChatGateway gateway, ChatGateway.Caller caller, String model, GatewayCache.Hit hit, boolean stream,
                     int heartbeatSeconds, Trace trace) throws IOException {
        Stored s = Stored.of(hit);
        gateway.billCachedAnswer(caller, model, s.servedBy(), s.maxTokens(), s.maxUsd(), hit, trace);
        ChatRoutes.cacheHeader(Exchange.of(ctx), trace);
        ObjectNode view = s.view();
        view.put("trace_id", trace.id());
        view.put("took_ms", Math.round(trace.elapsedMs() * 1000) / 1000.0);
        if (!stream) {
            HttpServer.json(ctx, 200, view);
            return;
        }
        JsonNode sources = view.remove("sources");
        try (SseStream sse = new SseStream(ctx, heartbeatSeconds)) {
            sse.event("sources", Map.of("sources", sources == null ? List.of() : sources));
            for (String piece : dev.keel.rag.AnswerEngine.pieces(view.path("answer").asText(""))) sse.event("delta", Map.of("text", piece));
            sse.event("done", view);
        }
    }

    /**
     * Whether {@code answer} may be served again: it answered, completely and checked (a model's answer
     * whose grounding was checked, or an extractive one), no provider stood in for the model, and no stream of it was
     * cut short (by its client, or by Keel at the output its budget could take).
     */
    static boolean storable(Answer answer, Trace trace) {
        if (!answer.answered() || answer.degraded() || Boolean.TRUE.equals(trace.attribute(Trace.CLIENT_DISCONNECTED))
                || trace.attribute(Trace.STREAM_CUT) != null) return false;
        return answer.grounding() != null || AnswerConfig.EXTRACTIVE.equals(answer.answerer());
    }

    /** Remembers a storable answer by its non-streamed view. */
    static void remember(GatewayCache cache, GatewayCache.Probe probe, Answer answer, Map<String, Object> view, Trace trace) {
        if (!storable(answer, trace)) return;
        List<ResponseCache.DocumentVersion> documents = answer.sources().stream().map(SearchHit::chunk)
                .map(c -> new ResponseCache.DocumentVersion(c.docId(), c.docVersion())).distinct().toList();
        Map<String, Object> stored = new LinkedHashMap<>();
        stored.put("view", view);
        if (answer.grounding() != null) {
            stored.put("served_by", trace.attribute(ChatGateway.ANSWER_MODEL_ATTRIBUTE));
            stored.put("max_tokens", trace.attribute(ChatGateway.ANSWER_MAX_TOKENS_ATTRIBUTE));
            stored.put("max_cost_usd", trace.attribute(ChatGateway.ANSWER_MAX_USD_ATTRIBUTE));
        }
        cache.store(probe, Json.bytes(stored), 0, documents, trace);
    }
}
