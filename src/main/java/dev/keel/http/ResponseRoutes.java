package dev.keel.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.gateway.ResponsesGateway;
import dev.keel.model.ProviderException;
import dev.keel.trace.Trace;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;

/**
 * OpenAI-compatible {@code POST /v1/responses}: a response object, or with {@code stream: true} the
 * Responses event stream (named SSE events, heartbeats as comments). Headers as for chat
 * completions; a stream's cost follows its last event as the comment {@code : x-keel-cost-usd …}.
 */
final class ResponseRoutes {
    private final ResponsesGateway responses;
    private final int heartbeatSeconds;

    ResponseRoutes(ResponsesGateway responses, int heartbeatSeconds) {
        this.responses = responses;
        this.heartbeatSeconds = heartbeatSeconds;
    }

    void register(RoutesConfig routes) {
        routes.post("/v1/responses", this::create);
    }

    private void create(Context ctx) {
        ObjectNode request = Json.object(ctx.body());
        Trace trace = HttpServer.trace(ctx);
        if (request.path("stream").asBoolean(false)) {
            stream(ctx, request, trace);
            return;
        }
        ResponsesGateway.Result result = responses.create(request, ChatRoutes.caller(Exchange.of(ctx)), trace);
        ChatRoutes.headers(Exchange.of(ctx), result.provider(), trace);
        ctx.header("x-keel-cost-usd", ChatRoutes.usd(result.cost()));
        HttpServer.json(ctx, 200, result.response());
    }

    /** The SSE response starts with the first event, so failures before it still get a status code. */
    private void stream(Context ctx, ObjectNode request, Trace trace) {
        SseStream[] sse = {null};
        try {
            ResponsesGateway.Streamed served = responses.stream(request, ChatRoutes.caller(Exchange.of(ctx)), trace, event -> {
                if (sse[0] == null) sse[0] = open(ctx, trace);
                if (sse[0] != null) sse[0].event(event.path("type").asText(), event);
                if (sse[0] != null && sse[0].isOpen()) return true;
                trace.attr(Trace.CLIENT_DISCONNECTED, true);
                return false;
            });
            if (sse[0] != null) sse[0].comment("x-keel-cost-usd " + ChatRoutes.usd(served.cost()));
        } catch (ProviderException e) {
            if (sse[0] == null) throw e;
            trace.fail("stream_interrupted");
        } finally {
            if (sse[0] != null) sse[0].close();
        }
    }

    /** Starts the SSE response; null when the client's connection already failed. */
    private SseStream open(Context ctx, Trace trace) {
        ChatRoutes.headers(Exchange.of(ctx), (String) trace.attribute("provider"), trace);
        try {
            return new SseStream(ctx, heartbeatSeconds);
        } catch (IOException e) {
            return null;
        }
    }
}
