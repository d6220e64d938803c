package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.SampleCorpus;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class HttpApiTest extends SampleServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> send(String method, String path, String contentType, String body, String tenant) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) b.header("Content-Type", contentType);
        if (tenant != null) b.header("X-Keel-Tenant", tenant);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> postJson(String path, String body, String tenant) throws Exception {
        return send("POST", path, "application/json", body, tenant);
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static void assertError(HttpResponse<String> r, int status, String messagePart) throws Exception {
        assertThat(r.statusCode()).isEqualTo(status);
        JsonNode err = json(r).get("error");
        assertThat(err).isNotNull();
        assertThat(err.get("type").asText()).isNotBlank();
        assertThat(err.get("message").asText()).contains(messagePart);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void documentLifecycleOverJson() throws Exception {
        String tenant = "http-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> created = postJson("/v1/documents",
                "{\"id\":\"handbook\",\"text\":\"# Handbook\\n\\n## Leave\\n\\nEmployees get 28 days of paid leave per year.\",\"metadata\":{\"team\":\"hr\"}}", tenant);
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.headers().firstValue("x-keel-trace-id")).isPresent();
        assertThat(json(created).get("status").asText()).isEqualTo("added");

        HttpResponse<String> again = postJson("/v1/documents", "{\"id\":\"handbook\",\"text\":\"# Handbook\\n\\n## Leave\\n\\nEmployees get 28 days of paid leave per year.\",\"metadata\":{\"team\":\"hr\"}}", tenant);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(json(again).get("status").asText()).isEqualTo("unchanged");

        JsonNode doc = json(send("GET", "/v1/documents/handbook", null, null, tenant));
        assertThat(doc.get("title").asText()).isEqualTo("Handbook");
        assertThat(doc.get("metadata").get("team").asText()).isEqualTo("hr");
        assertThat(doc.get("chunks").get(0).get("section").asText()).isEqualTo("Leave");

        JsonNode list = json(send("GET", "/v1/documents", null, null, tenant));
        assertThat(list.get("data")).hasSize(1);

        JsonNode answer = json(postJson("/v1/answer", "{\"question\":\"How many days of paid leave do employees get?\"}", tenant));
        assertThat(answer.get("answered").asBoolean()).isTrue();
        assertThat(answer.get("answer").asText()).contains("28 days");
        assertThat(answer.get("citations").get(0).get("doc_id").asText()).isEqualTo("handbook");

        assertThat(send("GET", "/v1/documents/handbook", null, null, "someone-else").statusCode()).isEqualTo(404);
        assertThat(send("DELETE", "/v1/documents/handbook", null, null, tenant).statusCode()).isEqualTo(200);
        assertError(send("GET", "/v1/documents/handbook", null, null, tenant), 404, "handbook");
        assertError(send("DELETE", "/v1/documents/handbook", null, null, tenant), 404, "handbook");
    }

    @Test
    void multipartUploadOfAPdf() throws Exception {
        String tenant = "upload-" + UUID.randomUUID().toString().substring(0, 8);
        byte[] pdf = java.nio.file.Files.readAllBytes(SampleCorpus.DOCS.resolve("security-whitepaper.pdf"));
        HttpResponse<String> r = http.send(multipart("whitepaper.pdf", "application/pdf", pdf, tenant), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(json(r).get("chunk_count").asInt()).isPositive();
    }

    @Test
    void unsupportedUploadTypeIs415NamingTheType() throws Exception {
        HttpResponse<String> r = http.send(multipart("tool.exe", "application/octet-stream", new byte[] {77, 90}, "x"), HttpResponse.BodyHandlers.ofString());
        assertError(r, 415, ".exe");
    }

    @Test
    void emptyDocumentIs422NamingTheFile() throws Exception {
        HttpResponse<String> r = http.send(multipart("blank.md", "text/markdown", "   \n".getBytes(StandardCharsets.UTF_8), "x"), HttpResponse.BodyHandlers.ofString());
        assertError(r, 422, "blank.md");
    }

    @Test
    void malformedJsonIs400NamingTheProblem() throws Exception {
        assertError(postJson("/v1/search", "{\"query\": ", null), 400, "malformed JSON");
        assertError(postJson("/v1/search", "{\"query\": 42}", null), 400, "'query' must be a string");
        assertError(postJson("/v1/search", "{\"query\": \"x\", \"mode\": \"psychic\"}", null), 400, "'mode' must be one of");
        assertThat(json(postJson("/v1/search", "{\"query\": 42}", null)).get("error").get("param").asText()).isEqualTo("query");
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        String big = "{\"text\":\"" + "a".repeat(1_100_000) + "\"}";
        // Expect: 100-continue, as careful clients send large bodies: the server refuses before the body is sent, so the
        // client reads the 413 instead of racing the server's close while still writing.
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/documents")).expectContinue(true)
                .header("Content-Type", "application/json").header("X-Keel-Tenant", "x").POST(HttpRequest.BodyPublishers.ofString(big)).build();
        assertError(http.send(request, HttpResponse.BodyHandlers.ofString()), 413, "limit");
    }

    @Test
    void aDeclaredBodyPastTwoGigabytesIs413AtOnceNotAWaitForTheBody() throws Exception {
        URI uri = URI.create(base);
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 999999999999\r\n\r\n{").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String head = new String(socket.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(head).isEqualTo("HTTP/1.1 413");
        }
    }

    @Test
    void usageDatesFarOutsideTheEpochAre400NotAnOverflow() throws Exception {
        assertError(send("GET", "/v1/usage?from=-999999999-01-01", null, null, "x"), 400, "between the years");
        assertError(send("GET", "/v1/usage?to=%2B999999999-12-31", null, null, "x"), 400, "between the years");
    }

    @Test
    void aJsonBodyInACharsetOtherThanUtf8Is415() throws Exception {
        assertError(send("POST", "/v1/search", "application/json; charset=evil", "{\"query\":\"refund\"}", "x"), 415, "UTF-8");
        assertThat(send("POST", "/v1/search", "application/json; charset=UTF-8", "{\"query\":\"refund\"}", "x").statusCode()).isEqualTo(200);
    }

    @Test
    void aCompressedBodyIs415SayingSoNotMalformedJson() throws Exception {
        for (String path : java.util.List.of("/v1/search", "/v1/chat/completions")) {
            java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
            try (var gzip = new java.util.zip.GZIPOutputStream(zipped)) {
                gzip.write("{\"query\":\"refund\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                    .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(zipped.toByteArray())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertError(r, 415, "Content-Encoding 'gzip'");
        }
        HttpResponse<String> identity = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/search")).header("Content-Type", "application/json")
                .header("Content-Encoding", "identity").POST(HttpRequest.BodyPublishers.ofString("{\"query\":\"refund\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(identity.statusCode()).isEqualTo(200);
    }

    @Test
    void wrongContentTypeIs415() throws Exception {
        assertError(send("POST", "/v1/documents", "text/csv", "a,b", "x"), 415, "text/csv");
    }

    @Test
    void searchDebugShowsBm25VectorAndFusedLists() throws Exception {
        JsonNode r = json(postJson("/v1/search", "{\"query\":\"webhook signature verification\",\"debug\":true,\"top_k\":5}", null));
        assertThat(r.get("data")).hasSize(5);
        assertThat(r.get("data").get(0).get("source").asText()).endsWith("webhooks.md");
        for (String list : List.of("bm25", "vector", "fused", "final")) assertThat(r.get("debug").get(list)).isNotEmpty();
        JsonNode trace = json(send("GET", "/v1/traces/" + r.get("trace_id").asText(), null, null, null));
        List<String> spans = new ArrayList<>();
        trace.get("spans").forEach(s -> spans.add(s.get("name").asText()));
        assertThat(spans).contains("embed_query", "bm25", "knn", "fuse", "retrieve");
    }

    @Test
    void searchDebugSplitsBm25ScoresByFieldAndShowsTheFeedbackTerms() throws Exception {
        JsonNode r = json(postJson("/v1/search", "{\"query\":\"webhook signature verification\",\"debug\":true,\"prf\":true}", null));
        JsonNode top = r.get("debug").get("bm25").get(0);
        assertThat(top.get("parts").get("title").asDouble() + top.get("parts").get("body").asDouble() + top.get("parts").get("prf").asDouble())
                .isCloseTo(top.get("score").asDouble(), org.assertj.core.api.Assertions.within(1e-3));
        assertThat(r.get("debug").get("prf_terms")).isNotEmpty();
        assertThat(r.get("debug").get("prf_terms").get(0).has("term")).isTrue();
        assertThat(r.get("debug").get("vector").get(0).has("parts")).as("only BM25 entries have parts").isFalse();
        assertError(postJson("/v1/search", "{\"query\":\"webhook\",\"prf\":\"yes\"}", null), 400, "prf");
    }

    @Test
    void aPrefixFilterOverTheLimitIs400NamingTheLimit() throws Exception {
        String prefix = "/".repeat(257);
        for (String path : List.of("/v1/search", "/v1/answer")) {
            assertError(postJson(path, "{\"query\":\"refunds\",\"filters\":{\"source_prefix\":\"" + prefix + "\"}}", null), 400,
                    "longer than 256 characters");
        }
    }

    @Test
    void moreThanAThousandDocIdsInAFilterIs400NamingTheParameterWhateverTheIndex() throws Exception {
        String ids = java.util.stream.IntStream.range(0, 1_001).mapToObj(i -> "\"doc-" + i + "\"").collect(java.util.stream.Collectors.joining(","));
        for (String path : List.of("/v1/search", "/v1/answer")) {
            HttpResponse<String> r = postJson(path, "{\"query\":\"refunds\",\"filters\":{\"doc_ids\":[" + ids + "]}}", null);
            assertError(r, 400, "at most 1000");
            assertThat(json(r).at("/error/param").asText()).isEqualTo("filters.doc_ids");
        }
        String thousand = ids.substring(0, ids.lastIndexOf(','));
        assertThat(postJson("/v1/search", "{\"query\":\"refunds\",\"filters\":{\"doc_ids\":[" + thousand + "]}}", null).statusCode()).isEqualTo(200);
    }

    @Test
    void answerStreamsSourcesThenDeltasThenDone() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/answer?stream=true"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"question\":\"How long is the free trial?\"}")).build();
        HttpResponse<java.io.InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        assertThat(r.headers().firstValue("x-accel-buffering")).contains("no");
        List<String> events = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        JsonNode done = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line, event = null;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("event: ")) event = line.substring(7);
                if (line.startsWith("data: ")) {
                    events.add(event);
                    JsonNode data = JSON.readTree(line.substring(6));
                    if ("delta".equals(event)) text.append(data.get("text").asText());
                    if ("done".equals(event)) done = data;
                }
            }
        }
        assertThat(events.get(0)).isEqualTo("sources");
        assertThat(events.get(events.size() - 1)).isEqualTo("done");
        assertThat(events).contains("delta");
        assertThat(done).isNotNull();
        assertThat(text.toString()).isEqualTo(done.get("answer").asText());
        assertThat(done.get("citations")).isNotEmpty();
    }

    @Test
    void healthAndMetricsEndpoints() throws Exception {
        assertThat(send("GET", "/health/live", null, null, null).statusCode()).isEqualTo(200);
        JsonNode ready = json(send("GET", "/health/ready", null, null, null));
        assertThat(ready.get("status").asText()).isEqualTo("ready");
        postJson("/v1/search", "{\"query\":\"refunds\"}", null);
        String metrics = send("GET", "/metrics", null, null, null).body();
        assertThat(metrics).contains("keel_stage_seconds_count").contains("stage=\"bm25\"");
    }

    @Test
    void unknownRouteIs404InErrorShapeWithATraceId() throws Exception {
        HttpResponse<String> r = send("GET", "/v1/nothing-here", null, null, null);
        assertError(r, 404, "/v1/nothing-here");
        assertThat(r.headers().firstValue("x-keel-trace-id")).isPresent();
        assertThat(new ObjectMapper().readTree(r.body()).at("/error/code").asText()).isEqualTo("unknown_route");
        HttpResponse<String> wrongMethod = send("GET", "/v1/chat/completions", null, null, null);
        assertError(wrongMethod, 404, "GET /v1/chat/completions");
        assertThat(new ObjectMapper().readTree(wrongMethod.body()).at("/error/code").asText()).isEqualTo("unknown_route");
        HttpResponse<String> longPath = send("GET", "/v1/" + "x".repeat(2_000), null, null, null);
        assertThat(new ObjectMapper().readTree(longPath.body()).at("/error/message").asText()).as("the path is quoted, cut short").hasSizeLessThan(300);
    }

    @Test
    void mmrDiversifiesSearchResultsOnRequestAlsoThroughTheDeprecatedFlag() throws Exception {
        JsonNode plain = json(postJson("/v1/search", "{\"query\":\"refund\",\"top_k\":5}", null));
        JsonNode diverse = json(postJson("/v1/search", "{\"query\":\"refund\",\"top_k\":5,\"mmr\":true,\"mmr_lambda\":0.3}", null));
        assertThat(diverse.get("data")).hasSize(5);
        java.util.Set<String> plainDocs = new java.util.HashSet<>(), diverseDocs = new java.util.HashSet<>();
        plain.get("data").forEach(h -> plainDocs.add(h.get("doc_id").asText()));
        diverse.get("data").forEach(h -> diverseDocs.add(h.get("doc_id").asText()));
        assertThat(diverseDocs.size()).isGreaterThanOrEqualTo(plainDocs.size());
        List<String> spans = new ArrayList<>();
        json(send("GET", "/v1/traces/" + diverse.get("trace_id").asText(), null, null, null)).get("spans").forEach(s -> spans.add(s.get("name").asText()));
        assertThat(spans).contains("rerank");
        JsonNode viaRerank = json(postJson("/v1/search", "{\"query\":\"refund\",\"top_k\":5,\"rerank\":\"mmr\",\"mmr_lambda\":0.3}", null));
        assertThat(viaRerank.get("data").findValuesAsText("chunk_id")).isEqualTo(diverse.get("data").findValuesAsText("chunk_id"));
    }

    @Test
    void tracesOfOneTenantAreInvisibleToAnother() throws Exception {
        JsonNode r = json(postJson("/v1/search", "{\"query\":\"refund\"}", "tenant-a"));
        assertThat(send("GET", "/v1/traces/" + r.get("trace_id").asText(), null, null, "tenant-a").statusCode()).isEqualTo(200);
        assertThat(send("GET", "/v1/traces/" + r.get("trace_id").asText(), null, null, "tenant-b").statusCode()).isEqualTo(404);
    }

    private HttpRequest multipart(String filename, String type, byte[] content, String tenant) {
        String boundary = "keel" + UUID.randomUUID();
        var out = new java.io.ByteArrayOutputStream();
        out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
                + "\"\r\nContent-Type: " + type + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(content);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(URI.create(base + "/v1/documents"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("X-Keel-Tenant", tenant)
                .POST(HttpRequest.BodyPublishers.ofByteArray(out.toByteArray())).build();
    }

    @Test
    void theBuiltInExtractiveModelChatsWithTheDocumentsAndCitesThem() throws Exception {
        JsonNode models = json(send("GET", "/v1/models", null, null, null));
        assertThat(models.findValuesAsText("id")).contains("keel-extractive");

        HttpResponse<String> r = postJson("/v1/chat/completions", """
                {"model":"keel-extractive","messages":[{"role":"system","content":"Be brief."},
                 {"role":"user","content":"How long do I have to request a refund on an annual plan?"}]}""", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-keel-provider")).hasValue("keel");
        JsonNode body = json(r);
        String content = body.at("/choices/0/message/content").asText();
        assertThat(content).contains("30 days").contains("Sources:").contains("[1]").contains("refunds.md").contains("no language model was used");
        assertThat(body.at("/model").asText()).isEqualTo("keel-extractive");
        assertThat(body.at("/usage/completion_tokens").asLong()).isPositive();

        JsonNode unknown = json(postJson("/v1/chat/completions",
                "{\"model\":\"keel-extractive\",\"messages\":[{\"role\":\"user\",\"content\":\"What is the phone number of the Orbitly office in Tokyo?\"}]}", null));
        assertThat(unknown.at("/choices/0/message/content").asText()).contains("don't answer this question").doesNotContain("Sources:");

        HttpResponse<String> tools = postJson("/v1/chat/completions", """
                {"model":"keel-extractive","messages":[{"role":"user","content":"hi"}],
                 "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}""", null);
        assertError(tools, 400, "does not support tools");
    }

    @Test
    void theExtractiveModelStreamsItsAnswerInOpenAiChunks() throws Exception {
        HttpResponse<String> r = postJson("/v1/chat/completions", """
                {"model":"keel-extractive","stream":true,"stream_options":{"include_usage":true},
                 "messages":[{"role":"user","content":"Are monthly subscriptions refundable?"}]}""", null);
        assertThat(r.statusCode()).isEqualTo(200);
        StringBuilder text = new StringBuilder();
        boolean usage = false;
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertThat(events.getLast()).isEqualTo("[DONE]");
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = JSON.readTree(e);
            assertThat(chunk.get("object").asText()).isEqualTo("chat.completion.chunk");
            for (JsonNode c : chunk.path("choices")) text.append(c.path("delta").path("content").asText(""));
            usage |= chunk.path("usage").path("completion_tokens").asLong() > 0;
        }
        assertThat(text.toString()).contains("not refundable").contains("Sources:");
        assertThat(usage).isTrue();
    }
}
