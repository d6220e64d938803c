package dev.keel.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.client.WWWAuthenticationProtocolHandler;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;

/**
 * Solr's HTTP API over Keel's Jetty 12 client: one JSON request or upload, bounded by the configured
 * timeout, to one node of the cluster; a node that refuses the connection is skipped for the next
 * (the request had not reached Solr, so no retry can apply a change twice). Every failure becomes an
 * {@link IndexException} naming the node (without credentials) and Solr's own message. Credentials
 * in a node URL ({@code user:password@}) are sent as basic authentication and appear nowhere else.
 * Thread-safe; {@link #close()} stops the client.
 */
final class SolrHttp implements AutoCloseable {
    /** Largest reply read: a page of chunks with their vectors is a few MiB; anything near this is a bug, not data. */
    private static final int MAX_REPLY_BYTES = 64 * 1024 * 1024;
    /** Longest piece of Solr's error message passed on: enough for its reason, not a stack trace. */
    private static final int MAX_MESSAGE_CHARS = 500;
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();

    /** A node: its URL without credentials (safe to show) and the Authorization header its credentials make (null without). */
    record Node(String url, String authorization) {
        static Node parse(String configured) {
            URI u = URI.create(configured.endsWith("/") ? configured.substring(0, configured.length() - 1) : configured);
            String auth = u.getRawUserInfo() == null ? null
                    : "Basic " + Base64.getEncoder().encodeToString(java.net.URLDecoder.decode(u.getRawUserInfo(), StandardCharsets.UTF_8)
                    .getBytes(StandardCharsets.UTF_8));
            String shown = u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()) + (u.getRawPath() == null ? "" : u.getRawPath());
            return new Node(shown, auth);
        }

