package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.EmbedConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.GatewayCache;
import dev.keel.gateway.RequestCost;
import dev.keel.model.ApiException;
import dev.keel.model.CallContext;
import dev.keel.model.ProviderException;
import dev.keel.provider.Prices;
import dev.keel.rag.Sessions;
import dev.keel.trace.Trace;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI-compatible {@code POST /v1/chat/completions} (JSON or SSE), and {@code GET /v1/models[/{id}]}:
 * the models the caller may use, with Keel's local embedding model.
 */
final class ChatRoutes {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChatRoutes.class);
    /** Who {@code GET /v1/models} says provides the in-process embedding model. */
    private static final String LOCAL_EMBEDDINGS_OWNER = "keel-local-embeddings";
    /** The header a client names its conversation with, so the router keeps an escalated tier for it. */
    static final String SESSION_HEADER = "x-keel-session-id";
    private static final String COST_ATTR = "keel.request-cost";
    /** The gateway's hot route, which {@link HotRoute} serves without Javalin. */
    static final String COMPLETIONS_PATH = "/v1/chat/completions";
    /**
     * What goes around a chunk's JSON in its SSE frame: written apart into the response's buffer, which the flush sends
     * as one write, so the JSON goes from Jackson's pooled buffers to the response with no String made of it.
     */
    private static final byte[] SSE_DATA = "data: ".getBytes(StandardCharsets.UTF_8), SSE_FRAME_END = "\n\n".getBytes(StandardCharsets.UTF_8);
    /** Room for a UUID, a hash or an application's own id; not for a document. */
    private final ChatGateway gateway;

    ChatRoutes(ChatGateway gateway) {
        this.gateway = gateway;
    }

    void register(RoutesConfig routes) {
        routes.post(COMPLETIONS_PATH, ctx -> complete(Exchange.of(ctx)));
        routes.get("/v1/models", this::models);
        routes.get("/v1/models/<id>", this::model);
    }

    private void models(Context ctx) {
        HttpServer.json(ctx, 200, Map.of("object", "list", "data", available(ctx).stream().map(ChatRoutes::openAiModel).toList()));
    }

    private void model(Context ctx) {
        String id = ctx.pathParam("id");
        ChatGateway.Listed model = available(ctx).stream().filter(m -> m.id().equals(id)).findFirst()
                .orElseThrow(() -> new ApiException(404, "invalid_request_error", "The model '" + id + "' does not exist or this key may not use it",
                        "model", "model_not_found"));
        HttpServer.json(ctx, 200, openAiModel(model));
    }

    private List<ChatGateway.Listed> available(Context ctx) {
        List<ChatGateway.Listed> models = new ArrayList<>(gateway.available(caller(Exchange.of(ctx))));
        models.add(new ChatGateway.Listed(EmbedConfig.BGE_SMALL, LOCAL_EMBEDDINGS_OWNER));
        return models;
    }

    private static Map<String, Object> openAiModel(ChatGateway.Listed m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", m.id());
        out.put("object", "model");
        out.put("created", 0);
        out.put("owned_by", m.ownedBy());
        return out;
    }

    /** {@code POST /v1/chat/completions}, whether Javalin or {@link HotRoute} serves it. */
    void complete(Exchange exchange) throws IOException {
        ObjectNode request = Json.object(new String(exchange.body(), StandardCharsets.UTF_8));
        Trace trace = HttpServer.trace(exchange);
        if (request.path("stream").asBoolean(false)) {
            stream(exchange, request, trace);
            return;
        }
        ChatGateway.Result result = gateway.complete(request, caller(exchange), trace);
        byte[] body = Json.bytes(result.completion().body());
        exchange.header("x-keel-cost-usd", usd(result.cost()));
        headers(exchange, result.provider(), trace);
        HttpServer.send(exchange, 200, "application/json", body);
    }

    private void stream(Exchange exchange, ObjectNode request, Trace trace) throws IOException {
        gateway.check(request, caller(exchange));
        OutputStream[] out = {null};
        try {
            ChatGateway.Streamed served = gateway.stream(request, caller(exchange), trace, chunk -> {
                try {
                    if (out[0] == null) {
                        exchange.status(200);
                        exchange.contentType("text/event-stream; charset=utf-8");
                        exchange.header("Cache-Control", "no-cache");
                        exchange.header("X-Accel-Buffering", "no");
                        headers(exchange, (String) trace.attribute("provider"), trace);
                        out[0] = exchange.output();
                    }
                    out[0].write(SSE_DATA);
                    out[0].write(Json.bytes(chunk));
                    out[0].write(SSE_FRAME_END);
                    out[0].flush();
                    return true;
                } catch (IOException e) {
                    trace.attr(Trace.CLIENT_DISCONNECTED, true);
                    return false;
                }
            });
            if (out[0] == null) {
                exchange.status(200);
                exchange.contentType("text/event-stream; charset=utf-8");
                out[0] = exchange.output();
            }
            if (served.provider() != null) trace.attr("provider", served.provider());
            // Headers left before the cost was known: it follows as an SSE comment, which clients ignore.
            try {
                out[0].write((": x-keel-cost-usd " + usd(served.cost()) + "\n\ndata: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
                out[0].flush();
            } catch (IOException gone) {
                trace.attr(Trace.CLIENT_DISCONNECTED, true);
            }
        } catch (ProviderException e) {
            if (out[0] == null) throw e;
            trace.fail("stream_interrupted");
            LOG.warn("stream broke after it started (trace {}): {}", trace.id(), e.getMessage());
            Map<String, Object> err = HttpServer.errorBody("upstream_error", midStreamMessage(e) + " after the stream started; not retried (trace "
                    + trace.id() + ")", null, e.kind().name().toLowerCase(java.util.Locale.ROOT));
            try {
                out[0].write(("data: " + Json.write(err) + "\n\n").getBytes(StandardCharsets.UTF_8));
                out[0].flush();
            } catch (IOException ignored) {
                trace.attr(Trace.CLIENT_DISCONNECTED, true);
            }
        }
    }

    /** A failure mid-stream as the client reads it: its class, not the transport's detail (the log has that). */
    static String midStreamMessage(ProviderException e) {
        return e.provider() + ": " + switch (e.kind()) {
            case RATE_LIMITED -> "rate limited by the provider";
            case UNAVAILABLE -> "the connection to the provider failed";
            case TIMEOUT -> "the provider timed out";
            case BAD_REQUEST -> "the provider rejected the request";
            case AUTHENTICATION -> "the provider rejected Keel's credentials";
            case CONTENT_FILTERED -> "the provider's content filter stopped the completion";
            case MALFORMED_RESPONSE -> "the provider sent a malformed stream";
        };
    }

    /** The caller of a gateway request; the session id comes from {@value #SESSION_HEADER} (400 when malformed). */
    static ChatGateway.Caller caller(Exchange exchange) {
        return caller(exchange, exchange.header(SESSION_HEADER), SESSION_HEADER);
    }

    /** The caller in session {@code session} (null: none), read from {@code field}; a malformed id is a 400 naming it. */
    static ChatGateway.Caller caller(Exchange exchange, String session, String field) {
        if (session != null && !Sessions.isValidId(session)) {
            throw ApiException.badRequest(field + " must be " + Sessions.ID_RULE, field);
        }
        return new ChatGateway.Caller(HttpServer.tenant(exchange), exchange.attribute(HttpServer.KEY_ATTR), session, cost(exchange));
    }

    /** The HTTP request's {@link RequestCost}: one per request, shared by every caller made for it. */
    static RequestCost cost(Exchange exchange) {
        RequestCost cost = exchange.attribute(COST_ATTR);
        if (cost == null) {
            cost = new RequestCost();
            exchange.attribute(COST_ATTR, cost);
        }
        return cost;
    }

    /**
     * {@code x-keel-provider}, {@code x-keel-route} (the router's decision, for {@code auto}), {@code x-keel-cache},
     * the serving upstream's {@code x-request-id} and, taken last so that only the body's write follows it,
     * {@code x-keel-overhead-ms}: the time since Keel's selector saw the request arrive ({@link HttpServer#elapsedNanos})
     * less the upstreams' own time (each exchange from its request's last byte sent to its client's selector seeing the
     * response's last bytes arrive; a stream's, to the latest chunk received when its response headers leave with the
     * first chunk sent). Keel's client work (pool, write, hand-offs, parse) counts as Keel's.
     */
    static void headers(Exchange exchange, String provider, Trace trace) {
        if (provider != null) exchange.header("x-keel-provider", provider);
        routeHeader(exchange, trace);
        cacheHeader(exchange, trace);
        upstreamRequestId(exchange, trace);
        double overheadMs = Math.max(0, HttpServer.elapsedNanos(exchange) - trace.upstreamNanos()) / 1e6;
        exchange.header("x-keel-overhead-ms", fixed(overheadMs, 3));
    }

    /** {@code x-keel-cache}: how the cache served the request ({@code hit-exact}, {@code hit-semantic}, {@code miss}, {@code off}), if it looked. */
    static void cacheHeader(Exchange exchange, Trace trace) {
        if (trace.attribute(GatewayCache.TRACE_ATTR) instanceof String c) exchange.header("x-keel-cache", c);
    }

    /** A cost for the {@code x-keel-cost-usd} header. */
    static String usd(Prices.Cost cost) {
        return usd(cost.usd());
    }

    /** {@code x-keel-route}: the router's decision, when the request was routed ({@code auto}). */
    static void routeHeader(Exchange exchange, Trace trace) {
        if (trace.attribute(ChatGateway.ROUTE_ATTRIBUTE) instanceof String route) exchange.header("x-keel-route", route);
    }

    /** {@code x-keel-cost-usd}: what the request's model calls cost together, when it made any. */
    static void costHeader(Exchange exchange) {
        RequestCost cost = cost(exchange);
        if (cost.anyCalls()) exchange.header("x-keel-cost-usd", usd(cost.spentUsd()));
    }

    /** {@code event} with {@code cost_usd}, the request's model calls' cost, when it made any: a stream's headers left before the cost was known. */
    static Map<String, Object> withCost(Exchange exchange, Map<String, Object> event) {
        RequestCost cost = cost(exchange);
        if (!cost.anyCalls()) return event;
        Map<String, Object> out = new LinkedHashMap<>(event);
        out.put("cost_usd", cost.spentUsd());
        return out;
    }

    /** Dollars as {@code x-keel-cost-usd} writes them. */
    static String usd(double usd) {
        return fixed(usd, 8);
    }

    /**
     * {@code value} with {@code decimals} decimals (at most 9), rounded half up from its shortest decimal form: what
     * {@code BigDecimal.valueOf(value).setScale(N, HALF_UP)} and {@code String.format("%.Nf")} write (never "-0"; a test compares
     * them on millions of values), without either's cost: formatting the two headers took ~3% of a proxied request's
     * CPU at maximum throughput (JFR).
     */
    static String fixed(double value, int decimals) {
        if (!Double.isFinite(value) || decimals < 0 || decimals > 9) return fixedExactly(value, decimals);
        String shortest = Double.toString(Math.abs(value));
        int e = shortest.indexOf('E'), dot = shortest.indexOf('.');
        int exponent = e < 0 ? 0 : Integer.parseInt(shortest, e + 1, shortest.length(), 10);
        String mantissa = e < 0 ? shortest : shortest.substring(0, e);
        // value = 0.<digits> x 10^point, where digits are the mantissa's without its dot
        int point = dot + exponent, keep = point + decimals, length = mantissa.length() - 1;
        if (keep > 18) return fixedExactly(value, decimals);
        long scaled = 0;
        for (int i = 0; i < keep; i++) scaled = scaled * 10 + (i < length ? digit(mantissa, i, dot) : 0);
        if (keep >= 0 && keep < length && digit(mantissa, keep, dot) >= 5) scaled++;
        long unit = (long) Math.pow(10, decimals);
        StringBuilder out = new StringBuilder(24);
        if (value < 0 && scaled != 0) out.append('-');
        out.append(scaled / unit);
        if (decimals > 0) {
            String fraction = Long.toString(scaled % unit);
            out.append('.').repeat('0', decimals - fraction.length()).append(fraction);
        }
        return out.toString();
    }

    /** The {@code i}th digit of a mantissa whose dot is at {@code dot}. */
    private static int digit(String mantissa, int i, int dot) {
        return mantissa.charAt(i < dot ? i : i + 1) - '0';
    }

    static String fixedExactly(double value, int decimals) {
        if (!Double.isFinite(value)) return String.valueOf(value);
        return java.math.BigDecimal.valueOf(value).setScale(decimals, java.math.RoundingMode.HALF_UP).toPlainString();
    }

    /** Forwards the request id of the upstream response the trace recorded last, as {@code x-request-id}. */
    private static void upstreamRequestId(Exchange exchange, Trace trace) {
        if (trace != null && trace.attribute(CallContext.UPSTREAM_REQUEST_ID) instanceof String id) exchange.header("x-request-id", id);
    }

    /** Maps a classified provider failure to the client's status and OpenAI error. */
    static void error(Exchange exchange, ProviderException e) {
        int status = ChatGateway.statusOf(e);
        String message = e.getMessage(), param = null, code = e.kind().name().toLowerCase();
        if (e.kind() == ProviderException.Kind.BAD_REQUEST && e.upstreamBody() != null) {
            try {
                JsonNode upstream = Json.MAPPER.readTree(e.upstreamBody());
                String m = upstream.path("error").path("message").asText("");
                if (!m.isEmpty()) message = e.provider() + ": " + m;
                // The upstream's own param and code ("max_tokens", "unsupported_parameter") tell the client what to change.
                param = label(upstream.path("error").path("param"));
                if (label(upstream.path("error").path("code")) != null) code = label(upstream.path("error").path("code"));
            } catch (IOException ignored) {
                message = e.getMessage();
            }
        }
        if (e.retryAfter() != null) exchange.header("Retry-After", Long.toString(Math.max(1, e.retryAfter().toSeconds())));
        exchange.header("x-keel-provider", e.provider());
        upstreamRequestId(exchange, HttpServer.trace(exchange));
        if (e.modelNotFound()) {
            HttpServer.error(exchange, status, "invalid_request_error", message, "model", "model_not_found");
            return;
        }
        HttpServer.error(exchange, status, status == 429 ? "rate_limit_error" : status == 400 ? "invalid_request_error" : "upstream_error",
                message, param, code);
    }

    /** A short identifier from an upstream's error ({@code max_tokens}, {@code unsupported_value}); null for anything else. */
    private static String label(JsonNode value) {
        return value.isTextual() && value.asText().matches("[A-Za-z0-9_.\\[\\]-]{1,64}") ? value.asText() : null;
    }
}
