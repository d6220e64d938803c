package dev.keel.trace;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.model.Jackson;
import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * POSTs Keel's notifications as JSON to a configured webhook (budget warnings to {@code gateway.budget_webhook_url},
 * online evaluation's alerts to {@code eval.online.webhook}), each on its own virtual thread so no caller waits on the
 * receiver. Bounded in time (connect and whole-request timeouts), never follows a redirect (the receiver is
 * the configured address, not wherever it points), not retried; a failure (no answer, a status outside 2xx) is logged
 * with the receiver's host only (a URL may carry a token) and counted (when a counter is given). Thread-safe; closing releases the client.
 */
public final class Webhook implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Webhook.class);
    /** A receiver that does not accept a connection this fast is down; the alert is still in the log and the metrics. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** The whole exchange: a chat webhook answers in well under a second. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = Jackson.api();

    private final URI uri;
    private final String purpose;
    private final Counter failures;
    private final HttpClient client;

    /** A webhook at {@code uri} for {@code purpose} (named in log lines, e.g. "online evaluation: the alert"); {@code failures} may be null. */
    public Webhook(URI uri, String purpose, Counter failures) {
        this.uri = uri;
        this.purpose = purpose;
        this.failures = failures;
        this.client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Sends {@code alert} in the background; returns at once. */
    public void send(Map<String, Object> notification) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(notification);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a notification is plain data", e);
        }
        Thread.ofVirtual().name("keel-webhook").start(() -> post(body));
    }

    private void post(byte[] body) {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        try {
            int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status / 100 != 2) fail("it answered HTTP " + status);
        } catch (java.io.IOException e) {
            fail(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
    }

    private void fail(String why) {
        if (failures != null) failures.increment();
        LOG.warn("{} webhook at {} failed: {}", purpose, uri.getHost(), why);
    }

    @Override
    public void close() {
        client.close();
    }
}
