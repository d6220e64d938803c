package dev.keel.agent;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.ProxyAuthenticationProtocolHandler;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.WWWAuthenticationProtocolHandler;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

/**
 * The HTTP leg of the tools that call out ({@code http_get}, declared HTTP tools), on Jetty's client like the
 * providers: it is the client that lets {@code http_get} choose the addresses a connection goes to (a
 * {@link SocketAddressResolver}) while still sending the URL's host as Host header and TLS SNI, which the JDK client
 * cannot. One exchange at a time per call: bounded in time (the whole exchange, body included), never follows a
 * redirect, keeps no cookies, answers no authentication challenge, and reads at most {@code maxBytes} of a body
 * (then aborts the exchange). Thread-safe; {@link #close()} releases the connections and threads.
 */
final class OutboundHttp implements AutoCloseable {
    /** Outbound tool calls are few and short; beyond this many threads they queue. */
    private static final int MAX_THREADS = 32;
    private static final Duration IDLE_CONNECTION = Duration.ofSeconds(20);
    /** A hard upper bound for connecting; each exchange's own timeout (usually shorter) bounds it too. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);

    /** A response: its status, media type (lower case, no parameters; "" when absent), charset, Location, and the body read. */
    record Fetched(int status, String mediaType, String charset, String location, byte[] body, boolean truncated) {
        String text() {
            java.nio.charset.Charset cs;
            try {
                cs = charset == null ? java.nio.charset.StandardCharsets.UTF_8 : java.nio.charset.Charset.forName(charset);
            } catch (IllegalArgumentException e) {
                cs = java.nio.charset.StandardCharsets.UTF_8;
            }
            return new String(body, cs);
        }

        boolean isJson() {
            return mediaType.equals("application/json") || mediaType.endsWith("+json");
        }
    }

    private final HttpClient http;

    /** A client named {@code name} (its threads' name) that resolves hosts with {@code resolver} (null: the system's, asynchronously). */
    OutboundHttp(String name, SocketAddressResolver resolver) {
        QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 1);
        threads.setName("keel-" + name);
        threads.setDaemon(true);
        http = new HttpClient();
        http.setExecutor(threads);
        http.setScheduler(new ScheduledExecutorScheduler("keel-" + name + "-timeouts", true));
        if (resolver != null) http.setSocketAddressResolver(resolver);
        http.setConnectTimeout(CONNECT_TIMEOUT.toMillis());
        http.setIdleTimeout(IDLE_CONNECTION.toMillis());
        http.setFollowRedirects(false);
        http.setHttpCookieStore(new HttpCookieStore.Empty());
        http.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, "keel-agent"));
        try {
            http.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start the HTTP client for " + name, e);
        }
        // The tools send only the headers they are given: a 401 is an answer for the model, not a challenge to negotiate.
        http.getProtocolHandlers().remove(WWWAuthenticationProtocolHandler.NAME);
        http.getProtocolHandlers().remove(ProxyAuthenticationProtocolHandler.NAME);
    }

    /**
     * Sends one request and reads its response within {@code timeout}. Throws {@link TimeoutException} when the time
     * runs out, {@link IOException} when the exchange fails (its cause chain holds what the resolver refused).
     */
    Fetched exchange(String method, URI uri, Map<String, String> headers, byte[] jsonBody, Duration timeout, long maxBytes)
            throws IOException, TimeoutException, InterruptedException {
        if (timeout.isZero() || timeout.isNegative()) throw new TimeoutException("no time left");
        Request request = http.newRequest(uri).method(method).timeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        request.headers(h -> headers.forEach(h::put));
        if (jsonBody != null) request.body(new BytesRequestContent("application/json", jsonBody));
        InputStreamResponseListener listener = new InputStreamResponseListener();
        request.send(listener);
        Response response;
        try {
            response = listener.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            request.abort(e);
            throw e;
        } catch (InterruptedException e) {
            request.abort(e);
            throw e;
        } catch (ExecutionException e) {
            if (causedBy(e, TimeoutException.class) != null) throw new TimeoutException("timed out");
            throw new IOException(e.getCause() == null ? e : e.getCause());
        }
        String contentType = response.getHeaders().get(HttpHeader.CONTENT_TYPE);
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        String charset = contentType == null ? null : charset(contentType);
        String location = response.getHeaders().get(HttpHeader.LOCATION);
        try (InputStream body = listener.getInputStream()) {
            byte[] read = body.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            boolean truncated = read.length > maxBytes;
            if (truncated) {
                request.abort(new IOException("the response exceeded " + maxBytes + " bytes"));
                read = java.util.Arrays.copyOf(read, (int) maxBytes);
            }
            return new Fetched(response.getStatus(), mediaType, charset, location, read, truncated);
        } catch (IOException e) {
            if (causedBy(e, TimeoutException.class) != null) throw new TimeoutException("timed out while reading the response");
            throw e;
        }
    }

    /** The earlier of the invocation's deadline (if any) and {@code timeoutMs} from now: a tool's whole exchange fits both. */
    static dev.keel.model.Deadline deadline(ToolInvocation invocation, int timeoutMs) {
        dev.keel.model.Deadline own = dev.keel.model.Deadline.in(Duration.ofMillis(timeoutMs));
        return invocation != null && invocation.deadline() != null && invocation.deadline().nanos() < own.nanos() ? invocation.deadline() : own;
    }

    private static String charset(String contentType) {
        for (String param : contentType.split(";")) {
            String p = param.trim();
            if (p.regionMatches(true, 0, "charset=", 0, 8)) return p.substring(8).replace("\"", "").trim();
        }
        return null;
    }

    /** The first exception of {@code type} in {@code e}'s cause chain, or null. */
    static <T extends Throwable> T causedBy(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) return type.cast(t);
        }
        return null;
    }

    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception e) {
            throw new IllegalStateException("could not stop an HTTP client", e);
        }
    }
}
