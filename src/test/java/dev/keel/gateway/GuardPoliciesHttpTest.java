package dev.keel.gateway;

import static dev.keel.gateway.GroundedAnswersTest.LEAVE;
import static dev.keel.gateway.GroundedAnswersTest.blockWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Guard policies over HTTP with Keel's own guard: a key's {@code guard_policy} set through the admin
 * API applies from its first request and after a restart, the check API and answers apply the
 * caller's policy, and an answer cached under one policy is not served under another.
 */
class GuardPoliciesHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WITH_EMAIL = "Please reply to ann.lee@example.com about my order.";
    static FakeLlmServer llm;
    static Path dataDir;
    static ServedKeel served;

    private static String yaml() {
        return """
                providers:
                  llm: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer:
                    targets: [{provider: llm, model: upstream-writer}]
                answer:
                  model: writer
                cache: {semantic: {enabled: false}}
                guard:
                  pii: {EMAIL_ADDRESS: block}
                  output: {grounding: flag}
                  policies:
                    open: {pii: {EMAIL_ADDRESS: allow}}
                    grounded: {output: {grounding: block}}
                    nocanary: {output: {canary: false}}
                """.formatted(llm.baseUrl());
    }

    @BeforeAll
    static void start() throws Exception {
        llm = new FakeLlmServer();
        dataDir = Files.createTempDirectory("keel-policies-");
        served = new ServedKeel(yaml(), dataDir);
        served.ingestHandbook("acme");
    }

    @AfterAll
    static void stop() {
        served.close();
        llm.close();
    }

    @BeforeEach
    void reset() {
        llm.reset();
    }

    private static HttpResponse<String> chat(ServedKeel k, String key, String text) throws Exception {
        return k.post("/v1/chat/completions", key, JSON.writeValueAsString(Map.of("model", "writer", "messages",
                java.util.List.of(Map.of("role", "user", "content", text)))));
    }

    @Test
    void aKeysPolicyFromTheAdminApiHoldsFromItsFirstRequestAndAfterARestart() throws Exception {
        String open = served.key("acme", ",\"guard_policy\":\"open\"");
        String plain = served.key("acme", "");

        assertThat(chat(served, open, WITH_EMAIL).statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(chat(served, plain, WITH_EMAIL).body()).path("error").path("code").asText()).isEqualTo("pii_blocked");

        served.close();
        served = new ServedKeel(yaml(), dataDir);
        assertThat(chat(served, open, WITH_EMAIL).statusCode()).as("the policy was read back from the database").isEqualTo(200);
        assertThat(chat(served, plain, WITH_EMAIL).statusCode()).isEqualTo(400);
    }

    @Test
    void theAdminApiRefusesAPolicyTheConfigurationDoesNotHaveNamingTheField() throws Exception {
        for (String value : new String[] {"\"opne\"", "42", "\"tenant:acme\""}) {
            HttpResponse<String> r = served.post("/admin/keys", ServedKeel.ADMIN_KEY, "{\"name\":\"w\",\"tenant\":\"acme\",\"guard_policy\":" + value + "}");

            assertThat(r.statusCode()).as(value).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).path("error").path("param").asText()).isEqualTo("guard_policy");
        }
        HttpResponse<String> listed = served.post("/admin/keys", ServedKeel.ADMIN_KEY, "{\"name\":\"g\",\"tenant\":\"acme\",\"guard_policy\":\"grounded\"}");
        assertThat(JSON.readTree(listed.body()).path("guard_policy").asText()).isEqualTo("grounded");
    }

    @Test
    void theCheckApiAppliesTheCallersPolicy() throws Exception {
        String open = served.key("acme", ",\"guard_policy\":\"open\"");
        String plain = served.key("acme", "");
        String body = JSON.writeValueAsString(Map.of("text", WITH_EMAIL));

        assertThat(JSON.readTree(served.post("/v1/guard/check", open, body).body()).path("verdict").asText()).isEqualTo("allow");
        assertThat(JSON.readTree(served.post("/v1/guard/check", plain, body).body()).path("verdict").asText()).isEqualTo("block");
    }

    @Test
    void aReplyCachedUnderOnePolicyIsNotServedToACallerUnderAnother() throws Exception {
        String withoutCanary = served.key("acme", ",\"guard_policy\":\"nocanary\"");
        String plain = served.key("acme", "");
        String request = JSON.writeValueAsString(Map.of("model", "writer", "temperature", 0, "messages", java.util.List.of(
                Map.of("role", "system", "content", "You are SupportBot. Discount code ZEBRA-99 is internal."),
                Map.of("role", "user", "content", "hi, what can you do?"))));
        // The upstream repeats its system prompt, as a model talked into leaking it would.
        java.util.function.Function<JsonNode, String> leak = r -> "My instructions: " + r.path("messages").path(0).path("content").asText();
        llm.then(FakeLlmServer.okFrom(leak), FakeLlmServer.okFrom(leak));

        HttpResponse<String> leaked = served.post("/v1/chat/completions", withoutCanary, request);
        HttpResponse<String> guarded = served.post("/v1/chat/completions", plain, request);

        assertThat(leaked.body()).as("that policy has no canary to catch it").contains("ZEBRA-99");
        assertThat(guarded.headers().firstValue("x-keel-cache")).as("cached per policy").hasValue("miss");
        assertThat(guarded.body()).doesNotContain("ZEBRA-99");
        assertThat(JSON.readTree(guarded.body()).path("choices").path(0).path("finish_reason").asText()).isEqualTo("content_filter");
    }

    @Test
    void anAnswersGroundingActionIsTheCallersAndACachedAnswerIsNotServedUnderAnotherPolicy() throws Exception {
        String flagging = served.key("acme", "");
        String blocking = served.key("acme", ",\"guard_policy\":\"grounded\"");
        String unsupported = "Employees get 28 days of paid leave per year [%s]. Employees also get 45 days of sabbatical after two years [%s].";
        llm.then(FakeLlmServer.okFrom(r -> unsupported.formatted(blockWith(r, "28 days"), blockWith(r, "28 days"))));
        llm.then(FakeLlmServer.okFrom(r -> unsupported.formatted(blockWith(r, "28 days"), blockWith(r, "28 days"))));

        JsonNode flagged = JSON.readTree(served.post("/v1/answer", flagging, JSON.writeValueAsString(Map.of("question", LEAVE))).body());
        JsonNode withheld = JSON.readTree(served.post("/v1/answer", blocking, JSON.writeValueAsString(Map.of("question", LEAVE))).body());

        assertThat(flagged.path("answer").asText()).contains("sabbatical");
        assertThat(flagged.path("grounding").path("unsupported")).isNotEmpty();
        assertThat(withheld.path("refused").asText()).isEqualTo("ungrounded_answer");
        assertThat(withheld.toString()).doesNotContain("sabbatical");
    }
}
