package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A cached {@code /v1/answer} is served only to a caller who could have got it, as a request like
 * any other: through the key's rate limits and budget, with a ledger row, and never an answer a
 * model the key may not use wrote, nor one its cost cap would not have paid for. Only complete,
 * checked answers are kept. Each test asks in a tenant of its own.
 */
class AnswerCacheAdmissionTest {
    private static final String LEAVE = GroundedAnswersTest.LEAVE;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODELS = """
            providers:
              small: {type: openai, base_url: "%s", max_retries: 0}
              medium: {type: openai, base_url: "%s", max_retries: 0}
            models:
              tier-small:
                tier: small
                targets: [{provider: small, model: s-1, input_per_mtok: 0.25, output_per_mtok: 0.25}]
              tier-medium:
                tier: medium
                targets: [{provider: medium, model: m-1, input_per_mtok: 1.5, output_per_mtok: 1.5}]
              premium:
                downgrade: cheap
                targets: [{provider: medium, model: p-1, input_per_mtok: 100, output_per_mtok: 100}]
              cheap:
                targets: [{provider: small, model: c-1, input_per_mtok: 0.1, output_per_mtok: 0.1}]
            """;
    /** Over premium's worst case for an answer, under cheap's: a key with it is downgraded to cheap. */
    private static final double CAP_FOR_CHEAP = 0.05;

    static FakeLlmServer small, medium;
    static ServedKeel served;

    @BeforeAll
    static void start() throws Exception {
        small = new FakeLlmServer();
        medium = new FakeLlmServer();
        served = new ServedKeel(MODELS.formatted(small.baseUrl(), medium.baseUrl()));
    }

    @AfterAll
    static void stop() {
        served.close();
        small.close();
        medium.close();
    }

    @BeforeEach
    void reset() {
        small.reset();
        medium.reset();
        served.keel.gateway().resetBreakers();
    }

    private static FakeLlmServer.Behavior grounded() {
        return FakeLlmServer.okFrom(r -> "Employees get 28 days of paid leave per year [" + GroundedAnswersTest.blockWith(r, "28 days") + "].");
    }

    /** A tenant of its own holding the handbook. */
    private static String tenant() {
        String t = "t-" + UUID.randomUUID().toString().substring(0, 8);
        served.ingestHandbook(t);
        return t;
    }

    private static String key(String tenant, String fields) throws Exception {
        return served.key(tenant, fields);
    }

    private static HttpResponse<String> ask(String key, String model) throws Exception {
        return ask(key, model, "");
    }

    private static HttpResponse<String> ask(String key, String model, String more) throws Exception {
        return served.post("/v1/answer", key, "{\"question\":\"" + LEAVE + "\",\"model\":\"" + model + "\"" + more + "}");
    }

    private static String cache(HttpResponse<String> r) {
        return r.headers().firstValue("x-keel-cache").orElse("absent");
    }

    private static String traceId(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("trace_id").asText();
    }

    @Test
    void anAnswerHitCountsAgainstTheKeysRateLimitAndIsALedgerRowTaggedAsAHit() throws Exception {
        String key = key(tenant(), ",\"requests_per_minute\":2");
        small.then(grounded());
        assertThat(cache(ask(key, "tier-small"))).isEqualTo("miss");
        HttpResponse<String> hit = ask(key, "tier-small");
        assertThat(cache(hit)).as(hit.body()).isEqualTo("hit-exact");
        assertThat(served.ledger(traceId(hit), "model, provider, cost_usd, cache")).containsExactly("tier-small | null | 0.0 | hit-exact");
        HttpResponse<String> third = ask(key, "tier-small");
        assertThat(third.statusCode()).as(third.body()).isEqualTo(429);
        assertThat(JSON.readTree(third.body()).get("error").get("code").asText()).isEqualTo("rate_limit_exceeded");
        assertThat(small.received).hasSize(1);
    }

    @Test
    void anAnswerHitIsRefusedLikeAFreshAnswerWhenTheKeysBudgetCannotTakeItsModelCall() throws Exception {
        String t = tenant();
        medium.then(grounded());
        assertThat(cache(ask(key(t, ""), "tier-medium"))).isEqualTo("miss");
        String poor = key(t, ",\"daily_budget_usd\":0.000001");
        HttpResponse<String> fresh = ask(poor, "tier-medium", ",\"cache\":\"off\""), cached = ask(poor, "tier-medium");
        assertThat(fresh.statusCode()).as(fresh.body()).isIn(400, 429);
        assertThat(cached.statusCode()).as(cached.body()).isEqualTo(fresh.statusCode());
        assertThat(JSON.readTree(cached.body()).get("error").get("code")).isEqualTo(JSON.readTree(fresh.body()).get("error").get("code"));
        assertThat(medium.received).hasSize(1);
    }

