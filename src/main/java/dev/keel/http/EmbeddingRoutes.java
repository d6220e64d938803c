package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.embed.CachingEmbedder;
import dev.keel.gateway.ChatGateway;
import dev.keel.ingest.Tokens;
import dev.keel.model.ApiException;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI-compatible {@code POST /v1/embeddings}, served by the in-process model, or proxied through
 * the gateway when {@code model} names a catalog model of kind embedding (or passes through to the
 * zero-config OpenAI provider). For the in-process model, {@code model} may be omitted; {@code input} is a string or a list of up to 256 strings;
 * {@code encoding_format} float (default) or base64.
 */
final class EmbeddingRoutes {
    private static final int MAX_INPUTS = 256, MAX_INPUT_CHARS = 32_000;
    private final CachingEmbedder embedder;
    private final String modelName;
    private final ChatGateway gateway;

    EmbeddingRoutes(CachingEmbedder embedder, String modelName, ChatGateway gateway) {
        this.embedder = embedder;
        this.modelName = modelName;
        this.gateway = gateway;
    }

    void register(RoutesConfig routes) {
        routes.post("/v1/embeddings", this::embed);
    }

    private void embed(Context ctx) {
        ObjectNode body = Json.object(ctx.body());
        String model = Json.optionalText(body, "model");
        if (model != null && !model.equals(modelName) && !embedder.modelId().equals(model)) {
            if (!gateway.servesEmbeddings(model)) {
                List<String> available = new ArrayList<>(List.of(modelName));
                available.addAll(gateway.embeddingModels());
                throw new ApiException(404, "invalid_request_error", "The model '" + model + "' does not exist; embedding models: " + available,
                        "model", "model_not_found");
            }
            JsonNode input = body.get("input");
            if (input == null || !(input.isTextual() || input.isArray()) || input.isEmpty() && input.isArray()) {
                throw ApiException.badRequest("'input' must be a string or a non-empty array (of strings or token ids)", "input");
            }
            Trace trace = HttpServer.trace(ctx);
            ChatGateway.Embedded remote = gateway.embed(body, ChatRoutes.caller(ctx), trace);
            ChatRoutes.headers(ctx, remote.provider(), trace);
            ctx.header("x-keel-cost-usd", String.format(java.util.Locale.ROOT, "%.8f", remote.cost().usd()));
            HttpServer.send(ctx, 200, "application/json", Json.bytes(remote.body()));
            return;
        }
        List<String> inputs = inputs(body.get("input"));
        String format = Json.optionalText(body, "encoding_format");
        if (format != null && !format.equals("float") && !format.equals("base64")) {
            throw ApiException.badRequest("'encoding_format' must be float or base64", "encoding_format");
        }
        if (body.has("dimensions")) throw ApiException.badRequest("'dimensions' is not supported by " + modelName + " (384 dimensions)", "dimensions");
        Trace trace = HttpServer.trace(ctx);
        List<float[]> vectors;
        try (Span span = trace.span("embed")) {
            vectors = embedder.embedPassages(HttpServer.tenant(ctx), inputs);
            span.attr("inputs", inputs.size()).attr("model", embedder.modelId());
        }
        long tokens = 0;
        List<Map<String, Object>> data = new ArrayList<>(vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
            tokens += Tokens.count(inputs.get(i));
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("object", "embedding");
            item.put("index", i);
            item.put("embedding", "base64".equals(format) ? base64(vectors.get(i)) : vectors.get(i));
            data.add(item);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "list");
        out.put("data", data);
        out.put("model", modelName);
        out.put("usage", Map.of("prompt_tokens", tokens, "total_tokens", tokens));
        ctx.header("x-keel-provider", "local");
        ctx.header("x-keel-cost-usd", "0");
        HttpServer.json(ctx, 200, out);
    }

    private static List<String> inputs(JsonNode input) {
        if (input == null || input.isNull()) throw ApiException.badRequest("'input' is required", "input");
        List<String> out = new ArrayList<>();
        if (input.isTextual()) {
            out.add(input.asText());
        } else if (input.isArray()) {
            for (JsonNode n : input) {
                if (!n.isTextual()) throw ApiException.badRequest("'input' must be a string or a list of strings (token arrays are not supported)", "input");
                out.add(n.asText());
            }
        } else {
            throw ApiException.badRequest("'input' must be a string or a list of strings", "input");
        }
        if (out.isEmpty()) throw ApiException.badRequest("'input' must not be empty", "input");
        if (out.size() > MAX_INPUTS) throw ApiException.badRequest("'input' has more than " + MAX_INPUTS + " items", "input");
        for (String s : out) {
            if (s.isEmpty()) throw ApiException.badRequest("'input' must not contain empty strings", "input");
            if (s.length() > MAX_INPUT_CHARS) throw ApiException.badRequest("an input is longer than " + MAX_INPUT_CHARS + " characters", "input");
        }
        return out;
    }

    private static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
