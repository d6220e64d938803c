package dev.keel.gateway;

import static dev.keel.gateway.FakeLlmServer.ok;
import static dev.keel.gateway.FakeLlmServer.raw;
import static dev.keel.gateway.FakeLlmServer.status;
import static dev.keel.gateway.FakeLlmServer.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible endpoint against fake providers over real HTTP: shapes, streaming, retries, fallback, errors. */
class ChatCompletionsTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = GatewayFixture.KEY;
    private static FakeLlmServer primary, secondary;
    private static String base;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void aliases() {
        primary = fixture.primary;
        secondary = fixture.secondary;
        base = fixture.base;
    }

    private HttpResponse<String> chat(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> chatAs(String tenant, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                .header("X-Keel-Tenant", tenant).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode usage(String tenant, String groupBy) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/usage?group_by=" + groupBy)).header("X-Keel-Tenant", tenant).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    @Test
    void usageSumsReadAsAmountsNotAsTheFloatingPointNoiseOfTheirAddition() throws Exception {
        for (double usd : new double[] {0.1, 0.2}) {
            fixture.keel.ledger().record(new dev.keel.store.Ledger.Entry(System.currentTimeMillis(), null, "sums", "fast", "primary", "m", 1, 1, 0, usd,
                    false, true, 1, null, 200, "t", dev.keel.store.Ledger.Tags.NONE));
        }
        assertThat(usage("sums", "model").at("/data/0/cost_usd").asDouble()).as("0.1 + 0.2 in doubles is 0.30000000000000004").isEqualTo(0.3);
    }

    @Test
    void costIsComputedFromTheTargetPriceAndLedgeredOncePerRequestDespiteRetries() throws Exception {
        primary.then(status(500, "boom", Map.of()), ok("third time lucky"));
        HttpResponse<String> r = chatAs("billing", request("fast", false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-keel-cost-usd")).contains("0.00001900");
        assertThat(primary.received).hasSize(2);
        JsonNode rows = usage("billing", "model").get("data");
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("model").asText()).isEqualTo("fast");
        assertThat(rows.get(0).get("requests").asInt()).isEqualTo(1);
        assertThat(rows.get(0).get("prompt_tokens").asInt()).isEqualTo(9);
        assertThat(rows.get(0).get("completion_tokens").asInt()).isEqualTo(5);
        assertThat(rows.get(0).get("cost_usd").asDouble()).isEqualTo(0.000019);
        assertThat(usage("someone-else", "model").get("data")).isEmpty();
    }

    @Test
    void aStreamIsBilledFromTheProvidersUsageEvenWhenTheClientDidNotAskForIt() throws Exception {
        primary.then(stream(List.of("a few ", "words ", "streamed"), -1));
        String noUsage = request("fast", true).replace("\"stream_options\":{\"include_usage\":true},", "");
        HttpResponse<String> r = chatAs("billed-streams", noUsage);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(primary.received.get(0).body().at("/stream_options/include_usage").asBoolean()).as("Keel asks for usage").isTrue();
        assertThat(r.body()).as("the client, who did not ask, gets no usage chunk").doesNotContain("\"usage\"");
        JsonNode row = usage("billed-streams", "day").get("data").get(0);
        assertThat(row.get("estimated_usage_requests").asInt()).isZero();
        assertThat(row.get("prompt_tokens").asInt()).isEqualTo(7);
    }

    @Test
    void streamsWithoutProviderUsageAreEstimatedAndFlagged() throws Exception {
        primary.then((ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            String chunk = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                    + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"words without usage\"},\"finish_reason\":\"stop\"}]}";
            ex.getResponseBody().write(("data: " + chunk + "\n\ndata: [DONE]\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        });
        assertThat(chatAs("estimates", request("fast", true)).statusCode()).isEqualTo(200);
        JsonNode row = usage("estimates", "day").get("data").get(0);
        assertThat(row.get("estimated_usage_requests").asInt()).isEqualTo(1);
        assertThat(row.get("completion_tokens").asInt()).isPositive();
        assertThat(row.get("prompt_tokens").asInt()).isGreaterThan(8);
    }

    @Test
    void failedRequestsAreLedgeredWithTheirStatus() throws Exception {
        assertThat(chatAs("failures", request("unreachable", false)).statusCode()).isEqualTo(503);
        JsonNode row = usage("failures", "model").get("data").get(0);
        assertThat(row.get("failed_requests").asInt()).isEqualTo(1);
        assertThat(row.get("cost_usd").asDouble()).isZero();
    }

    private static String request(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Say hello\"}],\"temperature\":0.2}";
    }

    @Test
    void completionIsForwardedToThePinnedUpstreamModelAndReturnedInOpenAiShape() throws Exception {
        primary.then(ok("Hi there!"));
        HttpResponse<String> r = chat(request("fast", false));
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.get("model").asText()).isEqualTo("fast");
        assertThat(body.at("/choices/0/message/content").asText()).isEqualTo("Hi there!");
        assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(14);
        assertThat(r.headers().firstValue("x-keel-provider")).contains("primary");
        assertThat(r.headers().firstValue("x-keel-trace-id")).isPresent();
        assertThat(Double.parseDouble(r.headers().firstValue("x-keel-overhead-ms").orElseThrow())).isGreaterThanOrEqualTo(0);
        FakeLlmServer.Received sent = primary.received.get(0);
        assertThat(sent.body().get("model").asText()).isEqualTo("upstream-fast-001");
        assertThat(sent.body().get("temperature").asDouble()).isEqualTo(0.2);
        assertThat(sent.headers().get("Authorization")).containsExactly("Bearer " + KEY);
    }

    @Test
    void streamingForwardsChunksInOrderThenUsageThenDone() throws Exception {
        primary.then(stream(List.of("Hel", "lo", "!"), -1));
        HttpResponse<String> r = chat(request("fast", true));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        List<String> data = new ArrayList<>();
        for (String line : r.body().split("\n")) if (line.startsWith("data: ")) data.add(line.substring(6));
        assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        JsonNode usage = null;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode chunk = JSON.readTree(d);
            assertThat(chunk.get("model").asText()).isEqualTo("fast");
            if (chunk.at("/choices/0/delta/content").isTextual()) text.append(chunk.at("/choices/0/delta/content").asText());
            if (chunk.hasNonNull("usage")) usage = chunk.get("usage");
        }
        assertThat(text.toString()).isEqualTo("Hello!");
        assertThat(usage).isNotNull();
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(3);
        String costLine = r.body().lines().filter(l -> l.startsWith(": x-keel-cost-usd ")).findFirst().orElseThrow();
        assertThat(Double.parseDouble(costLine.substring(": x-keel-cost-usd ".length()))).isPositive();
    }

    @Test
    void serverErrorsAreRetriedOnTheSameProvider() throws Exception {
        primary.then(status(500, "{\"error\":{\"message\":\"boom\"}}", Map.of()), status(502, "bad gateway", Map.of()), ok("recovered"));
        HttpResponse<String> r = chat(request("fast", false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isEqualTo("recovered");
        assertThat(primary.received).hasSize(3);
    }

    @Test
    void rateLimitHonoursRetryAfter() throws Exception {
        primary.then(status(429, "{\"error\":{\"message\":\"slow down\"}}", Map.of("Retry-After", "0.3")), ok("after waiting"));
        HttpResponse<String> r = chat(request("fast", false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(primary.received).hasSize(2);
        long gapMs = (primary.received.get(1).nanos() - primary.received.get(0).nanos()) / 1_000_000;
        assertThat(gapMs).isGreaterThanOrEqualTo(290);
    }

    @Test
    void whenThePrimaryKeepsFailingTheNextTargetServes() throws Exception {
        primary.then(status(503, "down", Map.of()));
        secondary.then(ok("from the fallback"));
        HttpResponse<String> r = chat(request("resilient", false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-keel-provider")).contains("secondary");
        assertThat(primary.received).hasSize(3);
        assertThat(secondary.received).hasSize(1);
        assertThat(secondary.received.get(0).body().get("model").asText()).isEqualTo("upstream-b");
    }

    @Test
    void badRequestsAreNeverRetriedAndKeepTheUpstreamMessage() throws Exception {
        primary.then(status(400, "{\"error\":{\"message\":\"Unrecognized request argument supplied: foo\"}}", Map.of()));
        HttpResponse<String> r = chat(request("resilient", false));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("primary").contains("Unrecognized request argument");
        assertThat(primary.received).hasSize(1);
        assertThat(secondary.received).isEmpty();
    }

    @Test
    void anUpstreamsParamAndCodeReachTheClientWhenTheyAreShortLabels() throws Exception {
        primary.then(status(400, "{\"error\":{\"message\":\"Unsupported parameter: 'max_tokens'.\",\"type\":\"invalid_request_error\","
                + "\"param\":\"max_tokens\",\"code\":\"unsupported_parameter\"}}", Map.of()));
        JsonNode error = JSON.readTree(chat(request("resilient", false)).body()).get("error");
        assertThat(error.get("param").asText()).isEqualTo("max_tokens");
        assertThat(error.get("code").asText()).isEqualTo("unsupported_parameter");

        primary.then(status(400, "{\"error\":{\"message\":\"no\",\"param\":\"<script>alert(1)</script>\",\"code\":{\"nested\":1}}}", Map.of()));
        error = JSON.readTree(chat(request("resilient", false)).body()).get("error");
        assertThat(error.get("param").isNull()).isTrue();
        assertThat(error.get("code").asText()).isEqualTo("bad_request");
    }

    @Test
    void garbageFromUpstreamIs502NamingTheProvider() throws Exception {
        primary.then(raw("this is not json"));
        HttpResponse<String> r = chat(request("fast", false));
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("primary").contains("not valid JSON");
        assertThat(primary.received).as("a malformed answer is not retried on the same provider").hasSize(1);
        primary.then(raw("{\"id\":\"x\",\"choices\":[]}"));
        HttpResponse<String> empty = chat(request("fast", false));
        assertThat(empty.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(empty.body()).at("/error/message").asText()).contains("no choices");
    }

    @Test
    void aSlowFirstByteTimesOutAs504() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        primary.then(FakeLlmServer.stall(never, 10), FakeLlmServer.stall(never, 10), FakeLlmServer.stall(never, 10));
        HttpResponse<String> r = chat(request("fast", false));
        never.countDown();
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("first-byte timeout");
    }

    @Test
    void aModelsOwnFirstByteTimeoutOverridesItsProviders() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        secondary.then(FakeLlmServer.stall(never, 60));
        long start = System.nanoTime();
        HttpResponse<String> r = chat(request("patient-but-capped", false));
        double seconds = (System.nanoTime() - start) / 1e9;
        never.countDown();
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(seconds).as("the model's 1 s, not the provider's 30 s default").isLessThan(15);
    }

    @Test
    void whenEveryRemoteProviderIsDownTheExtractiveAnswererServesAndSaysSo() throws Exception {
        HttpResponse<String> r = chat(request("docs-with-fallback", false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-keel-provider")).hasValue("offline");
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).contains("no language model was used");
        assertThat(r.headers().firstValue("x-keel-cost-usd")).hasValue("0.00000000");
    }

    @Test
    void embeddingModelsOfTheCatalogAreProxiedBilledAndLedgered() throws Exception {
        primary.then(FakeLlmServer.embeddings());
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/embeddings")).header("Content-Type", "application/json")
                .header("X-Keel-Tenant", "embedders").POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"remote-embed\",\"input\":[\"a\",\"b\"]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("model").asText()).isEqualTo("remote-embed");
        assertThat(body.get("data")).hasSize(2);
        assertThat(body.at("/data/1/embedding/1").asDouble()).isEqualTo(1.0);
        assertThat(primary.received.get(0).path()).isEqualTo("/v1/embeddings");
        assertThat(primary.received.get(0).body().get("model").asText()).isEqualTo("text-embedding-3-small");
        assertThat(r.headers().firstValue("x-keel-provider")).hasValue("primary");
        assertThat(Double.parseDouble(r.headers().firstValue("x-keel-cost-usd").orElseThrow())).isCloseTo(10 * 0.02 / 1e6, org.assertj.core.data.Offset.offset(1e-12));
        JsonNode usage = usage("embedders", "model");
        assertThat(usage.at("/data/0/model").asText()).isEqualTo("remote-embed");
        assertThat(usage.at("/data/0/prompt_tokens").asLong()).isEqualTo(10);

        HttpResponse<String> chatOnIt = chat(request("remote-embed", false));
        assertThat(chatOnIt.statusCode()).isEqualTo(400);
        assertThat(chatOnIt.body()).contains("embedding model");
        HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/embeddings")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fast\",\"input\":\"a\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("remote-embed").contains("bge-small");
    }

    @Test
    void anthropicGetsImagePartsAsImageBlocks() throws Exception {
        FakeLlmServer anthropic = fixture.anthropic;
        anthropic.then(FakeLlmServer.anthropic("A cat.", null, null, "end_turn"));
        HttpResponse<String> r = chat("""
                {"model":"claude-chat","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},
                  {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
                  {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode content = anthropic.received.get(0).body().at("/messages/0/content");
        assertThat(content.get(0).get("text").asText()).isEqualTo("What is this?");
        assertThat(content.get(1).at("/source/type").asText()).isEqualTo("base64");
        assertThat(content.get(1).at("/source/media_type").asText()).isEqualTo("image/png");
        assertThat(content.get(1).at("/source/data").asText()).isEqualTo("iVBORw0KGgo=");
        assertThat(content.get(2).at("/source/url").asText()).isEqualTo("https://example.com/cat.jpg");
        HttpResponse<String> audio = chat("""
                {"model":"claude-chat","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}""");
        assertThat(audio.statusCode()).isEqualTo(400);
        assertThat(audio.body()).contains("input_audio");
    }

    @Test
    void anUnreachableProviderIs503() throws Exception {
        HttpResponse<String> r = chat(request("unreachable", false));
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("dead").contains("connection refused");
    }

    @Test
    void aStreamThatBreaksAfterSendingIsNotRetriedAndEndsWithAnErrorEvent() throws Exception {
        primary.then(stream(List.of("one ", "two ", "three ", "four "), 2));
        HttpResponse<String> r = chat(request("fast", true));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"one \"").contains("\"two \"").doesNotContain("three").doesNotContain("data: [DONE]");
        assertThat(r.body()).contains("\"error\"");
        assertThat(primary.received).hasSize(1);
    }

    @Test
    void aStreamThatBreaksAfterSendingIsBilledForWhatItSentAtItsTargetsPrice() throws Exception {
        primary.then(stream(List.of("one ", "two ", "three ", "four "), 2));
        assertThat(chatAs("broken-stream", request("fast", true)).statusCode()).isEqualTo(200);
        JsonNode row = usage("broken-stream", "model").get("data").get(0);
        assertThat(row.get("completion_tokens").asInt()).as("the two words sent, estimated").isPositive();
        assertThat(row.get("cost_usd").asDouble()).as("at the target's price, not free").isPositive();
    }

    @Test
    void theUsageChunkOfAStreamComesAfterAllItsTextEvenWhileTheOutputGuardHoldsSome() throws Exception {
        primary.then((ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            java.io.OutputStream out = ex.getResponseBody();
            for (String word : List.of("alpha ", "beta ", "gamma")) {
                out.write(("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
                        + "\"delta\":{\"content\":\"" + word + "\"},\"finish_reason\":null}]}\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            out.write(("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],"
                    + "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\ndata: [DONE]\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.flush();
        });
        HttpResponse<String> r = chatAs("usage-last", request("fast", true));
        List<String> data = r.body().lines().filter(l -> l.startsWith("data: {")).toList();
        int usage = -1, lastText = -1;
        for (int i = 0; i < data.size(); i++) {
            JsonNode chunk = JSON.readTree(data.get(i).substring(6));
            if (chunk.hasNonNull("usage")) usage = i;
            if (!chunk.at("/choices/0/delta/content").asText("").isEmpty()) lastText = i;
        }
        assertThat(r.body()).contains("gamma");
        assertThat(usage).as("the usage chunk, after the last text (%s)", data).isGreaterThan(lastText);
    }

    @Test
    void aStreamThatBreaksAfterAnEmptyFirstDeltaIsBilledForItsPrompt() throws Exception {
        primary.then(stream(List.of("", "never sent"), 1));
        chatAs("empty-then-broken", request("fast", true));
        JsonNode row = usage("empty-then-broken", "model").get("data").get(0);
        assertThat(row.get("prompt_tokens").asInt()).as("the upstream had read the prompt").isPositive();
        assertThat(row.get("cost_usd").asDouble()).isPositive();
    }

    @Test
    void negativeOrAbsurdUsageFromTheUpstreamIsEstimatedInsteadOfRefundingOrExhaustingABudget() throws Exception {
        List<String> absurd = List.of("\"prompt_tokens\":-1000000,\"completion_tokens\":5", "\"prompt_tokens\":7,\"completion_tokens\":1e18",
                "\"prompt_tokens\":999999999,\"completion_tokens\":999999999", "\"prompt_tokens\":\"900000000\",\"completion_tokens\":5",
                "\"total_tokens\":-5", "\"prompt_tokens\":10");
        for (String counts : absurd) {
            primary.then(raw("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
                    + "\"message\":{\"role\":\"assistant\",\"content\":\"hello there\"},\"finish_reason\":\"stop\"}],\"usage\":{" + counts + "}}"));
            HttpResponse<String> r = chatAs("absurd-usage", request("fast", false));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(Double.parseDouble(r.headers().firstValue("x-keel-cost-usd").orElseThrow())).as(counts).isBetween(0.0, 0.01);
        }
        JsonNode row = usage("absurd-usage", "model").get("data").get(0);
        assertThat(row.get("estimated_usage_requests").asInt()).isEqualTo(absurd.size());
        assertThat(row.get("cost_usd").asDouble()).isBetween(0.0, 0.01);
    }

    @Test
    void aToolCallWithoutReportedUsageIsBilledForItsArguments() throws Exception {
        primary.then(raw("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":"
                + "{\"name\":\"lookup\",\"arguments\":\"{\\\"query\\\": \\\"the quarterly revenue of every region in the last three years\\\"}\"}}]},"
                + "\"finish_reason\":\"tool_calls\"}]}"));
        assertThat(chatAs("tool-usage", request("fast", false)).statusCode()).isEqualTo(200);
        assertThat(usage("tool-usage", "model").get("data").get(0).get("completion_tokens").asInt()).as("name and arguments counted").isGreaterThan(10);
    }

    @Test
    void aStreamThatBreaksEndsWithAShortClassifiedErrorNamingTheTraceNotTheConnection() throws Exception {
        primary.then(stream(List.of("one ", "two ", "three "), 1));
        HttpResponse<String> r = chat(request("fast", true));
        String last = r.body().lines().filter(l -> l.startsWith("data: ")).reduce((a, b) -> b).orElseThrow().substring(6);
        JsonNode error = JSON.readTree(last).get("error");
        assertThat(error.get("code").asText()).isEqualTo("unavailable");
        String message = error.get("message").asText();
        assertThat(message).startsWith("primary: the connection to the provider failed after the stream started")
                .contains(r.headers().firstValue("x-keel-trace-id").orElseThrow()).hasSizeLessThan(200)
                .doesNotContain("Exception").doesNotContain("org.eclipse").doesNotContain("java.");
    }

    @Test
    void aFailingProviderTripsItsBreakerIsSkippedThenProbedAndRecovers() throws Exception {
        FakeLlmServer flaky = fixture.flaky;
        flaky.then(status(500, "down", Map.of()));
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = chat(request("guarded", false));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("x-keel-provider")).contains("secondary");
        }
        assertThat(flaky.received).hasSize(10);
        assertThat(ready().at("/providers/flaky").asText()).isEqualTo("open");
        assertThat(metrics()).contains("keel_provider_breaker_state{provider=\"flaky\"} 2.0");

        HttpResponse<String> skipped = chat(request("guarded", false));
        assertThat(skipped.headers().firstValue("x-keel-provider")).contains("secondary");
        assertThat(flaky.received).as("an open breaker skips the provider without calling it").hasSize(10);

        flaky.then(ok("flaky is back"));
        long until = System.nanoTime() + 15_000_000_000L;
        String servedBy = "";
        while (!servedBy.equals("flaky") && System.nanoTime() < until) {
            servedBy = chat(request("guarded", false)).headers().firstValue("x-keel-provider").orElse("");
        }
        assertThat(servedBy).as("after the open period a probe goes through and succeeds").isEqualTo("flaky");
        assertThat(ready().at("/providers/flaky").asText()).isEqualTo("closed");
    }

    private JsonNode ready() throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).header("Authorization", "Bearer " + GatewayFixture.ADMIN_KEY).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private String metrics() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).header("Authorization", "Bearer " + GatewayFixture.ADMIN_KEY).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void clientDisconnectCancelsTheUpstreamRequest() throws Exception {
        CountDownLatch upstreamAborted = new CountDownLatch(1);
        primary.then(FakeLlmServer.endlessStream(upstreamAborted));
        HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(request("fast", true))).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(r.body(), java.nio.charset.StandardCharsets.UTF_8))) {
            assertThat(in.readLine()).startsWith("data: ");
        }
        assertThat(upstreamAborted.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("upstream saw the cancellation").isTrue();
        // The request's end is the server's: wait for its trace to finish (a condition, not a time), then read it.
        String traceId = r.headers().firstValue("x-keel-trace-id").orElseThrow();
        JsonNode trace = null;
        for (long deadline = System.nanoTime() + 20_000_000_000L; System.nanoTime() < deadline; Thread.onSpinWait()) {
            trace = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/traces/" + traceId)).build(), HttpResponse.BodyHandlers.ofString()).body());
            if (trace.path("attributes").has("http.status")) break;
        }
        assertThat(trace.path("attributes").path("client.disconnected").asBoolean()).as(trace.toString()).isTrue();
        assertThat(trace.path("attributes").has("error.type")).as("a client leaving is not the server's error: " + trace).isFalse();
    }

    @Test
    void anthropicIsTranslatedBothWaysIncludingToolCallsAndCachedUsage() throws Exception {
        FakeLlmServer anthropic = fixture.anthropic;
        anthropic.then(FakeLlmServer.anthropic("Let me check.", "get_weather", "{\"city\":\"Oslo\"}", "tool_use"));
        String body = "{\"model\":\"claude-chat\",\"max_tokens\":200,\"stop\":\"END\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"You are terse.\"},"
                + "{\"role\":\"user\",\"content\":\"Weather in Oslo?\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Bergen\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_0\",\"content\":\"rainy\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather by city\","
                + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}],\"tool_choice\":\"required\"}";
        HttpResponse<String> r = chat(body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode sent = anthropic.received.get(0).body();
        assertThat(anthropic.received.get(0).headers().get("X-api-key")).containsExactly("sk-ant-test");
        assertThat(anthropic.received.get(0).headers().get("Anthropic-version")).containsExactly("2023-06-01");
        assertThat(sent.get("system").asText()).as("the guard's canary line, then the caller's system prompt")
                .isEqualTo(fixture.keel.guard().canaryLine() + "You are terse.");
        assertThat(sent.get("model").asText()).isEqualTo("claude-3-5-haiku-20241022");
        assertThat(sent.get("max_tokens").asInt()).isEqualTo(200);
        assertThat(sent.at("/stop_sequences/0").asText()).isEqualTo("END");
        assertThat(sent.at("/messages/1/content/0/type").asText()).isEqualTo("tool_use");
        assertThat(sent.at("/messages/1/content/0/input/city").asText()).isEqualTo("Bergen");
        assertThat(sent.at("/messages/2/content/0/type").asText()).isEqualTo("tool_result");
        assertThat(sent.at("/messages/2/content/0/tool_use_id").asText()).isEqualTo("call_0");
        assertThat(sent.at("/tools/0/input_schema/properties/city/type").asText()).isEqualTo("string");
        assertThat(sent.at("/tool_choice/type").asText()).isEqualTo("any");
        JsonNode out = JSON.readTree(r.body());
        assertThat(out.get("model").asText()).isEqualTo("claude-chat");
        assertThat(out.at("/choices/0/message/content").asText()).isEqualTo("Let me check.");
        assertThat(out.at("/choices/0/finish_reason").asText()).isEqualTo("tool_calls");
        assertThat(out.at("/choices/0/message/tool_calls/0/function/name").asText()).isEqualTo("get_weather");
        assertThat(JSON.readTree(out.at("/choices/0/message/tool_calls/0/function/arguments").asText()).get("city").asText()).isEqualTo("Oslo");
        assertThat(out.at("/usage/prompt_tokens").asInt()).isEqualTo(30);
        assertThat(out.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(10);
        assertThat(out.at("/usage/completion_tokens").asInt()).isEqualTo(6);
    }

    @Test
    void anthropicStreamsBecomeOpenAiChunks() throws Exception {
        fixture.anthropic.then(FakeLlmServer.anthropicStream(List.of("Bon", "jour")));
        HttpResponse<String> r = chat(request("claude-chat", true));
        assertThat(r.statusCode()).isEqualTo(200);
        StringBuilder text = new StringBuilder();
        JsonNode usage = null;
        String finish = null;
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
            JsonNode chunk = JSON.readTree(line.substring(6));
            text.append(chunk.at("/choices/0/delta/content").asText(""));
            if (chunk.at("/choices/0/finish_reason").isTextual()) finish = chunk.at("/choices/0/finish_reason").asText();
            if (chunk.hasNonNull("usage")) usage = chunk.get("usage");
        }
        assertThat(text.toString()).isEqualTo("Bonjour");
        assertThat(finish).isEqualTo("stop");
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(12);
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(2);
        assertThat(r.body()).endsWith("data: [DONE]\n\n");
    }

    @Test
    void anthropicOverloadedIsRetried() throws Exception {
        fixture.anthropic.then(status(529, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}", Map.of()),
                FakeLlmServer.anthropic("fine now", null, null, "end_turn"));
        HttpResponse<String> r = chat(request("claude-chat", false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isEqualTo("fine now");
        assertThat(fixture.anthropic.received).hasSize(2);
    }

    @Test
    void anthropicIsAskedForJsonInTheSystemPromptAndTheReplyIsValidated() throws Exception {
        fixture.anthropic.then(FakeLlmServer.anthropic("{\"name\":\"Ada\",\"age\":36}", null, null, "end_turn"));
        HttpResponse<String> r = chat(structured(PERSON_SCHEMA).replace("\"fast\"", "\"claude-chat\""));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(fixture.anthropic.received.get(0).body().get("system").asText()).contains("JSON Schema").contains("\"age\"");
    }

    @Test
    void aContentPartWhoseTextIsNotAStringIsRefusedBeforeAnyProviderSeesIt() throws Exception {
        HttpResponse<String> r = chat("{\"model\":\"claude-chat\",\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"text\","
                + "\"text\":\"Be brief.\"},{\"type\":\"note\",\"text\":4111111111111111}]},{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("messages[0].content[1].text");
        assertThat(fixture.anthropic.received).isEmpty();
    }

    @Test
    void anthropicBadRequestMessageIsPassedOn() throws Exception {
        fixture.anthropic.then(status(400, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"max_tokens: too large\"}}", Map.of()));
        HttpResponse<String> r = chat(request("claude-chat", false));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("claude").contains("max_tokens: too large");
    }

    private static final String PERSON_SCHEMA = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"schema\":"
            + "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"}},\"required\":[\"name\",\"age\"]}}}";

    private static String structured(String extra) {
        return "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Who?\"}]" + extra + "}";
    }

    @Test
    void aReplyThatMissesTheJsonSchemaIsRetriedOnceWithTheErrors() throws Exception {
        primary.then(ok("{\"name\": \"Ada\"}"), ok("{\"name\": \"Ada\", \"age\": 36}"));
        HttpResponse<String> r = chat(structured(PERSON_SCHEMA));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).get("age").asInt()).isEqualTo(36);
        assertThat(primary.received).hasSize(2);
        JsonNode retry = primary.received.get(1).body().get("messages");
        assertThat(retry.get(retry.size() - 1).get("content").asText()).contains("did not match").contains("age");
    }

    @Test
    void aReplyStillInvalidAfterTheRetryIs422WithTheValidationErrors() throws Exception {
        primary.then(ok("not json at all"), ok("{\"name\": 7, \"age\": \"old\"}"));
        HttpResponse<String> r = chat(structured(PERSON_SCHEMA));
        assertThat(r.statusCode()).isEqualTo(422);
        JsonNode err = JSON.readTree(r.body()).get("error");
        assertThat(err.get("code").asText()).isEqualTo("schema_validation_failed");
        assertThat(err.get("message").asText()).contains("name").contains("age");
        assertThat(primary.received).hasSize(2);
    }

    @Test
    void jsonObjectModeAcceptsFencedJsonAndRejectsProse() throws Exception {
        primary.then(ok("```json\n{\"ok\": true}\n```"));
        assertThat(chat(structured(",\"response_format\":{\"type\":\"json_object\"}")).statusCode()).isEqualTo(200);
        primary.then(ok("Sure! Here you go."), ok("Still prose."));
        assertThat(chat(structured(",\"response_format\":{\"type\":\"json_object\"}")).statusCode()).isEqualTo(422);
    }

    @Test
    void toolCallArgumentsAreValidatedAgainstTheToolSchema() throws Exception {
        primary.then(FakeLlmServer.toolCall("get_weather", "{\"town\":\"Oslo\"}"), FakeLlmServer.toolCall("get_weather", "{\"city\":\"Oslo\"}"));
        String tools = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
                + "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"],\"additionalProperties\":false}}}]";
        HttpResponse<String> r = chat(structured(tools));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/tool_calls/0/function/arguments").asText()).contains("city");
        assertThat(primary.received).hasSize(2);
        JsonNode retry = primary.received.get(1).body().get("messages");
        assertThat(retry.get(retry.size() - 2).get("role").asText()).isEqualTo("tool");
    }

    @Test
    void schemasMayNotReferenceRemoteDocuments() throws Exception {
        String remote = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"$ref\":\"http://169.254.169.254/latest\"}}}";
        HttpResponse<String> r = chat(structured(remote));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("response_format");
        assertThat(primary.received).isEmpty();
    }

    @Test
    void toolsOnAModelWithoutToolSupportAre400() throws Exception {
        HttpResponse<String> r = chat("{\"model\":\"pricey\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}}]}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("tools");
        assertThat(primary.received).isEmpty();
    }

    @Test
    void aRequestThatCannotFitTheContextWindowIs400BeforeAnyCall() throws Exception {
        HttpResponse<String> r = chat("{\"model\":\"tiny\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("context_length_exceeded");
        assertThat(primary.received).isEmpty();
        assertThat(chat("{\"model\":\"tiny\",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").statusCode()).isEqualTo(200);
    }

    @Test
    void unknownModelIs404ListingTheCatalog() throws Exception {
        HttpResponse<String> r = chat(request("gpt-imaginary", false));
        assertThat(r.statusCode()).isEqualTo(404);
        JsonNode err = JSON.readTree(r.body()).get("error");
        assertThat(err.get("message").asText()).contains("gpt-imaginary").contains("fast").contains("resilient");
        assertThat(err.get("code").asText()).isEqualTo("model_not_found");
    }

    @Test
    void invalidRequestsNameTheParam() throws Exception {
        JsonNode n = JSON.readTree(chat("{\"model\":\"fast\",\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").body());
        assertThat(n.at("/error/param").asText()).isEqualTo("n");
        JsonNode role = JSON.readTree(chat("{\"model\":\"fast\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}").body());
        assertThat(role.at("/error/param").asText()).isEqualTo("messages[0].role");
        JsonNode temp = JSON.readTree(chat("{\"model\":\"fast\",\"temperature\":\"hot\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").body());
        assertThat(temp.at("/error/param").asText()).isEqualTo("temperature");
        assertThat(chat("{\"model\":").statusCode()).isEqualTo(400);
        assertThat(primary.received).isEmpty();
    }

    @Test
    void modelsListsTheCatalogAndNeverTheKeys() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
        List<String> ids = new ArrayList<>();
        JSON.readTree(r.body()).get("data").forEach(m -> ids.add(m.get("id").asText()));
        assertThat(ids).containsExactly("claude-chat", "docs-with-fallback", "fast", "guarded", "patient-but-capped", "pricey", "remote-embed", "resilient", "tiny",
                "unreachable",
                "bge-small-en-v1.5-q");
        assertThat(r.body()).doesNotContain(KEY);
    }

    /** A scripted upstream latency, long against Keel's own time, so that the bounds below hold on a loaded machine. */
    private static final long UPSTREAM_DELAY_MS = 200;
    /**
     * The least upstream time Keel can record for that delay: its client notes the request sent when the write's
     * completion is handled, which on a loaded machine can come after the upstream began waiting (by ~1 ms in CI).
     */
    private static final double RECORDED_DELAY_MS = UPSTREAM_DELAY_MS * 0.9;

    @Test
    void theOverheadHeaderExcludesTheUpstreamsOwnTimeAndFitsInWhatTheClientWaited() throws Exception {
        primary.then((ex, req) -> {
            pause(UPSTREAM_DELAY_MS);
            ok("late").respond(ex, req);
        });
        long start = System.nanoTime();
        HttpResponse<String> r = chatAs("overhead", request("fast", false));
        double clientMs = (System.nanoTime() - start) / 1e6;
        assertThat(r.statusCode()).isEqualTo(200);
        double overheadMs = Double.parseDouble(r.headers().firstValue("x-keel-overhead-ms").orElseThrow());
        assertThat(overheadMs).as("Keel's time: what the client waited less at least the upstream's delay").isBetween(0.0, clientMs - RECORDED_DELAY_MS);
        double upstreamMs = upstreamMs(r);
        assertThat(upstreamMs).as("the upstream's own time, recorded on its span").isGreaterThanOrEqualTo(RECORDED_DELAY_MS);
        assertThat(overheadMs + upstreamMs).as("Keel's time and the upstream's add up to no more than the client waited").isLessThanOrEqualTo(clientMs);
    }

    @Test
    void theUpstreamsOwnTimeRunsToTheLastByteOfItsBodyNotToItsHeaders() throws Exception {
        primary.then((ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 0);
            ex.getResponseBody().flush();
            pause(UPSTREAM_DELAY_MS);
            ex.getResponseBody().write(FakeLlmServer.completion("m", "a body after its headers").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        });
        HttpResponse<String> r = chatAs("overhead", request("fast", false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(upstreamMs(r)).as("headers came at once, the body after the delay").isGreaterThanOrEqualTo(RECORDED_DELAY_MS);
        assertThat(Double.parseDouble(r.headers().firstValue("x-keel-overhead-ms").orElseThrow())).isLessThan(UPSTREAM_DELAY_MS);
    }

    @Test
    void aStreamsOverheadHeaderExcludesTheUpstreamsWaitBeforeItsFirstChunk() throws Exception {
        FakeLlmServer.Behavior words = FakeLlmServer.stream(List.of("late ", "words"), -1);
        primary.then((ex, req) -> {
            pause(UPSTREAM_DELAY_MS);
            words.respond(ex, req);
        });
        long start = System.nanoTime();
        HttpResponse<String> r = chatAs("overhead", request("fast", true));
        double clientMs = (System.nanoTime() - start) / 1e6;
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("late ").endsWith("data: [DONE]\n\n");
        double overheadMs = Double.parseDouble(r.headers().firstValue("x-keel-overhead-ms").orElseThrow());
        assertThat(overheadMs).as("the upstream's %d ms before its first chunk is not Keel's", UPSTREAM_DELAY_MS).isBetween(0.0, clientMs - RECORDED_DELAY_MS);
        assertThat(upstreamMs(r)).as("the stream's upstream time, on its span").isGreaterThanOrEqualTo(RECORDED_DELAY_MS);
    }

    /** Long against Keel's own time on a loaded machine: a connection left idle, or a request sent in two parts this far apart. */
    private static final long CLIENT_PAUSE_MS = 400;

    @Test
    void theOverheadHeaderOfARequestOnAKeptAliveConnectionDoesNotCountTheTimeTheConnectionWasIdle() throws Exception {
        try (KeptAlive connection = new KeptAlive(URI.create(base).getPort())) {
            assertThat(connection.chat(request("fast", false), 0).status()).isEqualTo(200);
            pause(CLIENT_PAUSE_MS);
            KeptAlive.Answer second = connection.chat(request("fast", false), 0);
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.overheadMs()).as("the %d ms between the requests are nobody's", CLIENT_PAUSE_MS).isLessThan(CLIENT_PAUSE_MS / 2.0);
        }
    }

    @Test
    void theOverheadHeaderCountsFromTheRequestsFirstBytesWhenItsBodyComesLater() throws Exception {
        try (KeptAlive connection = new KeptAlive(URI.create(base).getPort())) {
            assertThat(connection.chat(request("fast", false), 0).status()).isEqualTo(200);
            KeptAlive.Answer trickled = connection.chat(request("fast", false), CLIENT_PAUSE_MS);
            assertThat(trickled.status()).isEqualTo(200);
            assertThat(trickled.overheadMs()).as("Keel held the request while its body was on its way, as a client measures it")
                    .isGreaterThanOrEqualTo(CLIENT_PAUSE_MS * 0.9);
        }
    }

    /** One HTTP/1.1 connection to Keel, kept alive across chat requests; a request's body can follow its headers after a pause. */
    private static final class KeptAlive implements AutoCloseable {
        record Answer(int status, double overheadMs) {}

        private final Socket socket;
        private final InputStream in;

        KeptAlive(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(15_000);
            in = new BufferedInputStream(socket.getInputStream());
        }

        Answer chat(String body, long bodyAfterMs) throws IOException {
            byte[] content = body.getBytes(StandardCharsets.UTF_8);
            String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Keel-Tenant: overhead\r\n"
                    + "Content-Length: " + content.length + "\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            if (bodyAfterMs > 0) pause(bodyAfterMs);
            socket.getOutputStream().write(content);
            socket.getOutputStream().flush();
            int status = Integer.parseInt(line().split(" ")[1]);
            double overheadMs = -1;
            int length = 0;
            for (String header = line(); !header.isEmpty(); header = line()) {
                String name = header.substring(0, header.indexOf(':')).trim().toLowerCase(Locale.ROOT), value = header.substring(header.indexOf(':') + 1).trim();
                if (name.equals("x-keel-overhead-ms")) overheadMs = Double.parseDouble(value);
                if (name.equals("content-length")) length = Integer.parseInt(value);
            }
            in.readNBytes(length);
            return new Answer(status, overheadMs);
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) throw new EOFException("Keel closed the connection");
                if (c != '\r') line.append((char) c);
            }
            return line.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** The scripted upstream's latency. */
    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The upstream's own time over the request's provider spans, from its trace. */
    private double upstreamMs(HttpResponse<String> r) throws Exception {
        JsonNode trace = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/traces/" + r.headers().firstValue("x-keel-trace-id").orElseThrow()))
                .header("X-Keel-Tenant", "overhead").build(), HttpResponse.BodyHandlers.ofString()).body());
        double total = 0;
        for (JsonNode span : trace.get("spans")) if (span.get("name").asText().equals("provider")) total += span.at("/attributes/upstream_ms").asDouble();
        return total;
    }
}