    @Test
    void anAutoAnswerTheMediumTierWroteIsNotServedToAKeyThatReachesOnlyTheSmallTier() throws Exception {
        String t = tenant();
        small.then(FakeLlmServer.okFrom(r -> "Employees get 45 days of sabbatical after two years [" + GroundedAnswersTest.blockWith(r, "28 days")
                + "]. The leave policy was written by Deloitte [" + GroundedAnswersTest.blockWith(r, "28 days") + "]."));
        medium.then(grounded());
        HttpResponse<String> escalated = ask(key(t, ",\"models\":[\"auto\",\"tier-small\",\"tier-medium\"]"), "auto");
        assertThat(escalated.headers().firstValue("x-keel-route")).hasValue("small->medium; reason=low-grounding");
        assertThat(cache(ask(key(t, ",\"models\":[\"auto\",\"tier-small\",\"tier-medium\"]"), "auto"))).isEqualTo("hit-exact");
        HttpResponse<String> smallOnly = ask(key(t, ",\"models\":[\"auto\",\"tier-small\"]"), "auto");
        assertThat(cache(smallOnly)).isEqualTo("miss");
        assertThat(JSON.readTree(smallOnly.body()).get("answer").asText()).isNotEqualTo(JSON.readTree(escalated.body()).get("answer").asText());
        assertThat(medium.received).hasSize(1);
    }

    @Test
    void aDowngradedAnswerIsNotServedToAKeyThatMayNotUseTheDowngrade() throws Exception {
        String t = tenant();
        small.then(grounded());
        medium.then(grounded());
        HttpResponse<String> downgraded = ask(key(t, ",\"max_cost_per_request_usd\":" + CAP_FOR_CHEAP), "premium");
        assertThat(downgraded.statusCode()).as(downgraded.body()).isEqualTo(200);
        assertThat(small.received).hasSize(1);
        HttpResponse<String> premiumOnly = ask(key(t, ",\"models\":[\"premium\"]"), "premium");
        assertThat(cache(premiumOnly)).isEqualTo("miss");
        assertThat(medium.received).hasSize(1);
    }

    @Test
    void aPremiumAnswerIsNotServedToAKeyWhoseCostCapWouldHaveDowngradedIt() throws Exception {
        String t = tenant();
        small.then(grounded());
        medium.then(grounded());
        assertThat(cache(ask(key(t, ""), "premium"))).isEqualTo("miss");
        assertThat(medium.received).hasSize(1);
        HttpResponse<String> capped = ask(key(t, ",\"max_cost_per_request_usd\":" + CAP_FOR_CHEAP), "premium");
        assertThat(cache(capped)).isEqualTo("miss");
        assertThat(small.received).hasSize(1);
    }

    @Test
    void aDegradedAnswerIsNotKept() throws Exception {
        String key = key(tenant(), "");
        medium.then(FakeLlmServer.status(503, "{\"error\":{\"message\":\"down\"}}", Map.of()));
        HttpResponse<String> degraded = ask(key, "tier-medium");
        assertThat(JSON.readTree(degraded.body()).path("degraded").asBoolean()).as(degraded.body()).isTrue();
        medium.then(grounded());
        HttpResponse<String> after = ask(key, "tier-medium");
        assertThat(cache(after)).isEqualTo("miss");
        assertThat(JSON.readTree(after.body()).path("degraded").asBoolean()).isFalse();
    }

    @Test
    void aUserSpecificAnswerNeitherReadsNorWritesTheModelCallsCacheEither() throws Exception {
        String key = key(tenant(), "");
        medium.then(grounded(), grounded(), grounded());
        HttpResponse<String> first = ask(key, "tier-medium", ",\"cache\":\"off\"");
        assertThat(cache(first)).isEqualTo("off");
        HttpResponse<String> second = ask(key, "tier-medium", ",\"cache\":\"off\"");
        assertThat(cache(second)).isEqualTo("off");
        assertThat(medium.received).as("the second opted-out answer asked the model again").hasSize(2);
        HttpResponse<String> shared = ask(key, "tier-medium");
        assertThat(cache(shared)).isEqualTo("miss");
        assertThat(medium.received).as("nothing the opted-out answers got was stored").hasSize(3);
    }
}
