package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.gateway.GatewayCache;
import dev.keel.gateway.ResponseCache;
import dev.keel.index.SearchHit;
import dev.keel.rag.Answer;
import dev.keel.trace.Trace;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * {@code /v1/answer} through {@link GatewayCache}: a cached answer goes out as the same JSON or the
 * same event stream (sources, deltas, done) a fresh one would, with this request's trace id; an
 * answer that answered is remembered with the versions of the documents its sources came from.
 * Declined answers are not stored: a document added later may answer them.
 */
final class CachedAnswers {
    private CachedAnswers() {}

    /** Sends a cached answer view (the non-streamed JSON, sources included). */
    static void send(Context ctx, ObjectNode view, boolean stream, int heartbeatSeconds, Trace trace) throws IOException {
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

    /** Remembers an answer by its non-streamed view. */
    static void remember(GatewayCache cache, GatewayCache.Probe probe, Answer answer, Map<String, Object> view, Trace trace) {
        if (!answer.answered()) return;
        List<ResponseCache.DocumentVersion> documents = answer.sources().stream().map(SearchHit::chunk)
                .map(c -> new ResponseCache.DocumentVersion(c.docId(), c.docVersion())).distinct().toList();
        cache.store(probe, Json.bytes(view), 0, documents, trace);
    }
}
