package dev.keel.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.embed.CachingEmbedder;
import dev.keel.gateway.ChatGateway;
import dev.keel.ingest.Tokens;
import dev.keel.model.ApiException;
import dev.keel.model.EmbeddingInput;
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
 * zero-config OpenAI provider). For the in-process model, {@code model} may be omitted; {@code input} is a string, a list of up to
 * 256 strings, or token ids (a list of ints or of lists of ints, cl100k_base, decoded to text; upstream models get them unchanged);
 * {@code encoding_format} float (default) or base64.
 */
final class EmbeddingRoutes {
    /** Per request, and per input (characters, or tokens when sent as token ids: OpenAI's limit for its embedding models). */
    private static final int MAX_INPUTS = 256, MAX_INPUT_CHARS = 32_000, MAX_INPUT_TOKENS = 8_192;
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

    /** Whether a passage has anything the local model can embed: a letter, digit, symbol or punctuation mark. */
    private static boolean hasText(String s) {
        return s.codePoints().anyMatch(c -> !Character.isWhitespace(c) && !Character.isSpaceChar(c) && !Character.isISOControl(c)
                && Character.getType(c) != Character.FORMAT);
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
            EmbeddingInput.of(body.get("input")); // the shape only: the upstream gets the input as it came
            Trace trace = HttpServer.trace(ctx);
            ChatGateway.Embedded remote = gateway.embed(body, ChatRoutes.caller(Exchange.of(ctx)), trace);
            ChatRoutes.headers(Exchange.of(ctx), remote.provider(), trace);
            ctx.header("x-keel-cost-usd", ChatRoutes.usd(remote.cost()));
            HttpServer.send(ctx, 200, "application/json", Json.bytes(remote.body()));
            return;
        }
        Inputs local = inputs(EmbeddingInput.of(body.get("input")));
        List<String> inputs = local.texts();
        for (int i = 0; i < inputs.size(); i++) {
            if (!hasText(inputs.get(i))) {
                throw ApiException.badRequest("input " + i + " has no text to embed (only spaces, invisible or control characters)", "input");
            }
        }
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
        List<Map<String, Object>> data = new ArrayList<>(vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
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
        out.put("usage", Map.of("prompt_tokens", local.tokens(), "total_tokens", local.tokens()));
        ctx.header("x-keel-provider", "local");
        ctx.header("x-keel-cost-usd", "0");
        HttpServer.json(ctx, 200, out);
    }

    /** The local model's inputs as text, and their cl100k token count. */
    private record Inputs(List<String> texts, long tokens) {}

    /** Text as it is; token ids decoded (cl100k_base, as OpenAI's embedding models use) and counted as sent. */
    private static Inputs inputs(EmbeddingInput input) {
        List<String> texts = new ArrayList<>();
        long tokens = 0;
        switch (input) {
            case EmbeddingInput.Texts t -> {
                checkCount(t.texts().size());
                texts.addAll(t.texts());
                for (String text : texts) tokens += Tokens.count(text);
            }
            case EmbeddingInput.TokenIds t -> {
                checkCount(t.inputs().size());
                for (int[] ids : t.inputs()) {
                    if (ids.length > MAX_INPUT_TOKENS) throw ApiException.badRequest("an input has more than " + MAX_INPUT_TOKENS + " tokens", "input");
                    try {
                        texts.add(Tokens.decode(ids));
                    } catch (IllegalArgumentException e) {
                        throw ApiException.badRequest("'input': " + e.getMessage(), "input");
                    }
                    tokens += ids.length;
                }
            }
        }
        for (String s : texts) {
            if (s.isEmpty()) throw ApiException.badRequest("'input' must not contain empty strings", "input");
            if (s.length() > MAX_INPUT_CHARS) throw ApiException.badRequest("an input is longer than " + MAX_INPUT_CHARS + " characters", "input");
        }
        return new Inputs(texts, tokens);
    }

    private static void checkCount(int inputs) {
        if (inputs > MAX_INPUTS) throw ApiException.badRequest("'input' has more than " + MAX_INPUTS + " items", "input");
    }

    private static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
