package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.engines.OtlpReceiver;
import dev.keel.engines.OtlpReceiver.ReceivedSpan;
import dev.keel.http.HttpServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Keel's traces reach a real OTLP/HTTP receiver over the wire, continue a caller's W3C trace
 * context, and hand it on to the provider — for chat completions (blocking and streamed),
 * embeddings and grounded answers; a collector that is down costs requests nothing.
 */
class TraceExportOverHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Duration EXPORTED_WITHIN = Duration.ofSeconds(15);
    private static final String ADMIN = "admin-secret-for-otel-tests", COLLECTOR_TOKEN = "collector-token-s3cret";
    private static final String CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736", CALLER_SPAN = "00f067aa0ba902b7";
    private static final String CALLER = "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01";
    /** Text only a user sent: it must never reach a span. */
    private static final String USER_TEXT = "my-private-marker-7781";

    static OtlpReceiver receiver;
    static FakeLlmServer llm;
    static Keel keel;
    static HttpServer server;
    static String base, acmeKey, rivalKey;

    @BeforeAll
    static void start() throws Exception {
        receiver = new OtlpReceiver();
        llm = new FakeLlmServer();
        String yaml = """
                server: {port: 0, admin_key: %s}
                providers:
                  llm: {type: openai, base_url: "%s", max_retries: 0}
                  claude: {type: anthropic, base_url: "%s", api_key: not-a-real-key, max_retries: 0}
                models:
                  writer:
                    targets: [{provider: llm, model: upstream-writer, input_per_mtok: 1.0, output_per_mtok: 2.0}]
                  claude:
                    targets: [{provider: claude, model: claude-upstream}]
                  vectors:
                    kind: embedding
                    targets: [{provider: llm, model: upstream-vectors}]
                answer: {model: writer}
                cache: {exact: {enabled: false}, semantic: {enabled: false}}
                telemetry:
                  service_name: keel-under-test
                  otlp:
                    endpoint: %s
                    headers: {Authorization: "Bearer ${OTLP_TOKEN}"}
                """.formatted(ADMIN, llm.baseUrl(), llm.baseUrl(), receiver.endpoint());
        keel = Keel.open(KeelConfig.parse(yaml, Map.of("OTLP_TOKEN", COLLECTOR_TOKEN)::get), Files.createTempDirectory("keel-otel-"));
        keel.ingestor().ingest("acme", GroundedAnswersTest.markdown("handbook", GroundedAnswersTest.HANDBOOK), keel.traces().start("ingest", "acme"));
        keel.index().commit();
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
        acmeKey = key("acme");
        rivalKey = key("rival");
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
        llm.close();
        receiver.close();
    }

    @BeforeEach
    void reset() {
        llm.reset();
    }

    private static String key(String tenant) throws Exception {
        HttpResponse<String> r = send("POST", "/admin/keys", ADMIN, "{\"name\":\"" + tenant + "\",\"tenant\":\"" + tenant + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key").asText();
    }

    private static HttpResponse<String> send(String method, String path, String bearer, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + bearer)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String chat(boolean stream) throws Exception {
        return JSON.writeValueAsString(Map.of("model", "writer", "stream", stream, "max_tokens", 50, "temperature", 0.2,
                "messages", List.of(Map.of("role", "user", "content", "Say hello to " + USER_TEXT))));
    }

    private static Predicate<List<ReceivedSpan>> hasSpans(String... names) {
        return spans -> spans.stream().map(ReceivedSpan::name).toList().containsAll(List.of(names));
    }

    private static ReceivedSpan named(List<ReceivedSpan> spans, String name) {
        return spans.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no " + name + " in " + spans));
    }

    /** The traceparent the fake provider received on its only request. */
    private static String upstreamTraceparent() {
        assertThat(llm.received).hasSize(1);
        return llm.received.getFirst().headers().get("Traceparent").getFirst();
    }

    private static void assertCarriesNoUserText(List<ReceivedSpan> spans) {
        for (ReceivedSpan s : spans) {
            assertThat(s.attributes().toString()).as(s.name()).doesNotContain(USER_TEXT).doesNotContain("28 days").doesNotContain(COLLECTOR_TOKEN);
        }
    }

    @Test
    void aChatCompletionContinuesTheCallersTraceAndTheProviderSeesItsSpanAsParent() throws Exception {
        HttpResponse<String> r = send("POST", "/v1/chat/completions", acmeKey, chat(false), "traceparent", CALLER, "tracestate", "caller=1");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String keelId = r.headers().firstValue("x-keel-trace-id").orElseThrow();
        List<ReceivedSpan> spans = receiver.await(CALLER_TRACE, s -> s.stream().anyMatch(x -> x.attributes().get("keel.trace_id") != null
                && x.attributes().get("keel.trace_id").equals(keelId)) && hasSpans("chat upstream-writer").test(s), EXPORTED_WITHIN);

        ReceivedSpan root = named(spans, "POST /v1/chat/completions");
        assertThat(root.parentSpanId()).isEqualTo(CALLER_SPAN);
        assertThat(root.kind()).isEqualTo("SPAN_KIND_SERVER");
        assertThat(root.attributes()).containsEntry("keel.trace_id", keelId).containsEntry("keel.tenant", "acme")
                .containsEntry("gen_ai.request.model", "writer").containsEntry("gen_ai.usage.input_tokens", 9L)
                .containsEntry("http.response.status_code", 200L).containsKey("keel.cost_usd");
        assertThat(root.resource()).containsEntry("service.name", "keel-under-test").containsKey("service.instance.id");

        ReceivedSpan provider = named(spans, "chat upstream-writer");
        assertThat(provider.kind()).isEqualTo("SPAN_KIND_CLIENT");
        assertThat(provider.parentSpanId()).isEqualTo(root.spanId());
        assertThat(provider.attributes()).containsEntry("gen_ai.operation.name", "chat").containsEntry("gen_ai.provider.name", "openai")
                .containsEntry("gen_ai.request.model", "upstream-writer").containsEntry("gen_ai.response.model", "upstream-writer")
                .containsEntry("gen_ai.request.max_tokens", 50L).containsEntry("gen_ai.request.temperature", 0.2)
                .containsEntry("gen_ai.usage.input_tokens", 9L).containsEntry("gen_ai.response.finish_reasons", List.of("stop"));
        assertThat(provider.startNanos()).isGreaterThanOrEqualTo(root.startNanos());
        assertThat(provider.endNanos()).isLessThanOrEqualTo(root.endNanos());
        assertThat(upstreamTraceparent()).isEqualTo("00-" + CALLER_TRACE + "-" + provider.spanId() + "-01");
        assertThat(llm.received.getFirst().headers().get("Tracestate")).containsExactly("caller=1");
        assertCarriesNoUserText(spans);
        assertThat(receiver.requestHeaders().getFirst().get("Authorization")).containsExactly("Bearer " + COLLECTOR_TOKEN);
    }

    @Test
    void aStreamedChatCompletionIsExportedTooWithItsProviderSpanAsTheUpstreamsParent() throws Exception {
        llm.then(FakeLlmServer.stream(List.of("Hello ", "there."), -1));
        String traceparent = "00-" + "1".repeat(32) + "-" + "2".repeat(16) + "-01";
        HttpResponse<String> r = send("POST", "/v1/chat/completions", acmeKey, chat(true), "traceparent", traceparent);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("[DONE]");
        List<ReceivedSpan> spans = receiver.await("1".repeat(32), hasSpans("POST /v1/chat/completions", "chat upstream-writer"), EXPORTED_WITHIN);
        ReceivedSpan provider = named(spans, "chat upstream-writer");
        assertThat(named(spans, "POST /v1/chat/completions").attributes()).containsEntry("keel.stream", true);
        assertThat(provider.attributes()).containsEntry("gen_ai.operation.name", "chat").containsEntry("gen_ai.response.model", "upstream-writer")
                .containsEntry("gen_ai.response.finish_reasons", List.of("stop"));
        assertThat(upstreamTraceparent()).isEqualTo("00-" + "1".repeat(32) + "-" + provider.spanId() + "-01");
        assertCarriesNoUserText(spans);
    }

    @Test
    void aGroundedAnswerWithoutCallerContextIsExportedUnderKeelsOwnTraceId() throws Exception {
        llm.then(FakeLlmServer.okFrom(req -> "Employees get 28 days of paid leave per year [" + GroundedAnswersTest.blockWith(req, "28 days") + "]."));
        HttpResponse<String> r = send("POST", "/v1/answer", acmeKey, JSON.writeValueAsString(Map.of("question", GroundedAnswersTest.LEAVE)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String keelId = r.headers().firstValue("x-keel-trace-id").orElseThrow();
        List<ReceivedSpan> spans = receiver.await(keelId, hasSpans("POST /v1/answer", "retrieve", "chat upstream-writer"), EXPORTED_WITHIN);
        ReceivedSpan root = named(spans, "POST /v1/answer");
        assertThat(root.parentSpanId()).as("a trace that starts in Keel").isEmpty();
        assertThat(named(spans, "retrieve").parentSpanId()).isEqualTo(root.spanId());
        assertThat(named(spans, "retrieve").durationMs()).isPositive();
        assertThat(upstreamTraceparent()).isEqualTo("00-" + keelId + "-" + named(spans, "chat upstream-writer").spanId() + "-01");
        assertCarriesNoUserText(spans);
    }

    @Test
    void anAnthropicCallCarriesTheTraceparentAndNamesItsProtocol() throws Exception {
        llm.then(FakeLlmServer.anthropic("Hello.", null, null, "end_turn"));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", acmeKey, chat(false).replace("\"writer\"", "\"claude\""));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String keelId = r.headers().firstValue("x-keel-trace-id").orElseThrow();
        ReceivedSpan provider = named(receiver.await(keelId, hasSpans("chat claude-upstream"), EXPORTED_WITHIN), "chat claude-upstream");
        assertThat(provider.attributes()).containsEntry("gen_ai.provider.name", "anthropic").containsEntry("gen_ai.usage.output_tokens", 6L);
        assertThat(llm.received.getFirst().path()).isEqualTo("/v1/messages");
        assertThat(upstreamTraceparent()).isEqualTo("00-" + keelId + "-" + provider.spanId() + "-01");
    }

    @Test
    void anEmbeddingsCallIsAnEmbeddingsSpanWithItsTraceparentUpstream() throws Exception {
        llm.then(FakeLlmServer.embeddings());
        HttpResponse<String> r = send("POST", "/v1/embeddings", acmeKey, "{\"model\":\"vectors\",\"input\":[\"" + USER_TEXT + "\"]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String keelId = r.headers().firstValue("x-keel-trace-id").orElseThrow();
        List<ReceivedSpan> spans = receiver.await(keelId, hasSpans("embeddings upstream-vectors"), EXPORTED_WITHIN);
        ReceivedSpan provider = named(spans, "embeddings upstream-vectors");
        assertThat(provider.attributes()).containsEntry("gen_ai.operation.name", "embeddings").containsEntry("gen_ai.request.model", "upstream-vectors");
        assertThat(upstreamTraceparent()).isEqualTo("00-" + keelId + "-" + provider.spanId() + "-01");
        assertCarriesNoUserText(spans);
    }

    @Test
    void aTracestateSplitOverSeveralHeaderLinesReachesTheProviderAsOneList() throws Exception {
        HttpResponse<String> r = send("POST", "/v1/chat/completions", acmeKey, chat(false), "traceparent", "00-" + "6".repeat(32) + "-" + CALLER_SPAN + "-01",
                "tracestate", "a=1", "tracestate", "b=2");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(llm.received.getFirst().headers().get("Tracestate")).containsExactly("a=1,b=2");
    }

    @Test
    void aCallersTraceIdNeitherNamesNorSharesAKeelTrace() throws Exception {
        String shared = "00-" + "3".repeat(32) + "-" + "4".repeat(16) + "-01";
        HttpResponse<String> acme = send("POST", "/v1/chat/completions", acmeKey, chat(false), "traceparent", shared);
        HttpResponse<String> rival = send("POST", "/v1/chat/completions", rivalKey, chat(false), "traceparent", shared);
        String acmeId = acme.headers().firstValue("x-keel-trace-id").orElseThrow(), rivalId = rival.headers().firstValue("x-keel-trace-id").orElseThrow();
        assertThat(acmeId).isNotEqualTo(rivalId).isNotEqualTo("3".repeat(32));
        assertThat(send("GET", "/v1/traces/" + acmeId, acmeKey, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/v1/traces/" + rivalId, rivalKey, null).statusCode()).as("not overwritten by the same traceparent").isEqualTo(200);
        assertThat(send("GET", "/v1/traces/" + acmeId, rivalKey, null).statusCode()).as("another tenant's trace").isEqualTo(404);
        assertThat(send("GET", "/v1/traces/" + "3".repeat(32), acmeKey, null).statusCode()).as("the caller's id is no Keel trace").isEqualTo(404);
        List<ReceivedSpan> spans = receiver.await("3".repeat(32), s -> s.stream().filter(x -> x.name().startsWith("POST")).count() == 2, EXPORTED_WITHIN);
        assertThat(spans).extracting(ReceivedSpan::spanId).doesNotHaveDuplicates();
    }

    @Test
    void malformedTraceContextIsIgnoredAndTheRequestServedAsIfItHadNone() throws Exception {
        List<String[]> hostile = List.of(new String[] {"traceparent", "not-a-traceparent"},
                new String[] {"traceparent", "00-" + CALLER_TRACE + "-0000000000000000-01"},
                new String[] {"traceparent", "00-" + "a".repeat(4000) + "-" + CALLER_SPAN + "-01"},
                new String[] {"traceparent", CALLER, "traceparent", "00-" + "5".repeat(32) + "-" + CALLER_SPAN + "-01"},
                new String[] {"traceparent", "00-" + CALLER_TRACE.toUpperCase() + "-" + CALLER_SPAN + "-01", "tracestate", "=,=,k=v\tx"});
        List<String> keelIds = new java.util.ArrayList<>();
        for (String[] headers : hostile) {
            HttpResponse<String> r = send("POST", "/v1/chat/completions", acmeKey, chat(false), headers);
            assertThat(r.statusCode()).as(String.join(" ", headers)).isEqualTo(200);
            String keelId = r.headers().firstValue("x-keel-trace-id").orElseThrow();
            FakeLlmServer.Received upstream = llm.received.getLast();
            assertThat(upstream.headers().get("Traceparent").getFirst()).as(String.join(" ", headers)).startsWith("00-" + keelId + "-");
            assertThat(upstream.headers()).doesNotContainKey("Tracestate");
            keelIds.add(keelId);
        }
        for (String keelId : keelIds) {
            assertThat(receiver.await(keelId, hasSpans("POST /v1/chat/completions"), EXPORTED_WITHIN))
                    .filteredOn(s -> s.name().startsWith("POST")).extracting(ReceivedSpan::parentSpanId).containsExactly("");
        }
    }

    @Test
    void readinessNamesTheCollectorAndItsCountsButNotItsCredentials() throws Exception {
        HttpResponse<String> r = send("GET", "/health/ready", ADMIN, null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode telemetry = JSON.readTree(r.body()).get("telemetry");
        assertThat(telemetry.get("otlp").asText()).isEqualTo(URI.create(receiver.endpoint()).getAuthority());
        assertThat(telemetry.has("spans_exported")).isTrue();
        assertThat(telemetry.has("spans_dropped")).isTrue();
        assertThat(r.body()).doesNotContain(COLLECTOR_TOKEN);
    }

    @Test
    void aCollectorThatIsDownCostsRequestsNothingAndItsLostSpansAreCounted() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        String yaml = """
                server: {port: 0}
                providers:
                  llm: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer:
                    targets: [{provider: llm, model: upstream-writer}]
                telemetry: {otlp: {endpoint: "http://127.0.0.1:%d", timeout_ms: 500}}
                """.formatted(llm.baseUrl(), dead);
        Keel down = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-otel-down-"));
        try (HttpServer downServer = new HttpServer(down)) {
            String downBase = "http://127.0.0.1:" + downServer.start();
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(downBase + "/v1/chat/completions"))
                        .header("Content-Type", "application/json").header("traceparent", CALLER).POST(HttpRequest.BodyPublishers.ofString(chat(false)))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            }
        } finally {
            down.close();
        }
        assertThat(down.traces().registry().get("keel.otel.spans").tag("outcome", "export_failed").functionCounter().count())
                .as("close flushed the queue into a collector that is down").isGreaterThan(0);
    }
}
