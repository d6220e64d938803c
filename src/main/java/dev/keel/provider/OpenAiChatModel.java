package dev.keel.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ProviderConfig;
import dev.keel.model.ChatCompletion;
import dev.keel.model.CallContext;
import dev.keel.model.EmbeddingResult;
import dev.keel.model.ProviderException.Kind;
import dev.keel.model.ProviderException;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Any OpenAI-compatible {@code /chat/completions} endpoint (OpenAI, vLLM, Ollama's /v1, llama.cpp,
 * Groq, Together, Mistral…) over {@link ProviderHttp}. Enforces the connect, first-byte and total
 * timeouts; maps statuses and transport failures to {@link ProviderException} kinds.
 */
public final class OpenAiChatModel implements ChatModel {
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();
    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);
    /**
     * Far above any chunk a provider sends (a few KB even for a tool call's arguments; a base64 image in a delta can
     * reach megabytes): one line of a stream is held at most this long, and only while it is read.
     */
    private static final int MAX_EVENT_LINE_BYTES = 4 * 1024 * 1024;
    /** OpenAI's reasoning models: the o-series and gpt-5 (gpt-5.1…), but not their chat variants, which sample as chat models do. */
    private static final java.util.regex.Pattern REASONING_MODEL = java.util.regex.Pattern.compile("(?:o1|o3|o4)(?:-.*)?|gpt-5(?!.*-chat).*");
    /** Sampling settings OpenAI's reasoning models reject unless they hold the default. */
    private static final List<String> SAMPLING = List.of("temperature", "top_p");
    private final ProviderConfig config;
    private final ProviderHttp http;
    private final URI endpoint, embeddings;

    public OpenAiChatModel(ProviderConfig config) {
        this.config = config;
        this.http = new ProviderHttp(config);
        this.endpoint = URI.create(config.baseUrl() + "/chat/completions");
        this.embeddings = URI.create(config.baseUrl() + "/embeddings");
    }

    @Override
    public String provider() {
        return config.name();
    }

    @Override
    public String genAiProvider() {
        return "openai";
    }

    @Override
    public ChatCompletion complete(ObjectNode request, CallContext call) {
        ProviderHttp.Reply response = send(request, call);
        JsonNode parsed = http.json(response, call);
        if (!(parsed instanceof ObjectNode obj) || !obj.path("choices").isArray() || obj.path("choices").isEmpty()) {
            throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.status(), "response has no choices", null, null);
        }
        if ("content_filter".equals(obj.path("choices").path(0).path("finish_reason").asText())
                && obj.path("choices").path(0).path("message").path("content").asText("").isEmpty()) {
            throw new ProviderException(Kind.CONTENT_FILTERED, provider(), response.status(), "the provider's content filter blocked the completion", null, null);
        }
        return new ChatCompletion(obj, provider(), request.path("model").asText(), usage(obj.get("usage")));
    }

    @Override
    public EmbeddingResult embed(ObjectNode request, CallContext call) {
        ProviderHttp.Reply response = http.send(embeddings, authorization(Map.of("Accept", "application/json")), request, call);
        JsonNode parsed = http.json(response, call);
        if (!(parsed instanceof ObjectNode obj) || !obj.path("data").isArray() || obj.path("data").isEmpty()) {
            throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.status(), "response has no embeddings", null, null);
        }
        JsonNode u = obj.get("usage");
        Usage usage = u == null || !u.isObject() ? Usage.NONE : Usage.reported(u.path("prompt_tokens").asLong(), 0, 0);
        return new EmbeddingResult(obj, provider(), usage);
    }

    @Override
    public Usage stream(ObjectNode request, CallContext call, StreamListener listener) {
        // Usage is what the call is billed at, so it is always asked for; a client that did not ask still gets no usage chunk.
        boolean clientWantsUsage = request.path("stream_options").path("include_usage").asBoolean(false);
        if (!clientWantsUsage) request.withObject("stream_options").put("include_usage", true);
        ProviderHttp.Reply response = send(request, call);
        StreamListener timed = ProviderHttp.timed(response, call, listener);
        Usage usage = Usage.NONE;
        boolean any = false;
        try (InputStream in = response.body()) {
            SseLines lines = new SseLines(in, MAX_EVENT_LINE_BYTES);
            while (lines.next()) {
                if (!lines.startsWith("data:")) continue;
                byte[] line = lines.bytes();
                int from = "data:".length(), to = lines.length();
                while (from < to && (line[from] & 0xff) <= ' ') from++;
                while (to > from && (line[to - 1] & 0xff) <= ' ') to--;
                if (isDone(line, from, to)) {
                    http.finish(response);
                    return usage;
                }
                JsonNode chunk;
                try {
                    chunk = JSON.readTree(line, from, to - from);
                } catch (JsonProcessingException e) {
                    throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.status(), "stream chunk is not valid JSON", null, null);
                }
                if (!(chunk instanceof ObjectNode obj)) continue;
                if (obj.hasNonNull("usage")) usage = usage(obj.get("usage"));
                any = true;
                boolean usageOnly = obj.hasNonNull("usage") && obj.path("choices").isEmpty();
                if (usageOnly && !clientWantsUsage) continue;
                if (!timed.onChunk(obj)) return usage;
            }
            throw new ProviderException(any ? Kind.UNAVAILABLE : Kind.MALFORMED_RESPONSE, provider(), response.status(),
                    "stream ended without [DONE]", null, null);
        } catch (SseLines.LineTooLongException e) {
            throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.status(), e.getMessage(), null, null);
        } catch (IOException e) {
            throw new ProviderException(Kind.UNAVAILABLE, provider(), response.status(), "the connection broke mid-stream", null, null);
        }
    }

    /** Whether {@code line[from..to)} is {@code [DONE]}. */
    private static boolean isDone(byte[] line, int from, int to) {
        return to - from == DONE.length && Arrays.equals(line, from, to, DONE, 0, DONE.length);
    }

    /**
     * The request as {@code request}'s model reads it, for a provider serving OpenAI's models ({@code
     * openai_reasoning_models}, on for OpenAI's own API). OpenAI's reasoning models (o1, o3, o4-mini, gpt-5…) answer 400 to
     * {@code max_tokens} (they read {@code max_completion_tokens}, which means the same) and to a {@code temperature}
     * or {@code top_p} other than 1; Keel's own calls (grounded answers, query expansion, judges, agents) ask for both,
     * and a client written for a chat model may too. For those models the limit moves to {@code max_completion_tokens}
     * (the lower one counts when both are set) and the sampling settings are left out; any other model's request is
     * returned as it is.
     */
    static ObjectNode forModel(ObjectNode request) {
        if (!REASONING_MODEL.matcher(request.path("model").asText()).matches()) return request;
        JsonNode legacy = request.remove("max_tokens");
        if (legacy != null && legacy.canConvertToLong()) {
            JsonNode completion = request.get("max_completion_tokens");
            long limit = completion != null && completion.canConvertToLong() ? Math.min(completion.asLong(), legacy.asLong()) : legacy.asLong();
            request.put("max_completion_tokens", limit);
        }
        for (String setting : SAMPLING) {
            JsonNode value = request.get(setting);
            if (value != null && !(value.isNumber() && value.asDouble() == 1)) request.remove(setting);
        }
        return request;
    }

    /** For a provider serving OpenAI's reasoning models ({@code openai_reasoning_models}): their dialect ({@link #forModel}). */
    @Override
    public ObjectNode asSent(ObjectNode request) {
        return config.openAiReasoningModels() ? forModel(request) : request;
    }

    private ProviderHttp.Reply send(ObjectNode request, CallContext call) {
        asSent(request);
        return http.send(endpoint, authorization(Map.of("Accept", request.path("stream").asBoolean() ? "text/event-stream" : "application/json")),
                request, call);
    }

    private Map<String, String> authorization(Map<String, String> headers) {
        if (config.apiKey() == null || config.apiKey().isBlank()) return headers;
        Map<String, String> all = new java.util.LinkedHashMap<>(headers);
        all.put("Authorization", "Bearer " + config.apiKey());
        return all;
    }

    private static Usage usage(JsonNode u) {
        if (u == null || !u.isObject()) return Usage.NONE;
        return Usage.reported(u.path("prompt_tokens"), u.path("completion_tokens"), u.path("prompt_tokens_details").path("cached_tokens"));
    }

    @Override
    public void close() {
        http.close();
    }
}
