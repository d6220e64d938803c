package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import dev.keel.index.SearchFilters;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.SourceDocument;
import dev.keel.rag.AnswerRequest;
import dev.keel.trace.Trace;
import dev.keel.store.Ledger;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code POST /v1/answer} retrieves as {@code /v1/search} does: the query expansion configured in
 * keel.yaml runs for answers too, billed to the caller, and the answer is built from the fused list.
 * With {@code answer.context_chunks: 1} the context is the single best hit, so which list won shows.
 * Expansion calls are chat completions at temperature 0, which the exact cache keeps, so each test
 * asks its own question.
 */
class AnswerRetrievalTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String ACME = "acme";
    static FakeLlmServer expander, answerer;
    static Keel keel;
    static HttpServer server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        expander = new FakeLlmServer();
        answerer = new FakeLlmServer();
        String yaml = """
                server: {port: 0}
                providers:
                  expander: {type: openai, base_url: "%s", max_retries: 0}
                  answerer: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer: {targets: [{provider: expander, model: writer-1, input_per_mtok: 1.0, output_per_mtok: 2.0}]}
                  chat: {targets: [{provider: answerer, model: chat-1}]}
                rerank:
                  expansion: {model: writer, queries: 2}
                answer:
                  context_chunks: 1
                cache: {semantic: {enabled: false}}   # the questions differ by a word; each test asks its own
                """.formatted(expander.baseUrl(), answerer.baseUrl());
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-answer-retrieval-"));
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
        ingest("refunds", "# Refunds\n\nRefunds are granted within 30 days for annual plans.");
        ingest("monthly", "# Monthly plans\n\nMonthly plans are not refunded, but you can cancel any time.");
        ingest("zebra", "# Office animals\n\nThe zebra crossing outside the office is repainted every spring.");
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
        expander.close();
        answerer.close();
    }

    @BeforeEach
    void resetFakes() {
        expander.reset();
        answerer.reset();
        expander.then(FakeLlmServer.ok("zebra crossing\nzebra crossing paint"));
    }

    private static void ingest(String id, String text) throws Exception {
        HttpResponse<String> r = post("/v1/documents", JSON.createObjectNode().put("id", id).put("text", text).toString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json").header("X-Keel-Tenant", ACME)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode answer(String body) throws Exception {
        HttpResponse<String> r = post("/v1/answer", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static List<String> spanNames(JsonNode answer) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/traces/" + answer.get("trace_id").asText()))
                .header("X-Keel-Tenant", ACME).build(), HttpResponse.BodyHandlers.ofString());
        List<String> names = new ArrayList<>();
        JSON.readTree(r.body()).get("spans").forEach(s -> names.add(s.get("name").asText()));
        return names;
    }

    private static long writerRequests() {
        keel.ledger().flush();
        return keel.ledger().usage(ACME, Ledger.GroupBy.MODEL, 0, Long.MAX_VALUE).stream().filter(r -> r.group().equals("writer"))
                .mapToLong(Ledger.Row::requests).sum();
    }

    @Test
    void anAnswerRunsTheConfiguredMultiQueryExpansionBilledToTheCallerAndAnswersFromTheFusedList() throws Exception {
        long before = writerRequests();
        JsonNode a = answer("{\"question\":\"refund policy\"}");
        assertThat(expander.received).hasSize(1);
        JsonNode request = expander.received.get(0).body();
        assertThat(request.get("model").asText()).isEqualTo("writer-1");
        assertThat(request.get("messages").get(0).get("content").asText()).contains("2 alternative phrasings");
        assertThat(request.get("messages").get(1).get("content").asText()).isEqualTo("refund policy");
        assertThat(a.get("sources").get(0).get("doc_id").asText()).as("both alternatives rank the zebra first; the question alone, refunds")
                .isEqualTo("zebra");
        assertThat(spanNames(a)).containsSubsequence("retrieve", "expand_multi_query", "retrieve", "retrieve", "answer");
        assertThat(writerRequests()).isEqualTo(before + 1);
    }

    @Test
    void aFailedExpansionLeavesTheQuestionsOwnRetrieval() throws Exception {
        expander.reset();
        expander.then(FakeLlmServer.status(500, "{\"error\":{\"message\":\"down\"}}", Map.of()));
        JsonNode a = answer("{\"question\":\"refund policy for plans\"}");
        assertThat(expander.received).hasSize(1);
        assertThat(a.get("sources").get(0).get("doc_id").asText()).isEqualTo("refunds");
    }

    @Test
    void anAnswerRetrievesAsASearchWithTheSameExpansionDoes() throws Exception {
        JsonNode a = answer("{\"question\":\"refund policies\"}");
        HttpResponse<String> s = post("/v1/search", "{\"query\":\"refund policies\",\"top_k\":1}");
        assertThat(s.statusCode()).as(s.body()).isEqualTo(200);
        assertThat(expander.received).isNotEmpty();
        assertThat(JSON.readTree(s.body()).get("data").get(0).get("chunk_id")).isEqualTo(a.get("sources").get(0).get("chunk_id"));
        assertThat(a.get("sources").get(0).get("doc_id").asText()).isEqualTo("zebra");
    }

    @Test
    void ttftMsIsInTheStreamsDoneEventOnlyNeverInAJsonAnswerServedFromItsCache() throws Exception {
        answerer.then(FakeLlmServer.stream(List.of("The zebra crossing ", "is repainted every spring [1]."), -1));
        String body = "{\"question\":\"When is the zebra crossing outside the office repainted?\",\"model\":\"chat\"}";
        HttpResponse<String> streamed = post("/v1/answer?stream=true", body);
        assertThat(streamed.statusCode()).isEqualTo(200);
        String done = streamed.body().substring(streamed.body().indexOf("event: done"));
        JsonNode doneEvent = JSON.readTree(done.substring(done.indexOf("data: ") + 6, done.indexOf("\n\n")));
        assertThat(doneEvent.get("answered").asBoolean()).isTrue();
        assertThat(doneEvent.get("ttft_ms").asDouble()).isPositive();

        HttpResponse<String> cached = post("/v1/answer", body);
        assertThat(cached.headers().firstValue("x-keel-cache")).hasValue("hit-exact");
        JsonNode json = JSON.readTree(cached.body());
        assertThat(json.get("answer").asText()).isEqualTo(doneEvent.get("answer").asText());
        assertThat(json.has("ttft_ms")).isFalse();
    }

    @Test
    @Timeout(60) // were the provider's retrieval to expand, each level would call it again (and wait for its identical twin in flight)
    void anExpansionModelThatFallsBackToTheExtractiveProviderDoesNotExpandAgain() throws Exception {
        int dead;
        try (ServerSocket socket = new ServerSocket(0)) {
            dead = socket.getLocalPort();
        }
        String yaml = """
                providers:
                  dead: {type: openai, base_url: "http://127.0.0.1:%d/v1", max_retries: 0}
                  offline: {type: extractive}
                models:
                  writer: {targets: [{provider: dead, model: gone}, {provider: offline, model: extractive}]}
                rerank:
                  expansion: {model: writer, queries: 2, hyde: true}
                """.formatted(dead);
        try (Keel local = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-answer-offline-expansion-"))) {
            // A tenant with documents (an empty one gets no expansion), none of them about the question.
            local.ingestor().ingest(ACME, new SourceDocument("canteen", "api:canteen", "canteen.md", DocumentFormat.MARKDOWN,
                    "# Canteen\n\nThe canteen opens at noon and serves soup on Fridays.".getBytes(StandardCharsets.UTF_8), 0, Map.of(), null),
                    local.traces().start("ingest", ACME));
            local.index().commit();
            Trace trace = local.traces().start("answer", ACME);
            var answer = local.answers().answer(new AnswerRequest(ACME, "When is the zebra crossing repainted?", SearchFilters.NONE), trace);
            assertThat(answer.answered()).as("nothing about it is indexed").isFalse();
            long expansions = trace.view().spans().stream().filter(s -> s.name().startsWith("expand_")).count();
            assertThat(expansions).as("the request's own multi-query and HyDE").isEqualTo(2);
        }
    }
}
