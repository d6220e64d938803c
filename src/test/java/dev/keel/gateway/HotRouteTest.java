package dev.keel.gateway;

import static dev.keel.gateway.FakeLlmServer.ok;
import static dev.keel.gateway.FakeLlmServer.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/chat/completions} is served by Keel's own Jetty handler rather than Javalin. The same route with a
 * trailing slash still goes through Javalin: every answer must be the same either way (status, headers, body), and the
 * hot route must keep the steps every route passes (trace, limits, the body limit however the body is sent).
 */
class HotRouteTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOT = "/v1/chat/completions", THROUGH_JAVALIN = "/v1/chat/completions/";
    private static final String VALID = "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}";
    /** Headers whose values differ from one request to the next. */
    private static final Set<String> PER_REQUEST = Set.of("date", "x-keel-trace-id", "x-keel-overhead-ms", "x-keel-cost-usd", "content-length",
            "x-request-id");
    /** Present when a request was refused before all its body had arrived, which depends on when the client's writes land. */
    private static final String CONNECTION = "connection";
    private static final Pattern TRACE_ID = Pattern.compile("[0-9a-f]{32}");
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> post(String path, String contentType, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fixture.base + path)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) b.header("Content-Type", contentType);
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The request to both routes, the upstream primed the same way before each; the two answers must agree. */
    private HttpResponse<String> sameBothWays(String what, String contentType, String body, Map<String, String> headers, Runnable primeUpstream)
            throws Exception {
        primeUpstream.run();
        HttpResponse<String> hot = post(HOT, contentType, body, headers);
        primeUpstream.run();
        HttpResponse<String> javalin = post(THROUGH_JAVALIN, contentType, body, headers);
        assertThat(javalin.body()).as(what + ": the Javalin route exists").doesNotContain("unknown_route");
        assertThat(hot.statusCode()).as(what + ": status").isEqualTo(javalin.statusCode());
        assertThat(headerNames(hot)).as(what + ": headers").isEqualTo(headerNames(javalin));
        for (String name : headerNames(hot)) {
            if (!PER_REQUEST.contains(name)) assertThat(hot.headers().allValues(name)).as(what + ": " + name).isEqualTo(javalin.headers().allValues(name));
        }
        assertThat(comparable(hot.body())).as(what + ": body").isEqualTo(comparable(javalin.body()));
        assertThat(hot.headers().firstValue("x-keel-trace-id").orElse("")).as(what).matches(TRACE_ID);
        return hot;
    }

    private static Set<String> headerNames(HttpResponse<?> r) {
        return new TreeSet<>(r.headers().map().keySet().stream().map(String::toLowerCase).filter(n -> !n.equals(":status") && !n.equals(CONNECTION))
                .toList());
    }

    /** A body with what differs per request (completion ids, times, trace ids in messages) blanked. */
    private static String comparable(String body) throws Exception {
        String text = TRACE_ID.matcher(body).replaceAll("<trace>").replaceAll("\"(id|created)\":(\"[^\"]*\"|[0-9]+)", "\"$1\":\"_\"")
                .replaceAll(": x-keel-cost-usd [0-9.]+", ": x-keel-cost-usd _");
        if (!body.startsWith("{")) return text;
        JsonNode json = JSON.readTree(text);
        if (json instanceof ObjectNode o) o.remove("system_fingerprint");
        return json.toString();
    }

    @Test
    void aCompletionIsAnsweredTheSameAsThroughJavalin() throws Exception {
        HttpResponse<String> r = sameBothWays("completion", "application/json", VALID, Map.of(), () -> fixture.primary.then(ok("Hi there!")));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isEqualTo("Hi there!");
        assertThat(r.headers().firstValue("x-keel-provider")).contains("primary");
        assertThat(Double.parseDouble(r.headers().firstValue("x-keel-overhead-ms").orElseThrow())).isGreaterThanOrEqualTo(0);
    }

    @Test
    void aStreamIsAnsweredTheSameAsThroughJavalin() throws Exception {
        String body = VALID.replace("{\"model\"", "{\"stream\":true,\"model\"");
        HttpResponse<String> r = sameBothWays("stream", "application/json", body, Map.of(), () -> fixture.primary.then(stream(List.of("Hel", "lo"), -1)));
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        assertThat(r.body()).contains("\"content\":\"Hel").endsWith("data: [DONE]\n\n");
    }

    @Test
    void refusalsAreAnsweredTheSameAsThroughJavalin() throws Exception {
        Runnable none = () -> {};
        assertThat(sameBothWays("malformed JSON", "application/json", "{\"model\":", Map.of(), none).statusCode()).isEqualTo(400);
        assertThat(sameBothWays("not JSON", "text/plain", VALID, Map.of(), none).statusCode()).isEqualTo(415);
        assertThat(sameBothWays("no content type", null, VALID, Map.of(), none).statusCode()).isEqualTo(415);
        assertThat(sameBothWays("a charset other than UTF-8", "application/json; charset=latin1", VALID, Map.of(), none).statusCode()).isEqualTo(415);
        assertThat(sameBothWays("unknown model", "application/json", VALID.replace("fast", "no-such-model"), Map.of(), none).statusCode())
                .isIn(400, 404);
        assertThat(sameBothWays("a bad tenant header", "application/json", VALID, Map.of("X-Keel-Tenant", "no spaces"), none).statusCode()).isEqualTo(400);
        assertThat(sameBothWays("another site's page", "application/json", VALID, Map.of("Origin", "https://evil.example"), none).statusCode())
                .isEqualTo(403);
        HttpResponse<String> upstreamDown = sameBothWays("upstream down", "application/json", VALID.replace("fast", "unreachable"), Map.of(), none);
        assertThat(upstreamDown.statusCode()).isEqualTo(503);
        assertThat(upstreamDown.headers().firstValue("x-keel-provider")).contains("dead");
    }

    @Test
    void aRequestRefusedBeforeItsBodyArrivedClosesTheConnectionSoTheBodyIsNeverReadAsARequest() throws Exception {
        byte[] smuggled = ("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", URI.create(fixture.base).getPort())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(("POST " + HOT + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: "
                    + smuggled.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            java.io.InputStream in = socket.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 415").containsIgnoringCase("connection: close");
            int length = Integer.parseInt(head.replaceAll("(?is).*content-length: *([0-9]+).*", "$1"));
            in.readNBytes(length);
            try {
                socket.getOutputStream().write(smuggled);
            } catch (java.io.IOException closed) {
                return; // the server closed first: nothing of the body can be read as a request
            }
            int next;
            try {
                next = in.read();
            } catch (java.net.SocketException reset) {
                next = -1; // closed, and our late write drew a reset
            }
            assertThat(next).as("no answer to the body as if it were a request").isEqualTo(-1);
        }
    }

    private static String readHead(java.io.InputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) break;
            head.append((char) c);
        }
        return head.toString();
    }

    @Test
    void aBodyOfUndeclaredLengthOverTheLimitIs413() throws Exception {
        long limit = dev.keel.config.ServerConfig.DEFAULTS.maxBodyBytes();
        byte[] head = "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"".getBytes();
        Supplier<InputStream> chunked = () -> new SequenceInputStream(new ByteArrayInputStream(head), new InputStream() {
            long left = limit;

            @Override
            public int read() {
                return left-- > 0 ? 'a' : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) return -1;
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 'a');
                left -= n;
                return n;
            }
        });
        for (String path : List.of(HOT, THROUGH_JAVALIN)) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(fixture.base + path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(chunked)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isEqualTo(413);
            assertThat(JSON.readTree(r.body()).at("/error/code").asText()).as(path).isEqualTo("body_too_large");
        }
        assertThat(fixture.primary.received).as("nothing reached the upstream").isEmpty();
    }

    @Test
    void theHotRouteRecordsItsTraceUnderItsRouteWithItsStatus() throws Exception {
        String traceId = null;
        for (int i = 0; i < 3; i++) {
            fixture.primary.then(ok("again"));
            HttpResponse<String> r = post(HOT, "application/json", VALID, Map.of());
            assertThat(r.statusCode()).isEqualTo(200);
            traceId = r.headers().firstValue("x-keel-trace-id").orElseThrow();
        }
        JsonNode trace = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(fixture.base + "/v1/traces/" + traceId)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(trace.toString()).contains("POST /v1/chat/completions").contains("\"http.status\":200");
    }
}
