package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.SourceDocument;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code answer.verifier_model}: a second model judges each sentence of a model's answer against the same context. */
class AnswerVerifierTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ANSWER = "Employees get 28 days of paid leave per year [1]. Unused leave of up to 5 days carries over to the next year [1].";
    static FakeLlmServer writer, verifier;
    static Keel keel;
    static HttpServer server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        writer = new FakeLlmServer();
        verifier = new FakeLlmServer();
        String yaml = """
                server: {port: 0}
                providers:
                  writer: {type: openai, base_url: "%s", max_retries: 0}
                  verifier: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer: {targets: [{provider: writer, model: upstream-writer}]}
                  checker: {targets: [{provider: verifier, model: upstream-checker}]}
                answer: {model: writer, verifier_model: checker}
                cache: {exact: {enabled: false}, semantic: {enabled: false}}   # every test scripts its own replies to the same question
                """.formatted(writer.baseUrl(), verifier.baseUrl());
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-verifier-"));
        keel.ingestor().ingest(Keel.DEFAULT_TENANT, new SourceDocument("handbook", "api:handbook", "handbook.md", DocumentFormat.MARKDOWN, """
                # Employee handbook

                ## Paid leave

                Employees get 28 days of paid leave per year. Unused leave of up to 5 days carries over to the next year.
                """.getBytes(StandardCharsets.UTF_8), 0, Map.of(), null), keel.traces().start("ingest", Keel.DEFAULT_TENANT));
        keel.index().commit();
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
        writer.close();
        verifier.close();
    }

    @BeforeEach
    void reset() {
        writer.reset();
        verifier.reset();
    }

    private static JsonNode ask() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/v1/answer"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"question\":\"How much paid leave do employees get?\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void sentencesTheVerifierCallsUnsupportedAreFlaggedToo() throws Exception {
        writer.then(FakeLlmServer.ok(ANSWER));
        verifier.then(FakeLlmServer.ok("1: SUPPORTED\n2: UNSUPPORTED"));
        JsonNode a = ask();
        assertThat(a.get("grounding").get("unsupported").get(0).asText()).startsWith("Unused leave");
        assertThat(a.get("grounding").get("unsupported")).hasSize(1);
        assertThat(a.get("grounding").get("score").asDouble()).isEqualTo(0.5);
        JsonNode asked = verifier.received.get(0).body();
        assertThat(asked.get("model").asText()).isEqualTo("upstream-checker");
        String statements = asked.get("messages").get(1).get("content").asText();
        assertThat(statements).contains("<context id=\"1\"").contains("1. Employees get 28 days").contains("2. Unused leave");
        keel.ledger().flush();
        assertThat(keel.ledger().usage(Keel.DEFAULT_TENANT, dev.keel.store.Ledger.GroupBy.MODEL, 0, Long.MAX_VALUE))
                .extracting(dev.keel.store.Ledger.Row::group).contains("writer", "checker");
    }

    @Test
    void aFailingVerifierLeavesTheOfflineCheckStanding() throws Exception {
        writer.then(FakeLlmServer.ok(ANSWER));
        verifier.then(FakeLlmServer.status(500, "{\"error\":{\"message\":\"down\"}}", Map.of()));
        JsonNode a = ask();
        assertThat(a.get("answered").asBoolean()).isTrue();
        assertThat(a.get("grounding").get("unsupported")).isEmpty();
        JsonNode trace = JSON.readTree(keel.traces().findJson(a.get("trace_id").asText(), Keel.DEFAULT_TENANT).orElseThrow());
        assertThat(trace.get("attributes").get("verifier.skipped").asText()).isEqualTo("unavailable");
    }
}
