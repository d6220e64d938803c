package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A key's {@code max_cost_per_request_usd} caps a client request, whatever number of model calls it
 * makes, and {@code /v1/search} and {@code /v1/answer} say what their calls cost. Every model costs
 * $0.001 per output token and nothing per input token, and the fake upstream uses the whole output
 * limit, so a call of {@code max_tokens: 200} costs exactly $0.20, its worst case.
 */
class RequestCostTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ACME = "acme";
    private static final String QUESTION = "How much paid leave do employees get?";
    private static final String ANSWER = "Employees get 28 days of paid leave per year [1]. Unused leave of up to 5 days carries over to the next year [1].";
    static FakeLlmServer upstream;
    static ServedKeel served;
    static Keel keel;

    @BeforeAll
    static void start() throws Exception {
        upstream = new FakeLlmServer();
        served = new ServedKeel("""
                providers:
                  fake: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer: {targets: [{provider: fake, model: up-writer, input_per_mtok: 0, output_per_mtok: 1000}]}
                  solo: {tier: large, targets: [{provider: fake, model: up-solo, input_per_mtok: 0, output_per_mtok: 1000}]}
                  reader: {targets: [{provider: fake, model: up-reader, input_per_mtok: 1000, output_per_mtok: 0}]}
                answer: {model: writer, verifier_model: writer, max_output_tokens: 200}
                rerank: {method: none, expansion: {model: writer, max_tokens: 200}}
                cache: {exact: {enabled: false}, semantic: {enabled: false}}
                """.formatted(upstream.baseUrl()));
        keel = served.keel;
        served.ingestHandbook(ACME);
    }

    @AfterAll
    static void stop() {
        served.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
        upstream.reset();
    }

    private static HttpResponse<String> post(String path, String key, String body) throws Exception {
        return served.post(path, key, body);
    }

    /** A key of {@code tenant} whose requests may cost {@code cap} dollars each (0: no cap). */
    private static String key(String tenant, double cap) throws Exception {
        return served.key(tenant, ",\"max_cost_per_request_usd\":" + cap);
    }

    private static JsonNode trace(HttpResponse<String> r, String tenant) throws Exception {
        String id = JSON.readTree(r.body()).path("trace_id").asText(r.headers().firstValue("x-keel-trace-id").orElse(""));
        return JSON.readTree(keel.traces().findJson(id, tenant).orElseThrow());
    }

    private static JsonNode span(JsonNode trace, String name) {
        for (JsonNode s : trace.get("spans")) if (s.get("name").asText().equals(name)) return s;
        throw new AssertionError("no span " + name + " in " + trace);
    }

    @Test
    void aSearchsExpansionCallsShareOneCapAndTheOneThatWouldPassItIsSkipped() throws Exception {
        String key = key(ACME, 0.3);
        upstream.then(FakeLlmServer.spendsItsLimit("Employees get paid leave every year."));
        HttpResponse<String> r = post("/v1/search", key, "{\"query\":\"paid leave\",\"multi_query\":2,\"hyde\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(upstream.received).as("HyDE ($0.20) ran; multi-query (up to $0.20 more) would pass $0.30").hasSize(1);
        assertThat(JSON.readTree(r.body()).get("data")).isNotEmpty();
        assertThat(span(trace(r, ACME), "expand_multi_query").get("attributes").get("error.type").asText()).isEqualTo("max_cost_per_request_exceeded");
        assertThat(r.headers().firstValue("x-keel-cost-usd")).contains("0.20000000");
    }

    @Test
    void aSearchWithoutModelCallsHasNoCostHeader() throws Exception {
        HttpResponse<String> r = post("/v1/search", key(ACME, 0), "{\"query\":\"paid leave\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-keel-cost-usd")).isEmpty();
    }

    @Test
    void aTenantWithoutDocumentsIsNotChargedForQueryExpansion() throws Exception {
        HttpResponse<String> r = post("/v1/search", key("empty", 0), "{\"query\":\"paid leave\",\"multi_query\":2,\"hyde\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(upstream.received).isEmpty();
        assertThat(trace(r, "empty").get("attributes").get("expansion.skipped").asText()).isEqualTo("no_documents");
        assertThat(r.headers().firstValue("x-keel-cost-usd")).isEmpty();
    }

    @Test
    void theVerifierThatWouldPassTheCapIsSkippedAndTheOfflineCheckStands() throws Exception {
        String key = key(ACME, 0.22);
        upstream.then(FakeLlmServer.spendsItsLimit(ANSWER));
        HttpResponse<String> r = post("/v1/answer", key, "{\"question\":\"" + QUESTION + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(upstream.received).as("the answer ($0.20) but not the verifier (up to $0.048 more)").hasSize(1);
        assertThat(JSON.readTree(r.body()).get("answered").asBoolean()).isTrue();
        assertThat(trace(r, ACME).get("attributes").get("verifier.skipped").asText()).isEqualTo("max_cost_per_request_exceeded");
        assertThat(r.headers().firstValue("x-keel-cost-usd")).contains("0.20000000");
    }

    @Test
    void aFollowUpsRewriteAndItsAnswerShareOneCap() throws Exception {
        String key = key(ACME, 0.3);
        upstream.then(FakeLlmServer.spendsItsLimit(ANSWER));
        assertThat(post("/v1/answer", key, "{\"question\":\"" + QUESTION + "\",\"session_id\":\"leave-chat\"}").statusCode()).isEqualTo(200);
        upstream.reset();
        upstream.then(FakeLlmServer.spendsItsLimit("Does unused paid leave carry over to the next year?"));
        HttpResponse<String> r = post("/v1/answer", key, "{\"question\":\"Does it carry over?\",\"session_id\":\"leave-chat\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("max_cost_per_request_exceeded");
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("earlier model calls spent or reserved $0.20");
        assertThat(upstream.received).as("the rewrite ($0.20), not the answer (up to $0.20 more)").hasSize(1);
    }

    @Test
    void aMessageTypedAsAnImageDoesNotHideItsTextFromTheCap() throws Exception {
        // ~5,000 tokens at $1,000 per million: over $3 however the message is typed (an image costs 2,000 tokens, $2)
        String prompt = "Ignore the budget. ".repeat(1_250);
        for (String message : List.of("{\"role\":\"user\",\"content\":\"" + prompt + "\"}",
                "{\"role\":\"user\",\"type\":\"image\",\"content\":\"" + prompt + "\"}")) {
            HttpResponse<String> r = post("/v1/chat/completions", key(ACME, 3), "{\"model\":\"reader\",\"max_tokens\":10,\"messages\":[" + message + "]}");
            assertThat(r.statusCode()).as(message.substring(0, 40) + ": " + r.body()).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("max_cost_per_request_exceeded");
        }
        assertThat(upstream.received).as("refused before any upstream call").isEmpty();
    }

    /** A JSON-mode chat of {@code model} ($0.10 at most) under a $0.15 cap, whose first reply ($0.10) is not JSON. */
    private static HttpResponse<String> badJsonUnderCap(String model, String tenant) throws Exception {
        upstream.then(FakeLlmServer.spendsItsLimit("not json at all"));
        HttpResponse<String> r = post("/v1/chat/completions", key(tenant, 0.15), "{\"model\":\"" + model + "\",\"max_tokens\":100,"
                + "\"response_format\":{\"type\":\"json_object\"},\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
        assertThat(upstream.received).as("no second call").hasSize(1);
        return r;
    }

    @Test
    void aStructuredOutputRetryThatWouldPassTheCapIsRefused() throws Exception {
        HttpResponse<String> r = badJsonUnderCap("writer", "chat");
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("a retry was refused").contains("maximum of $0.15 per request");
    }

    @Test
    void theRoutersLastTierRetryCountsAgainstTheCap() throws Exception {
        badJsonUnderCap("auto", "routed");
    }

    @Test
    void aStreamedAnswerSaysWhatItCostInItsDoneEvent() throws Exception {
        upstream.then(FakeLlmServer.stream(List.of(ANSWER.split("(?<= )")), -1), FakeLlmServer.ok("1: SUPPORTED\n2: SUPPORTED"));
        HttpResponse<String> r = post("/v1/answer?stream=true", key(ACME, 0), "{\"question\":\"" + QUESTION + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String done = r.body().substring(r.body().indexOf("event: done"));
        JsonNode event = JSON.readTree(done.substring(done.indexOf("data: ") + 6, done.indexOf('\n', done.indexOf("data: "))));
        assertThat(event.get("cost_usd").asDouble()).isPositive();
    }

    @Test
    void concurrentRequestsOfOneKeyEachHaveTheirOwnCap() throws Exception {
        String key = key(ACME, 0.3);
        CountDownLatch release = new CountDownLatch(1);
        upstream.then(FakeLlmServer.spendsItsLimit(release, 30));
        List<Future<HttpResponse<String>>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 4; i++) results.add(pool.submit(() -> post("/v1/search", key, "{\"query\":\"paid leave\",\"hyde\":true}")));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (upstream.received.size() < 4 && System.nanoTime() < until) Thread.onSpinWait();
            assertThat(upstream.received).as("four HyDE calls of $0.20 in flight at once under a $0.30 cap per request").hasSize(4);
            release.countDown();
            for (Future<HttpResponse<String>> f : results) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(r.headers().firstValue("x-keel-cost-usd")).contains("0.20000000");
            }
        }
    }
}
