package dev.keel.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ProviderConfig;
import dev.keel.model.ChatCompletion;
import dev.keel.model.Deadline;
import dev.keel.model.ProviderException.Kind;
import dev.keel.model.ProviderException;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Any OpenAI-compatible {@code /chat/completions} endpoint (OpenAI, vLLM, Ollama's /v1, llama.cpp,
 * Groq, Together, Mistral…) over {@link ProviderHttp}. Enforces the connect, first-byte and total
 * timeouts; maps statuses and transport failures to {@link ProviderException} kinds.
 */
public final class OpenAiChatModel implements ChatModel {
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();
    private final ProviderConfig config;
    private final ProviderHttp http;
    private final URI endpoint;

    public OpenAiChatModel(ProviderConfig config) {
        this.config = config;
        this.http = new ProviderHttp(config);
        this.endpoint = URI.create(config.baseUrl() + "/chat/completions");
    }

    @Override
    public String provider() {
        return config.name();
    }

    @Override
    public ChatCompletion complete(ObjectNode request, Deadline deadline) {
        ProviderHttp.Reply response = send(request, deadline);
        JsonNode parsed;
        try (InputStream in = response.body()) {
            parsed = JSON.readTree(in);
            ProviderHttp.drain(in);
        } catch (JsonProcessingException e) {
            throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.status(), "response is not valid JSON", null, null);
        } catch (IOException e) {
            throw new ProviderException(Kind.UNAVAILABLE, provider(), response.status(), "connection broke while reading the response: " + e.getMessage(), null, null);
        }
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
    public Usage stream(ObjectNode request, Deadline deadline, StreamListener listener) {
        ProviderHttp.Reply response = send(request, deadline);
        Usage usage = Usage.NONE;
        boolean any = false;
        try (InputStream in = response.body(); BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("data:")) continue;
                String data = line.substring(5).trim();
                if (data.equals("[DONE]")) return usage;
                JsonNode chunk;
                try {
                    chunk = JSON.readTree(data);
                } catch (JsonProcessingException e) {
                    throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.status(), "stream chunk is not valid JSON", null, null);
                }
                if (!(chunk instanceof ObjectNode obj)) continue;
                if (obj.hasNonNull("usage")) usage = usage(obj.get("usage"));
                any = true;
                if (!listener.onChunk(obj)) return usage;
            }
            throw new ProviderException(any ? Kind.UNAVAILABLE : Kind.MALFORMED_RESPONSE, provider(), response.status(),
                    "stream ended without [DONE]", null, null);
        } catch (IOException e) {
            throw new ProviderException(Kind.UNAVAILABLE, provider(), response.status(), "stream broke: " + e.getMessage(), null, null);
        }
    }

    private ProviderHttp.Reply send(ObjectNode request, Deadline deadline) {
        java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
        headers.put("Accept", request.path("stream").asBoolean() ? "text/event-stream" : "application/json");
        if (config.apiKey() != null && !config.apiKey().isBlank()) headers.put("Authorization", "Bearer " + config.apiKey());
        return http.send(endpoint, headers, request.toString(), deadline);
    }

    private static Usage usage(JsonNode u) {
        if (u == null || !u.isObject()) return Usage.NONE;
        return new Usage(u.path("prompt_tokens").asLong(), u.path("completion_tokens").asLong(),
                u.path("prompt_tokens_details").path("cached_tokens").asLong(), false);
    }

    @Override
    public void close() {
        http.close();
    }
}
