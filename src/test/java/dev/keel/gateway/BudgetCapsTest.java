package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Budgets, per-request cost caps and tokens per minute are caps, not reports: each request reserves
 * its worst case before the upstream call, so concurrent requests cannot together pass a limit.
 * Model "fast" costs $1 per million input and $2 per million output tokens; a request with
 * {@code max_tokens: 1000} can cost about $0.00201, and the fake upstream uses all of it.
 */
class BudgetCapsTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Fits three requests of max_tokens 1000 (3 × ~$0.00201) but not four. */
    private static final double BUDGET_FOR_THREE = 0.0065;
    private HttpResponse<String> chat(String key, String extra) throws Exception {
        return send("POST", "/v1/chat/completions", key, "{\"model\":\"fast\"" + extra + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}");
    }

    private double spent(String key) throws Exception {
        fixture.keel.ledger().flush();
        JsonNode rows = JSON.readTree(send("GET", "/v1/usage?group_by=key", key, null).body()).get("data");
        double sum = 0;
        for (JsonNode row : rows) sum += row.get("cost_usd").asDouble();
        return sum;
    }

    /**
     * Sends {@code n} requests at once while the upstream holds every reply, waits until each has
     * either reached the upstream or been refused, then lets the replies go; returns the statuses.
     */
    private List<Integer> concurrently(int n, String key, String extra, int expectUpstream) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        fixture.primary.then(FakeLlmServer.spendsItsLimit(release, 30));
        AtomicInteger refused = new AtomicInteger();
        List<Future<Integer>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                results.add(pool.submit(() -> {
                    int status = chat(key, extra).statusCode();
                    if (status != 200) refused.incrementAndGet();
                    return status;
                }));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (fixture.primary.received.size() + refused.get() < n && System.nanoTime() < until) Thread.onSpinWait();
            assertThat(fixture.primary.received).as("requests that reached the upstream while all were in flight").hasSize(expectUpstream);
            release.countDown();
            List<Integer> statuses = new ArrayList<>();
            for (Future<Integer> f : results) statuses.add(f.get(30, TimeUnit.SECONDS));
            return statuses;
        }
    }

    @Test
    void concurrentRequestsAgainstADailyBudgetThatFitsThreeLetExactlyThreeThrough() throws Exception {
        String key = createKey("{\"name\":\"racing\",\"tenant\":\"race\",\"daily_budget_usd\":" + BUDGET_FOR_THREE + "}").get("key").asText();
        List<Integer> statuses = concurrently(10, key, ",\"max_tokens\":1000", 3);
        assertThat(statuses).filteredOn(s -> s == 200).hasSize(3);
        assertThat(statuses).filteredOn(s -> s == 429).hasSize(7);
        assertThat(spent(key)).isPositive().isLessThanOrEqualTo(BUDGET_FOR_THREE);
    }

    @Test
    void concurrentRequestsAgainstAMonthlyBudgetAreCappedTheSameWay() throws Exception {
        String key = createKey("{\"name\":\"monthly\",\"tenant\":\"race-m\",\"monthly_budget_usd\":" + BUDGET_FOR_THREE + "}").get("key").asText();
        List<Integer> statuses = concurrently(6, key, ",\"max_tokens\":1000", 3);
        assertThat(statuses).filteredOn(s -> s == 200).hasSize(3);
        assertThat(spent(key)).isLessThanOrEqualTo(BUDGET_FOR_THREE);
    }

    @Test
    void concurrentRequestsAgainstTokensPerMinuteReserveTheirWorstCase() throws Exception {
        String key = createKey("{\"name\":\"tpm\",\"tenant\":\"race-t\",\"tokens_per_minute\":2500}").get("key").asText();
        List<Integer> statuses = concurrently(8, key, ",\"max_tokens\":1000", 2);
        assertThat(statuses).filteredOn(s -> s == 200).hasSize(2);
        assertThat(statuses).filteredOn(s -> s == 429).hasSize(6);
    }

    @Test
    void serialRequestsStopAtTheBudgetAndTheWarningFiresBeforeItIsPassed() throws Exception {
        JsonNode created = createKey("{\"name\":\"serial\",\"tenant\":\"serial\",\"daily_budget_usd\":" + BUDGET_FOR_THREE + "}");
        String key = created.get("key").asText(), id = created.get("id").asText();
        fixture.primary.then(FakeLlmServer.spendsItsLimit(new CountDownLatch(0), 1));
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 5; i++) statuses.add(chat(key, ",\"max_tokens\":1000").statusCode());
        assertThat(statuses).containsExactly(200, 200, 200, 429, 429);
        assertThat(spent(key)).isLessThanOrEqualTo(BUDGET_FOR_THREE);

        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (fixture.webhooks.stream().noneMatch(w -> w.contains(id)) && System.nanoTime() < until) Thread.onSpinWait();
        JsonNode event = JSON.readTree(fixture.webhooks.stream().filter(w -> w.contains(id)).findFirst().orElseThrow());
        assertThat(event.get("percent").asInt()).isBetween(80, 100);
    }

    @Test
    void aRefusalWhileOthersHoldTheBudgetSaysSoAndAsksToRetrySoon() throws Exception {
        String key = createKey("{\"name\":\"held\",\"tenant\":\"held\",\"daily_budget_usd\":0.003}").get("key").asText();
        CountDownLatch release = new CountDownLatch(1);
        fixture.primary.then(FakeLlmServer.spendsItsLimit(release, 30));
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<HttpResponse<String>> first = pool.submit(() -> chat(key, ",\"max_tokens\":1000"));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (fixture.primary.received.isEmpty() && System.nanoTime() < until) Thread.onSpinWait();
            HttpResponse<String> second = chat(key, ",\"max_tokens\":1000");
            assertThat(second.statusCode()).isEqualTo(429);
            assertThat(second.headers().firstValue("Retry-After")).contains("1");
            assertThat(JSON.readTree(second.body()).at("/error/message").asText()).contains("reserved by requests in progress");
            release.countDown();
            assertThat(first.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
    }

    /** A stream of "hello there" with {@code max_tokens} whose upstream writes 2,000 words, ignoring it; its content and finish reasons. */
    private record Streamed(String text, List<String> finishes, String body, JsonNode usage) {}

    private Streamed runawayStream(String key, int maxTokens) throws Exception {
        List<String> words = new ArrayList<>();
        for (int i = 0; i < 2000; i++) words.add("word" + i + " ");
        fixture.primary.then(FakeLlmServer.stream(words, -1));
        HttpResponse<String> r = chat(key, ",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"max_tokens\":" + maxTokens);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        StringBuilder text = new StringBuilder();
        List<String> finishes = new ArrayList<>();
        JsonNode usage = null;
        for (String frame : r.body().split("\n\n")) {
            if (!frame.startsWith("data: {")) continue;
            JsonNode chunk = JSON.readTree(frame.substring(6));
            if (chunk.hasNonNull("usage")) usage = chunk.get("usage");
            for (JsonNode choice : chunk.path("choices")) {
                text.append(choice.path("delta").path("content").asText(""));
                if (choice.hasNonNull("finish_reason")) finishes.add(choice.get("finish_reason").asText());
            }
        }
        return new Streamed(text.toString(), finishes, r.body(), usage);
    }

    @Test
    void aStreamWhoseUpstreamIgnoresMaxTokensEndsWhereTheBudgetCannotTakeMoreAndSpendsNoMoreThanIt() throws Exception {
        // max_tokens 20 reserves about $0.00007; the budget takes that and about 65 more output tokens, not 2,000 words.
        String key = createKey("{\"name\":\"runaway\",\"tenant\":\"runaway\",\"daily_budget_usd\":0.0002}").get("key").asText();
        Streamed s = runawayStream(key, 20);
        assertThat(s.finishes()).containsExactly("length");
        assertThat(s.text().split(" ").length).as("past the 20 reserved, up to what the budget takes").isBetween(15, 60);
        assertThat(s.body()).endsWith("data: [DONE]\n\n");
        assertThat(s.usage()).as("the client asked for usage: Keel's estimate of what was sent").isNotNull();
        assertThat(s.usage().path("completion_tokens").asLong()).isGreaterThan(20);
        assertThat(spent(key)).isPositive().isLessThanOrEqualTo(0.0002).isGreaterThan(0.00015);
    }

    @Test
    void aStreamPastItsMaxTokensGoesOnWhileTheBudgetTakesMoreAndIsBilledWhatItWrote() throws Exception {
        String key = createKey("{\"name\":\"roomy\",\"tenant\":\"roomy\",\"daily_budget_usd\":1}").get("key").asText();
        Streamed s = runawayStream(key, 20);
        assertThat(s.finishes()).containsExactly("stop");
        assertThat(s.text().split(" ")).hasSize(2000);
        assertThat(spent(key)).as("2,000 words as the upstream reported them, not the 20 reserved").isGreaterThan(0.0039);
    }

    @Test
    void anAnthropicStreamThinkingPastItsMaxTokensIsMeteredLikeTextAndEndsWhereTheBudgetDoes() throws Exception {
        String key = createKey("{\"name\":\"thinker\",\"tenant\":\"thinker\",\"daily_budget_usd\":0.0005}").get("key").asText();
        List<String> thoughts = new ArrayList<>();
        for (int i = 0; i < 2000; i++) thoughts.add("thought" + i + " ");
        fixture.anthropic.then(FakeLlmServer.anthropicThinkingStream(thoughts));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", key,
                "{\"model\":\"claude-chat\",\"stream\":true,\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"think hard\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"reasoning_content\":\"thought0 \"").contains("\"finish_reason\":\"length\"").doesNotContain("Done.");
        assertThat(spent(key)).isPositive().isLessThanOrEqualTo(0.0005);
    }

    @Test
    void aStreamPastTheKeysCostCapPerRequestEndsThere() throws Exception {
        String key = createKey("{\"name\":\"percap\",\"tenant\":\"percap\",\"max_cost_per_request_usd\":0.0002}").get("key").asText();
        Streamed s = runawayStream(key, 20);
        assertThat(s.finishes()).containsExactly("length");
        assertThat(spent(key)).isLessThanOrEqualTo(0.0002);
        String open = createKey("{\"name\":\"open\",\"tenant\":\"open-stream\",\"requests_per_minute\":100}").get("key").asText();
        assertThat(runawayStream(open, 20).text().split(" ")).as("no budget or cap holds this key's output").hasSize(2000);
    }

    @Test
    void aFailedRequestReleasesItsReservation() throws Exception {
        String key = createKey("{\"name\":\"retry\",\"tenant\":\"released\",\"daily_budget_usd\":0.003}").get("key").asText();
        fixture.primary.then(FakeLlmServer.status(500, "down", Map.of()), FakeLlmServer.status(500, "down", Map.of()),
                FakeLlmServer.status(500, "down", Map.of()), FakeLlmServer.ok("back"));
        assertThat(chat(key, ",\"max_tokens\":1000").statusCode()).isEqualTo(502);
        assertThat(chat(key, ",\"max_tokens\":1000").statusCode()).as("the failure cost nothing and holds nothing").isEqualTo(200);
    }

    @Test
    void aRequestRefusedForItsCacheFieldAfterAdmissionHoldsNothing() throws Exception {
        String key = createKey("{\"name\":\"bad-cache\",\"tenant\":\"bad-cache\",\"daily_budget_usd\":0.003}").get("key").asText();
        for (int i = 0; i < 3; i++) assertThat(chat(key, ",\"max_tokens\":1000,\"cache\":5").statusCode()).isEqualTo(400);
        fixture.primary.then(FakeLlmServer.ok("fine"));
        assertThat(chat(key, ",\"max_tokens\":1000").statusCode()).as("the refused requests reserve nothing").isEqualTo(200);
    }

    @Test
    void aRequestWhoseSchemaDoesNotCompileHoldsNothing() throws Exception {
        String key = createKey("{\"name\":\"bad-schema\",\"tenant\":\"bad-schema\",\"daily_budget_usd\":0.003}").get("key").asText();
        String remoteRef = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"$ref\":\"http://example.com/s\"}}}";
        String deep = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                + "{\"type\":\"array\",\"items\":".repeat(990) + "{\"type\":\"string\"}" + "}".repeat(990) + "}}";
        String tools = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"$ref\":\"http://example.com/p\"}}}]";
        for (String bad : List.of(remoteRef, deep, tools, remoteRef)) {
            HttpResponse<String> r = chat(key, ",\"max_tokens\":1000" + bad);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        }
        fixture.primary.then(FakeLlmServer.ok("fine"));
        assertThat(chat(key, ",\"max_tokens\":1000").statusCode()).as("the refused requests reserve nothing").isEqualTo(200);
        assertThat(fixture.primary.received).as("none of them reached the upstream").hasSize(1);
    }

    @Test
    void aRequestThatCouldCostMoreThanTheWholeBudgetIs400AskingForALowerMaxTokens() throws Exception {
        String key = createKey("{\"name\":\"small\",\"tenant\":\"small\",\"daily_budget_usd\":0.001}").get("key").asText();
        HttpResponse<String> r = chat(key, ",\"max_tokens\":1000");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("request_exceeds_budget");
        assertThat(fixture.primary.received).isEmpty();
    }

    @Test
    void withoutMaxTokensTheCostCapCountsTheModelsWholeOutputLimit() throws Exception {
        String key = createKey("{\"name\":\"capped\",\"tenant\":\"capped\",\"max_cost_per_request_usd\":0.005}").get("key").asText();
        HttpResponse<String> r = chat(key, "");
        assertThat(r.statusCode()).as("4,096 default output tokens at $2/M is $0.0082").isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("max_tokens");
        assertThat(chat(key, ",\"max_tokens\":1000").statusCode()).isEqualTo(200);
    }

    @Test
    void aBudgetedRequestToAModelOfUnknownOutputLimitIsSentWithTheLimitKeelReserved() throws Exception {
        String key = createKey("{\"name\":\"bounded\",\"tenant\":\"bounded\",\"daily_budget_usd\":5}").get("key").asText();
        assertThat(chat(key, "").statusCode()).isEqualTo(200);
        assertThat(fixture.primary.received.get(0).body().get("max_tokens").asInt()).isEqualTo(4096);
        assertThat(chat(key, ",\"max_tokens\":77").statusCode()).isEqualTo(200);
        assertThat(fixture.primary.received.get(1).body().get("max_tokens").asInt()).as("the client's own limit is kept").isEqualTo(77);
    }

    @Test
    void keysWithoutBudgetsOrCostCapsSendRequestsUnchanged() throws Exception {
        String key = createKey("{\"name\":\"free\",\"tenant\":\"free\",\"tokens_per_minute\":100000}").get("key").asText();
        assertThat(chat(key, "").statusCode()).isEqualTo(200);
        assertThat(fixture.primary.received.get(0).body().has("max_tokens")).isFalse();
    }

    @Test
    void aRequestSettingBothOutputLimitsIsReservedAtTheLarger() throws Exception {
        String key = createKey("{\"name\":\"both\",\"tenant\":\"both\",\"max_cost_per_request_usd\":0.001}").get("key").asText();
        HttpResponse<String> r = chat(key, ",\"max_completion_tokens\":1,\"max_tokens\":1000");
        assertThat(r.statusCode()).as("an upstream may honour max_tokens: $0.002 at worst").isEqualTo(400);
        assertThat(fixture.primary.received).isEmpty();
    }

    @Test
    void aModelOfUnknownOutputLimitGetsTheReservedLimitAsMaxTokensWhenTheClientSentOnlyMaxCompletionTokens() throws Exception {
        String key = createKey("{\"name\":\"modern\",\"tenant\":\"modern\",\"daily_budget_usd\":5}").get("key").asText();
        assertThat(chat(key, ",\"max_completion_tokens\":50").statusCode()).isEqualTo(200);
        assertThat(fixture.primary.received.get(0).body().get("max_tokens").asInt()).isEqualTo(50);
    }

    @Test
    void aBudgetedKeyIsRefusedAModelWhosePriceKeelDoesNotKnow() throws Exception {
        String key = createKey("{\"name\":\"unpriced\",\"tenant\":\"unpriced\",\"daily_budget_usd\":5}").get("key").asText();
        HttpResponse<String> r = send("POST", "/v1/chat/completions", key,
                "{\"model\":\"resilient\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("price_unknown");
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("input_per_mtok");
        assertThat(fixture.primary.received).isEmpty();
    }

    @Test
    void outputLimitsPastWhatAnIntHoldsAreRefusedRatherThanWrapped() throws Exception {
        String key = createKey("{\"name\":\"wrap\",\"tenant\":\"wrap\",\"daily_budget_usd\":5}").get("key").asText();
        HttpResponse<String> r = chat(key, ",\"max_tokens\":18446744073709551617");
        assertThat(r.statusCode()).as("2^64 + 1 would wrap to a reservation of one token").isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("max_tokens");
        assertThat(fixture.primary.received).isEmpty();
    }

    @Test
    void aStructuredOutputRetryTheBudgetCannotTakeIs422WithTheFormatProblem() throws Exception {
        String key = createKey("{\"name\":\"retry-json\",\"tenant\":\"retry-json\",\"daily_budget_usd\":0.003}").get("key").asText();
        fixture.primary.then(FakeLlmServer.ok("not json at all"));
        HttpResponse<String> r = chat(key, ",\"max_tokens\":1000,\"response_format\":{\"type\":\"json_object\"}");
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("a retry was refused").contains("daily budget");
        assertThat(fixture.primary.received).as("no second call").hasSize(1);
        assertThat(chat(key, ",\"max_tokens\":1000").statusCode()).as("nothing stays reserved").isEqualTo(200);
    }
}
