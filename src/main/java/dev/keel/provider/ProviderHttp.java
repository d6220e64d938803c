package dev.keel.provider;

import dev.keel.config.ProviderConfig;
import dev.keel.model.Deadline;
import dev.keel.model.ProviderException.Kind;
import dev.keel.model.ProviderException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP leg shared by providers: POSTs JSON with the provider's connect, first-byte and total
 * timeouts (bounded by the request deadline), never follows redirects, and classifies statuses and
 * transport failures into {@link ProviderException} kinds (529 "overloaded" counts as unavailable).
 * Thread-safe.
 */
final class ProviderHttp {
    private final ProviderConfig config;
    private final HttpClient http;

    ProviderHttp(ProviderConfig config) {
        this.config = config;
        // Plain-http upstreams (local vLLM, Ollama, llama.cpp) get HTTP/1.1 with keep-alive: the h2c upgrade
        // dance the JDK attempts by default costs a round trip per request against servers that ignore it.
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(config.connectTimeoutSeconds()))
                .version("http".equals(config.baseUrl().getScheme()) ? HttpClient.Version.HTTP_1_1 : HttpClient.Version.HTTP_2)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    private String provider() {
        return config.name();
    }

    HttpResponse<InputStream> send(URI endpoint, Map<String, String> headers, String body, Deadline deadline) {
        Duration total = min(deadline.remaining(), Duration.ofSeconds(config.totalTimeoutSeconds()));
        if (total.isZero()) throw new ProviderException(Kind.TIMEOUT, provider(), 0, "no time left before the request deadline", null, null);
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint).timeout(total)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
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
        String errorBody = readQuietly(response);
        Duration retryAfter = retryAfter(response);
        throw switch (status) {
            case 429 -> new ProviderException(Kind.RATE_LIMITED, provider(), status, "rate limited (429)", retryAfter, null);
            case 401, 403 -> new ProviderException(Kind.AUTHENTICATION, provider(), status, "the provider rejected Keel's credentials (" + status + ")", null, null);
            case 408 -> new ProviderException(Kind.TIMEOUT, provider(), status, "upstream timeout (408)", retryAfter, null);
            case 529 -> new ProviderException(Kind.UNAVAILABLE, provider(), status, "upstream overloaded (529)", retryAfter, null);
            default -> status >= 500
                    ? new ProviderException(Kind.UNAVAILABLE, provider(), status, "upstream error " + status, retryAfter, null)
                    : new ProviderException(Kind.BAD_REQUEST, provider(), status, "upstream rejected the request (" + status + ")", null, errorBody);
        };
    }

    static Duration retryAfter(HttpResponse<?> response) {
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

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
