package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.ConfigException;
import dev.keel.config.KeelConfig;
import dev.keel.index.SearchFilters;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerRequest;
import dev.keel.store.ApiKey;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Grounded answers on the model {@code auto} ({@code answer.model: auto}): two tiers on two fake
 * providers; an answer the small tier grounds poorly is asked again of the medium tier.
 */
class AutoAnswersTest {
    private static final String LEAVE = GroundedAnswersTest.LEAVE;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SMALL_WINDOW = 3000, MEDIUM_WINDOW = 16000;
    private static final String TIERS = """
            providers:
              small: {type: openai, base_url: "%s", max_retries: 0}
              medium: {type: openai, base_url: "%s", max_retries: 0}
            models:
              tier-small:
                tier: small
                context_window: %d
                targets: [{provider: small, model: s-1, input_per_mtok: 0.25, output_per_mtok: 0.25}]
              tier-medium:
                tier: medium
                context_window: %d
                targets: [{provider: medium, model: m-1, input_per_mtok: 1.5, output_per_mtok: 1.5}]
            """;

    static FakeLlmServer small, medium;
    static ServedKeel served;
    static Keel keel;

    @BeforeAll
    static void start() throws Exception {
        small = new FakeLlmServer();
        medium = new FakeLlmServer();
        served = new ServedKeel(TIERS.formatted(small.baseUrl(), medium.baseUrl(), SMALL_WINDOW, MEDIUM_WINDOW)
                + "answer: {model: auto}\ncache: {exact: {enabled: false}, semantic: {enabled: false}}\n");
        keel = served.keel;
        served.ingestHandbook("acme");
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
    }

    private static String key(String models) throws Exception {
        return served.key("acme", ",\"models\":" + models);
    }

    private static HttpResponse<String> post(String path, String bearer, String body) throws Exception {
        return served.post(path, bearer, body);
    }

    @Test
    void anAnswerTheSmallTierGroundsPoorlyIsAnsweredByTheMediumTier() throws Exception {
        small.then(FakeLlmServer.okFrom(r -> "Employees get 45 days of sabbatical after two years [" + GroundedAnswersTest.blockWith(r, "28 days")
                + "]. The leave policy was written by Deloitte [" + GroundedAnswersTest.blockWith(r, "28 days") + "]."));
        medium.then(FakeLlmServer.okFrom(r -> "Employees get 28 days of paid leave per year [" + GroundedAnswersTest.blockWith(r, "28 days") + "]."));
        HttpResponse<String> r = post("/v1/answer", key("[\"auto\",\"tier-small\",\"tier-medium\"]"), "{\"question\":\"" + LEAVE + "\",\"model\":\"auto\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode a = JSON.readTree(r.body());
        assertThat(a.get("answer").asText()).isEqualTo("Employees get 28 days of paid leave per year [1].");
        assertThat(a.get("grounding").get("score").asDouble()).isEqualTo(1.0);
        assertThat(a.has("degraded")).isFalse();
        String traceId = a.get("trace_id").asText();
        JsonNode trace = JSON.readTree(keel.traces().findJson(traceId, "acme").orElseThrow());
        assertThat(trace.get("attributes").get(ChatGateway.ROUTE_ATTRIBUTE).asText()).isEqualTo("small->medium; reason=low-grounding");
        assertThat(r.headers().firstValue("x-keel-route")).hasValue("small->medium; reason=low-grounding");
        assertThat(served.ledger(traceId, "model, route")).containsExactly("tier-small | small; reason=short-simple", "tier-medium | small->medium; reason=low-grounding");
        assertThat(small.received).hasSize(1);
        assertThat(medium.received).hasSize(1);
    }

    @Test
    void theConfiguredAutoAnswersALocalQuestionWithoutAKey() {
        small.then(FakeLlmServer.okFrom(r -> "Employees get 28 days of paid leave per year [" + GroundedAnswersTest.blockWith(r, "28 days") + "]."));
        Answer a = keel.answers().answer(new AnswerRequest("acme", LEAVE, SearchFilters.NONE), keel.traces().start("ask", "acme"));
        assertThat(a.text()).isEqualTo("Employees get 28 days of paid leave per year [1].");
        assertThat(medium.received).isEmpty();
    }

    @Test
    void autoIsRefusedForAKeyThatDoesNotAllowItAndListedForOneThatDoes() throws Exception {
        HttpResponse<String> notAllowed = post("/v1/answer", key("[\"tier-small\"]"), "{\"question\":\"" + LEAVE + "\",\"model\":\"auto\"}");
        assertThat(notAllowed.statusCode()).as(notAllowed.body()).isEqualTo(403);
        assertThat(JSON.readTree(notAllowed.body()).get("error").get("code").asText()).isEqualTo("model_not_allowed");
        HttpResponse<String> unknown = post("/v1/answer", key("[\"auto\",\"tier-small\"]"), "{\"question\":\"" + LEAVE + "\",\"model\":\"nope\"}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").get("message").asText()).endsWith("available: [auto, tier-small]");
        assertThat(small.received).isEmpty();
    }

    @Test
    void thePromptForAutoIsMadeForTheSmallestWindowAmongTheTiersTheKeyReaches() {
        ApiKey mediumOnly = new ApiKey("key_m", "m", "acme", "sk-keel-m", List.of("auto", "tier-medium"), 0, 0, 0, 0, 0, 0, null, true, null, List.of());
        assertThat(keel.gateway().contextWindow("auto", new ChatGateway.Caller("acme", null))).isEqualTo(SMALL_WINDOW);
        assertThat(keel.gateway().contextWindow("auto", new ChatGateway.Caller("acme", mediumOnly))).isEqualTo(MEDIUM_WINDOW);
    }

    @Test
    void answerModelAutoWithoutTiersFailsAtStartupNamingTheField() throws Exception {
        String noTiers = TIERS.formatted(small.baseUrl(), medium.baseUrl(), SMALL_WINDOW, MEDIUM_WINDOW).replaceAll("(?m)^    tier: .*\\n", "");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KeelConfig.parse(noTiers + "answer: {model: auto}\n", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("answer.model").hasMessageContaining("tier: small, medium or large");
    }
}