        /** A configured URL with any credentials cut out, for messages about a URL that does not parse. */
        static String safe(String configured) {
            return configured.replaceAll("//[^/@]*@", "//");
        }
    }

    private final List<Node> nodes;
    private final long timeoutMs;
    private final HttpClient http = new HttpClient();
    /** The node tried first: the last one that answered. */
    private final AtomicInteger preferred = new AtomicInteger();

    SolrHttp(List<String> urls, long timeoutMs) {
        List<Node> parsed = new ArrayList<>();
        for (String u : urls) {
            try {
                parsed.add(Node.parse(u));
            } catch (IllegalArgumentException e) {
                throw new IndexException("index.solr.urls: '" + Node.safe(u) + "' is not a URL");
            }
        }
        this.nodes = List.copyOf(parsed);
        this.timeoutMs = timeoutMs;
        http.setConnectTimeout(timeoutMs);
        http.setFollowRedirects(false);
        http.setHttpCookieStore(new org.eclipse.jetty.http.HttpCookieStore.Empty()); // Keel's outbound clients keep no cookies
        http.setName("keel-solr");
        try {
            http.start();
        } catch (Exception e) {
            throw new IndexException("could not start the HTTP client for Solr", e);
        }
        // A 401 is an answer to report (wrong credentials), not a challenge to negotiate.
        http.getProtocolHandlers().remove(WWWAuthenticationProtocolHandler.NAME);
    }

    /** The nodes' URLs as configured, without credentials. */
    List<String> nodeUrls() {
        return nodes.stream().map(Node::url).toList();
    }

    /** POSTs a JSON body to {@code path} (below a node's base URL, e.g. "/coll/select") and returns the JSON reply. */
    JsonNode postJson(String path, Map<String, String> query, Object body) {
        return postJsonUnlessMissing(path, query, body).orElseThrow(() -> new IndexException("Solr has no " + path));
    }

    /** As {@link #postJson}, but empty when Solr answers 404 (a collection that does not exist). */
    Optional<JsonNode> postJsonUnlessMissing(String path, Map<String, String> query, Object body) {
        return postJsonUnless(404, path, query, body);
    }

    /** As {@link #postJson}, but empty when Solr answers 409: a document's {@code _version_} was not the one the update required. */
    Optional<JsonNode> postJsonUnlessConflict(String path, Map<String, String> query, Object body) {
        return postJsonUnless(409, path, query, body);
    }

    private Optional<JsonNode> postJsonUnless(int expected, String path, Map<String, String> query, Object body) {
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write a Solr request", e);
        }
        Reply reply = send(HttpMethod.POST, path, query, "application/json", json);
        return reply.status() == expected ? Optional.empty() : Optional.of(reply.orThrow());
    }

    /** GETs {@code path} with {@code query} parameters and returns the JSON reply. */
    JsonNode get(String path, Map<String, String> query) {
        return send(HttpMethod.GET, path, query, null, null).orThrow();
    }

    /** POSTs bytes of {@code contentType} (a configset's zip). */
    JsonNode postBytes(String path, Map<String, String> query, String contentType, byte[] body) {
        return send(HttpMethod.POST, path, query, contentType, body).orThrow();
    }

    /** What a node answered: its status and JSON body (null when the body was not JSON). */
    private record Reply(Node node, HttpMethod method, String path, int status, String reason, JsonNode json) {
        /** The JSON of a 2xx reply; else an {@link IndexException} with Solr's message. */
        JsonNode orThrow() {
            if (status / 100 == 2 && json != null) return json;
            String message = json != null && json.path("error").path("msg").isTextual() ? readable(json.path("error").path("msg").asText())
                    : status / 100 == 2 ? "a reply that is not JSON" : reason;
            throw new IndexException("Solr at " + node.url() + " answered " + status + " to " + describe(method, path) + ": " + message);
        }
    }

    private Reply send(HttpMethod method, String path, Map<String, String> query, String contentType, byte[] body) {
        int first = preferred.get();
        ConnectException lastRefusal = null;
        for (int i = 0; i < nodes.size(); i++) {
            int at = (first + i) % nodes.size();
            Node node = nodes.get(at);
            String url = node.url() + path + queryString(query);
            Request request = http.newRequest(url).method(method).timeout(timeoutMs, TimeUnit.MILLISECONDS)
                    .headers(h -> {
                        h.put(HttpHeader.ACCEPT, "application/json");
                        if (node.authorization() != null) h.put(HttpHeader.AUTHORIZATION, node.authorization());
                    });
            if (body != null) {
                request.body(contentType.startsWith("application/json") ? new StringRequestContent(contentType, new String(body, StandardCharsets.UTF_8))
                        : new BytesRequestContent(contentType, body));
            }
            ContentResponse reply;
            try {
                reply = new CompletableResponseListener(request, MAX_REPLY_BYTES).send().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IndexException("interrupted while calling Solr at " + node.url(), e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof ConnectException refused) {
                    lastRefusal = refused;
                    continue;
                }
                if (cause instanceof TimeoutException) {
                    throw new IndexException("Solr at " + node.url() + " did not answer " + describe(method, path) + " within " + timeoutMs + " ms", cause);
                }
                throw new IndexException("cannot reach Solr at " + node.url() + " (" + describe(method, path) + "): " + cause, cause);
            }
            preferred.set(at);
            return parse(node, method, path, reply);
        }
        throw new IndexException("cannot reach Solr at " + String.join(", ", nodeUrls()) + " (" + describe(method, path) + "): "
                + (lastRefusal == null ? "no node" : lastRefusal.getMessage()), lastRefusal);
    }

    private static Reply parse(Node node, HttpMethod method, String path, ContentResponse reply) {
        JsonNode json;
        try {
            json = JSON.readTree(reply.getContent());
        } catch (java.io.IOException e) {
            json = null;
        }
        return new Reply(node, method, path, reply.getStatus(), reply.getReason(), json);
    }

    /**
     * The line of Solr's message that says what went wrong: a replica's own message rather than the
     * leader's wrapper around it, cut at {@link #MAX_MESSAGE_CHARS}.
     */
    static String readable(String solrMessage) {
        String remote = "Remote error message: ";
        int at = solrMessage.indexOf(remote);
        String message = (at >= 0 ? solrMessage.substring(at + remote.length()) : solrMessage).strip();
        int eol = message.indexOf('\n');
        if (eol >= 0) message = message.substring(0, eol);
        return message.length() <= MAX_MESSAGE_CHARS ? message : message.substring(0, MAX_MESSAGE_CHARS) + "…";
    }

    private static String describe(HttpMethod method, String path) {
        return method + " " + path;
    }

    private static String queryString(Map<String, String> query) {
        if (query.isEmpty()) return "";
        return query.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&", "?", ""));
    }

    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception e) {
            throw new IndexException("could not stop the HTTP client for Solr", e);
        }
    }
}
