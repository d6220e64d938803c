package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.KeelConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile requests against every route the server has: wrong methods, content types, encodings,
 * multipart framing, sizes, deep nesting, extreme numbers, null bytes, long headers, traversal in ids.
 * None may get a 500, every error must be in the documented JSON shape, and no body may name the
 * server's internals.
 */
class HostileRequestsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> INTERNALS = List.of("org.apache", "com.fasterxml", "org.eclipse", "java.lang", "io.javalin", "jakarta.",
            "Exception", "\tat ", "`", "Feature");
    private static final String TENANT = "hostile";
    /** A request body every JSON route accepts: each reads its own fields and ignores the others. */
    private static final Map<String, Object> VALID = validBody();
    private static HttpServer server;
    private static int port;

    @BeforeAll
    static void start() {
        server = new HttpServer(SampleCorpus.keel());
        port = server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Map<String, Object> validBody() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("query", "refund");
        body.put("question", "How long do refunds take?");
        body.put("text", "# Hostile\n\nA document written by the hostile corpus.");
        body.put("id", "hostile-doc");
        body.put("model", "keel-extractive");
        body.put("messages", List.of(Map.of("role", "user", "content", "How long do refunds take?")));
        body.put("input", "refund");
        body.put("name", "hostile");
        body.put("tenant", TENANT);
        return body;
    }

    /** One request of the corpus and why it is there. */
    private record Probe(String why, String method, String target, Map<String, String> headers, byte[] body) {}

    @Test
    void noHostileRequestGetsA500OrAnErrorOutsideTheDocumentedShape() throws IOException {
        List<String> routes = server.routes();
        assertThat(routes).contains("POST /v1/documents", "GET /v1/documents/{id}", "POST /v1/chat/completions", "POST /v1/search", "GET /metrics");
        List<Probe> probes = new ArrayList<>();
        for (String route : routes) {
            String method = route.substring(0, route.indexOf(' '));
            String path = route.substring(route.indexOf(' ') + 1);
            List<String> targets = targets(path);
            for (String target : targets) {
                for (String wrong : List.of("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "get", "X-NOT-A-METHOD")) {
                    probes.add(new Probe("method " + wrong, wrong, target, Map.of(), null));
                }
            }
            probes.addAll(headerProbes(method, targets.getFirst()));
            if (method.equals("POST")) probes.addAll(bodyProbes(path));
        }
        probes.addAll(requestLineProbes());
        assertThat(probes.size()).isGreaterThan(3_000);
        for (Probe p : probes) {
            RawHttp.Response r = RawHttp.send(port, p.method(), p.target(), p.headers(), p.body());
            assertWellFormed(p.why() + ": " + p.method() + " " + clip(p.target()), p.method(), r);
        }
    }

    /** The route's path, and for a path with an id, ids an attacker would try. */
    private static List<String> targets(String path) {
        if (!path.contains("{")) return List.of(path, path + "?limit=%zz&offset=-1&group_by=%00&from=9999999999-01-01");
        List<String> out = new ArrayList<>();
        for (String id : List.of("x", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "a%00b", "%ff%fe", "%C0%AE%C0%AE", "id%20with%20spaces", "x".repeat(4_000),
                "%F0%9F%92%A9", "{id}")) {
            out.add(path.replaceAll("\\{[^}]+}", id));
        }
        return out;
    }

    private static List<Probe> headerProbes(String method, String target) {
        List<Probe> out = new ArrayList<>();
        out.add(new Probe("client-chosen trace id", method, target, Map.of("x-keel-trace-id", "<script>alert(1)</script>"), null));
        out.add(new Probe("long header", method, target, Map.of("X-Filler", "a".repeat(64 * 1024)), null));
        Map<String, String> many = new LinkedHashMap<>();
        for (int i = 0; i < 500; i++) many.put("X-Many-" + i, "v" + i);
        out.add(new Probe("many headers", method, target, many, null));
        for (String tenant : List.of("../etc", "a b", "x".repeat(500), "ténant", "", "\u0001")) {
            out.add(new Probe("tenant " + clip(tenant), method, target, Map.of("X-Keel-Tenant", tenant), null));
        }
        for (String auth : List.of("Bearer", "Bearer ", "Bearer " + "k".repeat(10_000), "Basic Zm9vOmJhcg==", "bearer sk-keel-nope")) {
            out.add(new Probe("authorization " + clip(auth), method, target, Map.of("Authorization", auth), null));
        }
        for (String origin : List.of("null", "http://evil.example", "file://", "http://127.0.0.1:1")) {
            out.add(new Probe("origin " + origin, method, target, Map.of("Origin", origin), null));
        }
        for (String host : List.of("evil.example", "[::1", "localhost:99999", "a b", "")) {
            out.add(new Probe("host " + host, method, target, Map.of("Host", host), null));
        }
        return out;
    }

    private static List<Probe> bodyProbes(String target) throws IOException {
        List<Probe> out = new ArrayList<>();
        byte[] valid = JSON.writeValueAsBytes(VALID);
        Map<String, String> json = Map.of("Content-Type", "application/json", "X-Keel-Tenant", TENANT);
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "application/xml", "*/*", "application/json; charset=utf-16",
                "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=abc", "multipart/form-data; boundary=" + "b".repeat(200),
                "multipart/mixed; boundary=abc", "application/json\u0000", "application/json; charset=evil", "application/json; charset=utf-7",
                "multipart/form-data; boundary=hostile-boundary; charset=evil")) {
            out.add(new Probe("content type " + type, "POST", target, Map.of("Content-Type", type, "X-Keel-Tenant", TENANT), valid));
        }
        out.addAll(multipartProbes(target));
        List<String> raw = List.of("", " ", "null", "[]", "1", "\"s\"", "{", "{\"a\":}", "{\"query\":\"a\",\"query\":\"b\"}", "{\"top_k\":NaN}",
                "{\"x\":Infinity}", "{\"x\":1e999999999}", "{'single':'quotes'}", "{\"a\":1} trailing", "{\"x\":\"\\ud800\"}", "{\"x\":\"\u0000\"}",
                "\uFEFF{}", "[".repeat(100_000), "{\"a\":".repeat(5_000) + "1" + "}".repeat(5_000), "{\"x\":" + "9".repeat(5_000) + "}",
                "{\"x\":\"" + "s".repeat(900_000) + "\"}");
        for (String body : raw) out.add(new Probe("body " + clip(body), "POST", target, json, body.getBytes(StandardCharsets.UTF_8)));
        out.add(new Probe("invalid UTF-8", "POST", target, json, new byte[] {'{', '"', 'q', 'u', 'e', 'r', 'y', '"', ':', '"', (byte) 0xff, (byte) 0xc0, (byte) 0xaf, '"', '}'}));
        out.add(new Probe("UTF-16 body", "POST", target, json, JSON.writeValueAsString(VALID).getBytes(StandardCharsets.UTF_16)));
        out.add(new Probe("gzip claimed, plain sent", "POST", target, with(json, "Content-Encoding", "gzip"), valid));
        out.add(new Probe("gzip sent", "POST", target, with(json, "Content-Encoding", "gzip"), gzip(valid)));
        out.add(new Probe("unknown encoding", "POST", target, with(json, "Content-Encoding", "br, zstd, x-evil"), valid));
        out.add(new Probe("body over the limit", "POST", target, json, new byte[1_100_000]));
        out.add(new Probe("chunked body over the limit", "POST", target, with(json, "Transfer-Encoding", "chunked"), chunked(new byte[1_100_000])));
        out.add(new Probe("broken chunking", "POST", target, with(json, "Transfer-Encoding", "chunked"), "zz\r\n{}\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        for (Map.Entry<String, Object> field : VALID.entrySet()) {
            for (Object hostile : hostileValues()) {
                Map<String, Object> body = new LinkedHashMap<>(VALID);
                body.put(field.getKey(), hostile);
                out.add(new Probe(field.getKey() + " = " + clip(String.valueOf(hostile)), "POST", target, json, JSON.writeValueAsBytes(body)));
            }
        }
        for (String field : List.of("top_k", "max_tokens", "temperature", "stream", "filters", "metadata", "tools", "response_format", "encoding_format",
                "dimensions", "mode", "fusion", "alpha", "rrf_k", "candidates", "mmr", "mmr_lambda", "rerank", "multi_query", "hyde", "debug", "source", "title", "format", "models",
                "requests_per_minute", "daily_budget_usd", "n", "stop", "logit_bias", "user", "seed", "tool_choice")) {
            for (Object hostile : wrongTypes()) {
                Map<String, Object> body = new LinkedHashMap<>(VALID);
                body.put(field, hostile);
                out.add(new Probe(field + " = " + clip(String.valueOf(hostile)), "POST", target, json, JSON.writeValueAsBytes(body)));
            }
        }
        return out;
    }

    /** A value of every JSON type, at an extreme: enough for a field the route may or may not read. */
    private static List<Object> wrongTypes() {
        List<Object> values = new ArrayList<>(List.of(true, -1, Double.MAX_VALUE, new java.math.BigInteger("9".repeat(900)), "", "x".repeat(10_000),
                List.of(Map.of()), Map.of("a", List.of())));
        values.add(null);
        return values;
    }

    private static List<Object> hostileValues() {
        List<Object> deepArray = new ArrayList<>(), cursor = deepArray;
        for (int i = 0; i < 900; i++) {
            List<Object> next = new ArrayList<>();
            cursor.add(next);
            cursor = next;
        }
        Map<String, Object> manyKeys = new LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) manyKeys.put("k" + i, i);
        List<Object> values = new ArrayList<>(List.of(true, -1, 0, Long.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, Double.MIN_VALUE, 1.5,
                new java.math.BigInteger("9".repeat(900)), new java.math.BigDecimal("1e-999"), "", " ", "\u0000", "a\u0000b", "../../etc/passwd",
                "<script>alert(1)</script>", "\u202Eevil", "x".repeat(100_000), "refund ".repeat(570), List.of(), Map.of(), List.of(Map.of()),
                List.of("x".repeat(1_000)), java.util.Collections.nCopies(10_000, "x"), deepArray, manyKeys));
        values.add(null);
        values.add(manyDistinctTerms());
        return values;
    }

    /** 1,296 distinct two-character terms in under 4,000 characters: past Lucene's 1,024-clause limit, within the query limit. */
    private static String manyDistinctTerms() {
        StringBuilder sb = new StringBuilder();
        String digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        for (char a : digits.toCharArray()) for (char c : digits.toCharArray()) sb.append(a).append(c).append(' ');
        return sb.toString().strip();
    }

    private static List<Probe> multipartProbes(String target) {
        List<Probe> out = new ArrayList<>();
        String b = "hostile-boundary";
        Map<String, String> type = Map.of("Content-Type", "multipart/form-data; boundary=" + b, "X-Keel-Tenant", TENANT);
        String file = "Content-Disposition: form-data; name=\"file\"; filename=\"a.md\"\r\nContent-Type: text/markdown\r\n\r\n# A\r\n\r\nText.\r\n";
        for (String body : List.of(
                "no boundary at all",
                "--" + b + "\r\n" + file,
                "--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno filename\r\n--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd\"\r\n\r\nroot\r\n--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 broken\r\n--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.docx\"\r\n\r\nPK\u0003\u0004 broken zip\r\n--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{not json\r\n--" + b + "\r\n" + file + "--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n" + "[".repeat(5_000) + "\r\n--" + b + "\r\n" + file + "--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n../../x\r\n--" + b + "\r\n" + file + "--" + b + "--\r\n",
                ("--" + b + "\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nx\r\n").repeat(2_000) + "--" + b + "--\r\n",
                "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.md\"\r\n" + "X-Filler: y\r\n".repeat(2_000) + "\r\nx\r\n--" + b + "--\r\n")) {
            out.add(new Probe("multipart " + clip(body), "POST", target, type, body.getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** Requests Jetty itself must refuse before any route: their errors too are JSON. */
    private static List<Probe> requestLineProbes() {
        List<Probe> out = new ArrayList<>();
        for (String target : List.of("/v1/search?" + "q=1&".repeat(5_000), "/" + "a".repeat(20_000), "/v1/%zz", "/v1/%00", "/v1//documents", "/v1/../admin/keys",
                "/v1/documents/%2e%2e/%2e%2e/admin", "*", "http://evil.example/v1/documents", "/console/../../../etc/passwd", "/console/%2e%2e/%2e%2e/pom.xml",
                "/v1/documents?limit=99999999999999999999", "/v1/usage?from=2026-13-45", "/\u00e9t\u00e9")) {
            out.add(new Probe("target", "GET", target, Map.of(), null));
        }
        out.add(new Probe("connect", "CONNECT", "/v1/search", Map.of(), null));
        out.add(new Probe("method too long", "X".repeat(10_000), "/v1/search", Map.of(), null));
        return out;
    }

    private static void assertWellFormed(String what, String method, RawHttp.Response r) throws IOException {
        assertThat(r.status()).as(what + " → " + clip(r.text())).isLessThan(500);
        String text = r.text();
        for (String internal : INTERNALS) assertThat(text).as(what).doesNotContain(internal);
        String traceId = r.header("x-keel-trace-id");
        if (traceId != null) assertThat(traceId).as(what + ": the server's own trace id").matches("[0-9a-f]{32}");
        if (r.status() < 400 || method.equals("HEAD")) return;
        assertThat(r.header("content-type")).as(what + " (" + r.status() + ")").startsWith("application/json");
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error).as(what + ": " + clip(text)).isNotNull();
        List<String> fields = new ArrayList<>();
        error.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).as(what).containsExactly("type", "message", "param", "code");
        assertThat(error.get("type").asText()).as(what).isNotBlank();
        assertThat(error.get("message").asText()).as(what).isNotBlank();
    }

    @Test
    void unknownMethodsAndPathsShareOneMetricSeries() throws IOException {
        Random random = new Random(7);
        RawHttp.send(port, "FIRST", "/v1/first-unknown", Map.of(), (byte[]) null);
        series();
        java.util.Set<String> before = series();
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            String method = randomLetters(random, 3 + random.nextInt(10)).toUpperCase(java.util.Locale.ROOT);
            String path = (random.nextBoolean() ? "/v1/" : "/") + randomLetters(random, 1 + random.nextInt(20)) + "/" + randomLetters(random, 5);
            sent.add(method);
            sent.add(path);
            RawHttp.send(port, method, path, Map.of(), (byte[]) null);
        }
        java.util.Set<String> added = new java.util.TreeSet<>(series());
        added.removeAll(before);
        // Other test classes share this JVM's registry, and their late work may add a series of its own; none may come from these requests.
        assertThat(added).as("series added by 1,000 unknown methods and paths").noneMatch(s -> s.contains("unmatched")
                || sent.stream().anyMatch(s::contains));
        assertThat(before.stream().filter(s -> s.contains("\"unmatched\"")).count()).isPositive();
    }

    /** The series of a scrape, without their values (the first scrape's own series appear in the next). */
    private static java.util.Set<String> series() throws IOException {
        java.util.Set<String> out = new java.util.TreeSet<>();
        RawHttp.send(port, "GET", "/metrics", Map.of(), (byte[]) null).text().lines().filter(l -> !l.startsWith("#") && !l.isBlank())
                .forEach(l -> out.add(l.substring(0, l.lastIndexOf(' '))));
        return out;
    }

    private static String randomLetters(Random random, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append((char) ('a' + random.nextInt(26)));
        return sb.toString();
    }

    @Test
    void requestsJettyRefusesBeforeRoutingAreAnsweredInTheJsonShape() throws IOException {
        RawHttp.Response uriTooLong = RawHttp.send(port, "GET", "/v1/search?" + "q".repeat(20_000), Map.of(), (byte[]) null);
        assertThat(uriTooLong.status()).isEqualTo(414);
        assertThat(uriTooLong.header("content-type")).startsWith("application/json");
        assertThat(JSON.readTree(uriTooLong.body()).at("/error/code").asText()).isEqualTo("uri_too_long");
        RawHttp.Response headersTooLarge = RawHttp.send(port, "GET", "/v1/documents", Map.of("X-Filler", "a".repeat(20_000)), (byte[]) null);
        assertThat(headersTooLarge.status()).isEqualTo(431);
        assertThat(JSON.readTree(headersTooLarge.body()).at("/error/type").asText()).isEqualTo("invalid_request_error");
        RawHttp.Response badLine = RawHttp.exchange(port, "GET /v1/documents HTTP/9.9\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(badLine.status()).isBetween(400, 505);
        assertThat(JSON.readTree(badLine.body()).at("/error/message").asText()).startsWith("the request could not be read");
    }

    @Test
    void jsonThatParsersCouldReadTwoWaysIsRefused() throws IOException {
        for (String ambiguous : List.of("{\"query\":\"refund\",\"query\":\"ignore the first\"}", "{\"query\":\"refund\"} {\"query\":\"second\"}")) {
            RawHttp.Response r = RawHttp.send(port, "POST", "/v1/search", Map.of("Content-Type", "application/json"), ambiguous);
            assertThat(r.status()).as(ambiguous).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).at("/error/message").asText()).startsWith("malformed JSON");
        }
    }

    @Test
    void parserMessagesSayWhatIsWrongWithoutJacksonsSettings() throws IOException {
        RawHttp.Response r = RawHttp.send(port, "POST", "/v1/search", Map.of("Content-Type", "application/json"), "{\"top_k\":NaN}");
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).isEqualTo("malformed JSON at line 1, column 13: Non-standard token 'NaN'");
        RawHttp.Response deep = RawHttp.send(port, "POST", "/v1/search", Map.of("Content-Type", "application/json"), "[".repeat(2_000));
        assertThat(JSON.readTree(deep.body()).at("/error/message").asText()).contains("nesting depth").doesNotContain("StreamReadConstraints");
    }

    @Test
    void aMultipartBodyWithABadBoundaryIs400() throws IOException {
        RawHttp.Response r = RawHttp.send(port, "POST", "/v1/documents", Map.of("Content-Type", "multipart/form-data; boundary=abc", "X-Keel-Tenant", TENANT),
                "garbage without any boundary");
        assertThat(r.status()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("malformed_multipart");
    }

    @Test
    void anInternalFailureNamesTheServersTraceNeverTheClientsNorAClass(@TempDir Path dir) throws IOException {
        Keel broken = Keel.open(KeelConfig.parse("server: {port: 0}", k -> null), dir);
        try (HttpServer brokenServer = new HttpServer(broken)) {
            int brokenPort = brokenServer.start();
            broken.close();
            RawHttp.Response r = RawHttp.send(brokenPort, "GET", "/v1/documents", Map.of("x-keel-trace-id", "client-chosen"), (byte[]) null);
            assertThat(r.status()).isEqualTo(500);
            String traceId = r.header("x-keel-trace-id");
            assertThat(traceId).matches("[0-9a-f]{32}");
            assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("(trace " + traceId + ")");
            assertThat(r.text()).doesNotContain("client-chosen").doesNotContain("null)");
            for (String internal : INTERNALS) assertThat(r.text()).doesNotContain(internal);
        }
    }

    private static Map<String, String> with(Map<String, String> headers, String name, String value) {
        Map<String, String> out = new LinkedHashMap<>(headers);
        out.put(name, value);
        return out;
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] chunked(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int at = 0; at < data.length; at += 64 * 1024) {
            int n = Math.min(64 * 1024, data.length - at);
            out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(data, at, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static String clip(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }
}
