package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.store.Ledger;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import dev.keel.trace.Trace;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code "model": "auto"} end to end: three tier models on three fake providers priced $0.25 /
 * $1.50 / $15 per million tokens, requests over HTTP with API keys, decisions read from
 * {@code x-keel-route}, the upstream calls each fake received and the ledger rows.
 */
class ModelRouterTest {
    private static final ObjectMapper JSON = TieredKeel.JSON;
    private static final String SIMPLE = "What is the capital of France?";
    private static final String COMPLEX = "Design a multi-region rate limiter for our public API. Compare token buckets with sliding windows, explain"
            + " the trade-offs of each under clock skew, analyse the failure modes when a region is partitioned, and justify which you would"
            + " pick for 50,000 requests per second. Then outline the rollout plan step by step, with the metrics you would watch at each step"
            + " and the conditions under which you would roll back, and the tests that prove it correct before it ships. Our constraints:"
            + " the limiter's state lives in Redis today, each region runs its own cluster, and the product team wants paying customers to"
            + " never see a false rejection even during a failover.";
    private static final String REFUSAL = "I'm sorry, but I can't help with that.";
    private static TieredKeel fixture;
    private static FakeLlmServer small, medium, large;
    private static Keel keel;

    @BeforeAll
    static void start() throws Exception {
        fixture = new TieredKeel("");
        small = fixture.small;
        medium = fixture.medium;
        large = fixture.large;
        keel = fixture.keel;
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @BeforeEach
    void reset() {
        fixture.reset();
    }

    private static String key(String tenant, String extra) throws Exception {
        return fixture.key(tenant, extra);
    }

    private static HttpResponse<String> send(String method, String path, String bearer, String body, String... headers) throws Exception {
        return fixture.send(method, path, bearer, body, headers);
    }

    private static HttpResponse<String> auto(String key, String question, String... headers) throws Exception {
        return send("POST", "/v1/chat/completions", key, "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":"
                + JSON.writeValueAsString(question) + "}]}", headers);
    }

    private static String route(HttpResponse<String> r) {
        return TieredKeel.route(r);
    }

    private static List<String> ledger(HttpResponse<String> r) throws Exception {
        return fixture.ledger(r);
    }

    @Test
    void aShortFactualQuestionGoesToTheSmallTier() throws Exception {
        HttpResponse<String> r = auto(key("simple", ""), SIMPLE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small; reason=short-simple");
        assertThat(JSON.readTree(r.body()).get("model").asText()).isEqualTo("tier-small");
        assertThat(small.received).hasSize(1);
        assertThat(small.received.get(0).body().get("model").asText()).isEqualTo("s-1");
        assertThat(medium.received).isEmpty();
        assertThat(large.received).isEmpty();
    }

    @Test
    void aLongRequestForAnalysisAndComparisonGoesToTheLargeTier() throws Exception {
        large.then(FakeLlmServer.ok("A long and careful design answer. ".repeat(20)));
        HttpResponse<String> r = auto(key("complex", ""), COMPLEX);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).startsWith("large; reason=reasoning");
        assertThat(large.received).hasSize(1);
        assertThat(small.received).isEmpty();
        assertThat(medium.received).isEmpty();
    }

    @Test
    void aRefusalOnTheSmallTierIsAskedAgainOnTheMediumTierAndBothCallsAreBilled() throws Exception {
        small.then(FakeLlmServer.ok(REFUSAL));
        medium.then(FakeLlmServer.ok("The capital of France is Paris."));
        HttpResponse<String> r = auto(key("refused", ""), SIMPLE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small->medium; reason=refusal");
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isEqualTo("The capital of France is Paris.");
        assertThat(small.received).hasSize(1);
        assertThat(medium.received).hasSize(1);
        assertThat(ledger(r)).containsExactly("tier-small | small; reason=short-simple | paid=true",
                "tier-medium | small->medium; reason=refusal | paid=true");
        // 14 tokens at $0.25 + 14 at $1.50 per million: the header carries the whole route's cost.
        assertThat(Double.parseDouble(r.headers().firstValue("x-keel-cost-usd").orElseThrow())).isCloseTo(14 * 1.75e-6, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(send("GET", "/metrics", TieredKeel.ADMIN_KEY, null).body())
                .containsPattern("keel_router_requests_total\\{first=\"small\",outcome=\"passed\",tier=\"medium\"} [1-9]");
    }

    @Test
    void eachTierIsAskedAtMostOnceAndTheLargeTiersReplyIsKeptWhenItFailsToo() throws Exception {
        small.then(FakeLlmServer.ok(REFUSAL));
        medium.then(FakeLlmServer.ok(REFUSAL));
        large.then(FakeLlmServer.ok("I'm not sure."));
        HttpResponse<String> r = auto(key("all-fail", ""), SIMPLE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small->medium->large; reason=refusal; failed=hedging");
        assertThat(small.received).hasSize(1);
        assertThat(medium.received).hasSize(1);
        assertThat(large.received).hasSize(1);
        assertThat(ledger(r)).hasSize(3);
    }

    @Test
    void aReplyTooShortForAnExplanationEscalates() throws Exception {
        small.then(FakeLlmServer.ok("Rayleigh."));
        medium.then(FakeLlmServer.ok("Sunlight scatters off air molecules, and shorter blue wavelengths scatter far more than red ones, so the"
                + " sky looks blue from every direction."));
        HttpResponse<String> r = auto(key("short", ""), "Why is the sky blue?");
        assertThat(route(r)).isEqualTo("small->medium; reason=too-short");
    }

    @Test
    void aReplyThatBreaksTheRequestedSchemaEscalatesInsteadOfRetryingTheSameTier() throws Exception {
        small.then(FakeLlmServer.ok("Paris, probably"));
        medium.then(FakeLlmServer.ok("{\"city\":\"Paris\"}"));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", key("schema", ""), "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + SIMPLE + "\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"c\",\"schema\":"
                + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small->medium; reason=invalid-json");
        assertThat(small.received).hasSize(1);
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isEqualTo("{\"city\":\"Paris\"}");
    }

    @Test
    void aReplyWithNoTextIsEscalatedThoughItEndedAtALimitTheClientDidNotSet() throws Exception {
        small.then(FakeLlmServer.raw("{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"s-1\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"length\"}]}"));
        medium.then(FakeLlmServer.ok("Paris."));
        HttpResponse<String> r = auto(key("empty-reply", ""), SIMPLE);
        assertThat(route(r)).isEqualTo("small->medium; reason=empty");
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isEqualTo("Paris.");

        small.then(FakeLlmServer.raw("{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"s-1\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"Par\"},\"finish_reason\":\"length\"}]}"));
        r = send("POST", "/v1/chat/completions", key("cut-by-client", ""), "{\"model\":\"auto\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + SIMPLE + "\"}]}");
        assertThat(route(r)).as("cut by the client's own max_tokens: not judged").isEqualTo("small; reason=short-simple");
    }

    @Test
    void anEscalationTheBudgetCannotTakeReturnsTheReplyAlreadyPaidForAndSaysWhy() throws Exception {
        // With max_tokens 1000 the small tier can cost ~$0.00026 and the medium one ~$0.0015: the budget takes only the first.
        String key = key("budget", ",\"daily_budget_usd\":0.001");
        small.then(FakeLlmServer.ok(REFUSAL));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", key, "{\"model\":\"auto\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + SIMPLE + "\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small; reason=short-simple; failed=refusal; escalation=request_exceeds_budget");
        assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isEqualTo(REFUSAL);
        assertThat(medium.received).isEmpty();
        assertThat(ledger(r)).containsExactly("tier-small | small; reason=short-simple | paid=true");
    }

    @Test
    void concurrentEscalationsReserveTheirWorstCaseSoTogetherTheyNeverPassTheBudget() throws Exception {
        // Each medium call can cost ~$0.0015 and does (it spends its whole max_tokens): the budget takes at most two of them,
        // and every other request gets its small reply with the refused escalation named, or a 429 when the budget is held.
        double budget = 0.0035;
        String key = key("racing-escalations", ",\"daily_budget_usd\":" + budget);
        small.then(FakeLlmServer.ok(REFUSAL));
        medium.then(FakeLlmServer.spendsItsLimit(new java.util.concurrent.CountDownLatch(0), 1));
        List<java.util.concurrent.Future<HttpResponse<String>>> futures = new ArrayList<>();
        try (java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 10; i++) {
                futures.add(pool.submit(() -> send("POST", "/v1/chat/completions", key, "{\"model\":\"auto\",\"max_tokens\":1000,\"messages\":"
                        + "[{\"role\":\"user\",\"content\":\"" + SIMPLE + "\"}]}")));
            }
        }
        List<String> routes = new ArrayList<>();
        for (var f : futures) {
            HttpResponse<String> r = f.get();
            assertThat(r.statusCode()).as(r.body()).isIn(200, 429);
            if (r.statusCode() == 200) routes.add(route(r));
        }
        assertThat(routes).isNotEmpty().allMatch(r -> r.startsWith("small->medium") || r.endsWith("escalation=budget_exceeded"));
        assertThat(routes).filteredOn(r -> r.startsWith("small->medium")).hasSizeLessThanOrEqualTo(2);
        keel.ledger().flush();
        double spent = 0;
        for (JsonNode row : JSON.readTree(send("GET", "/v1/usage?group_by=key", key, null).body()).get("data")) spent += row.get("cost_usd").asDouble();
        assertThat(spent).isPositive().isLessThanOrEqualTo(budget);
    }

    @Test
    void aPerRequestCostCapCountsWhatTheRouteSpentAlready() throws Exception {
        // The medium tier's worst case (~1,016 tokens at $1.50 per million, ~$0.00152) fits the cap alone, not after the
        // small tier's 409 tokens (~$0.0001).
        String key = key("capped", ",\"max_cost_per_request_usd\":0.0016");
        small.then(FakeLlmServer.raw("{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"s-1\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"" + REFUSAL + "\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":400,\"total_tokens\":409}}"));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", key, "{\"model\":\"auto\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Why is the sky blue?\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small; reason=reasoning; failed=refusal; escalation=max_cost_per_request_exceeded");
        assertThat(medium.received).isEmpty();
    }

    @Test
    void anEscalatedSessionStartsItsNextRequestOnTheEscalatedTierButOnlyForItsOwnTenantAndKey() throws Exception {
        String acme = key("acme", ""), globex = key("globex", ""), otherAcmeKey = key("acme", "");
        small.then(FakeLlmServer.ok(REFUSAL), FakeLlmServer.ok("The capital of France is Paris."));
        assertThat(route(auto(acme, SIMPLE, "x-keel-session-id", "conv-42"))).isEqualTo("small->medium; reason=refusal");

        assertThat(route(auto(acme, SIMPLE, "x-keel-session-id", "conv-42"))).isEqualTo("medium; reason=session");
        medium.then(FakeLlmServer.stream(List.of("Paris."), Integer.MAX_VALUE));
        assertThat(route(send("POST", "/v1/chat/completions", acme, "{\"model\":\"auto\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + SIMPLE + "\"}]}", "x-keel-session-id", "conv-42"))).isEqualTo("medium; reason=session");
        assertThat(route(auto(globex, SIMPLE, "x-keel-session-id", "conv-42"))).isEqualTo("small; reason=short-simple");
        assertThat(route(auto(otherAcmeKey, SIMPLE, "x-keel-session-id", "conv-42"))).as("another key of the tenant, charged for the tier")
                .isEqualTo("small; reason=short-simple");
        assertThat(route(auto(acme, SIMPLE, "x-keel-session-id", "conv-43"))).isEqualTo("small; reason=short-simple");
        assertThat(route(auto(acme, SIMPLE))).isEqualTo("small; reason=short-simple");
    }

    @Test
    void aMalformedSessionIdIsRefusedNamingTheHeader() throws Exception {
        HttpResponse<String> r = auto(key("bad-session", ""), SIMPLE, "x-keel-session-id", "a".repeat(129));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("x-keel-session-id");
        assertThat(small.received).isEmpty();
    }

    @Test
    void aKeyMustAllowAutoAndTheTierModelsItListsBoundTheTiers() throws Exception {
        HttpResponse<String> noAuto = auto(key("no-auto", ",\"models\":[\"tier-small\"]"), SIMPLE);
        assertThat(noAuto.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(noAuto.body()).at("/error/code").asText()).isEqualTo("model_not_allowed");

        String upToMedium = key("up-to-medium", ",\"models\":[\"auto\",\"tier-small\",\"tier-medium\"]");
        medium.then(FakeLlmServer.ok(REFUSAL));
        HttpResponse<String> r = auto(upToMedium, COMPLEX);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).startsWith("medium; reason=reasoning").contains("+capped; failed=refusal");
        assertThat(large.received).isEmpty();

        String mediumUp = key("medium-up", ",\"models\":[\"auto\",\"tier-medium\",\"tier-large\"]");
        medium.then(FakeLlmServer.ok("The capital of France is Paris."));
        assertThat(route(auto(mediumUp, SIMPLE))).isEqualTo("medium; reason=short-simple+raised");
        assertThat(small.received).isEmpty();
    }

    @Test
    void autoIsListedWithTheModelsForKeysThatMayUseIt() throws Exception {
        JsonNode all = JSON.readTree(send("GET", "/v1/models", key("lists", ""), null).body()).get("data");
        assertThat(all.findValuesAsText("id")).contains("auto", "tier-small", "tier-medium", "tier-large");
        JsonNode narrow = JSON.readTree(send("GET", "/v1/models", key("lists-narrow", ",\"models\":[\"tier-small\"]"), null).body()).get("data");
        assertThat(narrow.findValuesAsText("id")).doesNotContain("auto");
    }

    @Test
    void aStreamIsRoutedButNotEscalatedByDefaultSinceItsBytesAreTheClients() throws Exception {
        small.then(FakeLlmServer.stream(List.of("I'm sorry, ", "but I can't."), Integer.MAX_VALUE));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", key("stream", ""), "{\"model\":\"auto\",\"stream\":true,\"messages\":[{\"role\":"
                + "\"user\",\"content\":\"" + SIMPLE + "\"}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small; reason=short-simple");
        assertThat(r.body()).contains("\"model\":\"tier-small\"").contains("data: [DONE]");
        assertThat(medium.received).isEmpty();
        assertThat(ledger(r)).containsExactly("tier-small | small; reason=short-simple | paid=true");
    }

    @Test
    void aResponsesStreamCarriesTheRouteToo() throws Exception {
        small.then(FakeLlmServer.stream(List.of("Paris."), Integer.MAX_VALUE));
        HttpResponse<String> r = send("POST", "/v1/responses", key("responses-stream", ""), "{\"model\":\"auto\",\"stream\":true,\"input\":\""
                + SIMPLE + "\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small; reason=short-simple");
        assertThat(r.body()).contains("response.completed");
    }

    @Test
    void theResponsesApiIsRoutedAndEscalatedTheSameWay() throws Exception {
        small.then(FakeLlmServer.ok(REFUSAL));
        medium.then(FakeLlmServer.ok("Paris."));
        HttpResponse<String> r = send("POST", "/v1/responses", key("responses", ""), "{\"model\":\"auto\",\"input\":\"" + SIMPLE + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small->medium; reason=refusal");
        assertThat(JSON.readTree(r.body()).get("model").asText()).isEqualTo("tier-medium");
    }

    @Test
    void autoWithoutTiersIsANotFoundThatSaysHowToConfigureIt() throws Exception {
        java.nio.file.Path dir = Files.createTempDirectory("keel-no-tiers-");
        try (dev.keel.store.Database db = dev.keel.store.Database.open(dir); dev.keel.store.Ledger ledger = new dev.keel.store.Ledger(db);
             ChatGateway plain = ChatGateway.create(dev.keel.config.GatewayConfig.EMPTY, k -> null,
                     new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), ledger, null)) {
            ObjectNode request = (ObjectNode) JSON.readTree("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            dev.keel.model.ApiException e = org.assertj.core.api.Assertions.catchThrowableOfType(dev.keel.model.ApiException.class,
                    () -> plain.complete(request, new ChatGateway.Caller("t", null), keel.traces().start("t", "t")));
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.code()).isEqualTo("model_not_found");
            assertThat(e.getMessage()).contains("tier: small, medium or large");
            request.put("stream", true);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> plain.check(request, new ChatGateway.Caller("t", null))).isInstanceOf(dev.keel.model.ApiException.class)
                    .hasMessageContaining("router tiers");
            assertThat(plain.available(new ChatGateway.Caller("t", null))).extracting(ChatGateway.Listed::id).doesNotContain("auto");
        }
    }

    @Test
    void aCallersOwnCheckEscalatesAndItsLabelNeverCarriesText() throws Exception {
        medium.then(FakeLlmServer.ok("Paris is the capital [1]."));
        ObjectNode request = (ObjectNode) JSON.readTree("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"" + SIMPLE + "\"}]}");
        Trace trace = keel.traces().start("answer", "grounded");
        EscalationCheck grounding = (req, reply) -> reply.at("/choices/0/message/content").asText().contains("[1]") ? Optional.empty()
                : Optional.of("low-grounding");
        keel.gateway().complete(request.deepCopy(), new ChatGateway.Caller("grounded", null), trace, Ledger.Tags.NONE, grounding);
        assertThat(trace.attribute(ChatGateway.ROUTE_ATTRIBUTE)).isEqualTo("small->medium; reason=low-grounding");

        reset();
        Trace leaky = keel.traces().start("answer", "grounded");
        keel.gateway().complete(request.deepCopy(), new ChatGateway.Caller("grounded", null), leaky, Ledger.Tags.NONE,
                (req, reply) -> Optional.of("unsupported: " + reply.at("/choices/0/message/content").asText()));
        assertThat(leaky.attribute(ChatGateway.ROUTE_ATTRIBUTE)).isEqualTo("small->medium->large; reason=check-failed; failed=check-failed");
    }
}
