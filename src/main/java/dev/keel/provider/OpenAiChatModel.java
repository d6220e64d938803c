package dev.keel.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ProviderConfig;
import dev.keel.model.ChatCompletion;
import dev.keel.model.Deadline;
import dev.keel.model.ProviderException;
import dev.keel.model.ProviderException.Kind;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Any OpenAI-compatible {@code /chat/completions} endpoint (OpenAI, vLLM, Ollama's /v1, llama.cpp,
 * Groq, Together, Mistral…) over {@link HttpClient}. Enforces the connect, first-byte and total
 * timeouts; maps statuses and transport failures to {@link ProviderException} kinds.
 */
public final class OpenAiChatModel implements ChatModel {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ProviderConfig config;
    private final HttpClient http;
    private final URI endpoint;

    public OpenAiChatModel(ProviderConfig config) {
        this.config = config;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(config.connectTimeoutSeconds()))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.endpoint = URI.create(config.baseUrl() + "/chat/completions");
    }

    @Override
    public String provider() {
        return config.name();
    }

    @Override
    public ChatCompletion complete(ObjectNode request, Deadline deadline) {
        HttpResponse<InputStream> response = send(request, deadline);
        String body;
        try (InputStream in = response.body()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ProviderException(Kind.UNAVAILABLE, provider(), response.statusCode(), "connection broke while reading the response: " + e.getMessage(), null, null);
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.statusCode(), "response is not valid JSON", null, null);
        }
        if (!(parsed instanceof ObjectNode obj) || !obj.path("choices").isArray() || obj.path("choices").isEmpty()) {
            throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.statusCode(), "response has no choices", null, null);
        }
        if ("content_filter".equals(obj.path("choices").path(0).path("finish_reason").asText())
                && obj.path("choices").path(0).path("message").path("content").asText("").isEmpty()) {
            throw new ProviderException(Kind.CONTENT_FILTERED, provider(), response.statusCode(), "the provider's content filter blocked the completion", null, null);
        }
        return new ChatCompletion(obj, provider(), request.path("model").asText(), usage(obj.get("usage")));
    }

    @Override
    public Usage stream(ObjectNode request, Deadline deadline, StreamListener listener) {
        HttpResponse<InputStream> response = send(request, deadline);
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
                    throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.statusCode(), "stream chunk is not valid JSON", null, null);
                }
                if (!(chunk instanceof ObjectNode obj)) continue;
                if (obj.hasNonNull("usage")) usage = usage(obj.get("usage"));
                any = true;
                if (!listener.onChunk(obj)) return usage;
            }
            throw new ProviderException(any ? Kind.UNAVAILABLE : Kind.MALFORMED_RESPONSE, provider(), response.statusCode(),
                    "stream ended without [DONE]", null, null);
        } catch (IOException e) {
            throw new ProviderException(Kind.UNAVAILABLE, provider(), response.statusCode(), "stream broke: " + e.getMessage(), null, null);
        }
    }

    private HttpResponse<InputStream> send(ObjectNode request, Deadline deadline) {
        Duration total = min(deadline.remaining(), Duration.ofSeconds(config.totalTimeoutSeconds()));
        if (total.isZero()) throw new ProviderException(Kind.TIMEOUT, provider(), 0, "no time left before the request deadline", null, null);
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint).timeout(total)
                .header("Content-Type", "application/json")
                .header("Accept", request.path("stream").asBoolean() ? "text/event-stream" : "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request.toString()));
        if (config.apiKey() != null && !config.apiKey().isBlank()) b.header("Authorization", "Bearer " + config.apiKey());
        CompletableFuture<HttpResponse<InputStream>> future = http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> response;
        try {
            response = future.get(min(total, Duration.ofSeconds(config.firstByteTimeoutSeconds())).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new ProviderException(Kind.TIMEOUT, provider(), 0, "no response within the first-byte timeout", null, null);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new ProviderException(Kind.TIMEOUT, provider(), 0, "interrupted", null, null);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof HttpTimeoutException) throw new ProviderException(Kind.TIMEOUT, provider(), 0, "timed out", null, null);
            if (cause instanceof ConnectException) throw new ProviderException(Kind.UNAVAILABLE, provider(), 0, "connection refused", null, null);
            throw new ProviderException(Kind.UNAVAILABLE, provider(), 0, "transport failure: " + cause.getClass().getSimpleName(), null, null);
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) return response;
        String body = readQuietly(response);
        Duration retryAfter = retryAfter(response);
        throw switch (status) {
            case 429 -> new ProviderException(Kind.RATE_LIMITED, provider(), status, "rate limited (429)", retryAfter, null);
            case 401, 403 -> new ProviderException(Kind.AUTHENTICATION, provider(), status, "the provider rejected Keel's credentials (" + status + ")", null, null);
            case 408 -> new ProviderException(Kind.TIMEOUT, provider(), status, "upstream timeout (408)", retryAfter, null);
            default -> status >= 500
                    ? new ProviderException(Kind.UNAVAILABLE, provider(), status, "upstream error " + status, retryAfter, null)
                    : new ProviderException(Kind.BAD_REQUEST, provider(), status, "upstream rejected the request (" + status + ")", null, body);
        };
    }

    private static Duration retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("retry-after").map(v -> {
            try {
                return Duration.ofMillis((long) (Double.parseDouble(v.trim()) * 1000));
            } catch (NumberFormatException e) {
                return null;
            }
        }).orElse(null);
    }

    private static String readQuietly(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            byte[] bytes = in.readNBytes(16 * 1024);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    private static Usage usage(JsonNode u) {
        if (u == null || !u.isObject()) return Usage.NONE;
        return new Usage(u.path("prompt_tokens").asLong(), u.path("completion_tokens").asLong(),
                u.path("prompt_tokens_details").path("cached_tokens").asLong(), false);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
