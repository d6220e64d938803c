package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Conversations on {@code POST /v1/answer}: with a {@code session_id}, a follow-up is rewritten into a
 * standalone question (offline by reference detection, with a model by the model), the model sees
 * the conversation between the context and the question, and a session belongs to one tenant.
 */
class AnswerSessionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static FakeLlmServer llm;
    static ServedKeel served;
    static Keel keel;
    static String acmeKey, acmeOtherKey, rivalKey;

    @BeforeAll
    static void start() throws Exception {
        llm = new FakeLlmServer();
        served = new ServedKeel("""
                providers:
                  llm: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer:
                    targets: [{provider: llm, model: upstream-writer, input_per_mtok: 1.0, output_per_mtok: 2.0}]
                """.formatted(llm.baseUrl()));
        keel = served.keel;
        served.ingestHandbook("acme");
        served.ingestHandbook("rival");
        acmeKey = served.key("acme", "");
        rivalKey = served.key("rival", "");
        acmeOtherKey = served.key("acme", "");
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

    private static HttpResponse<String> post(String bearer, String path, String body) throws Exception {
        return served.post(path, bearer, body);
    }

    private static JsonNode ask(String bearer, String question, String session, String model) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("question", question);
        if (session != null) body.put("session_id", session);
        if (model != null) body.put("model", model);
        HttpResponse<String> r = post(bearer, "/v1/answer", JSON.writeValueAsString(body));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static String session() {
        return "s-" + UUID.randomUUID();
    }

    @Test
    void anOfflineFollowUpIsReadWithThePreviousQuestionAndAnsweredFromTheRightSection() throws Exception {
        String s = session();
        ask(acmeKey, "How many days of paid leave do employees get per year?", s, "extractive");
        JsonNode followUp = ask(acmeKey, "And how much of it carries over?", s, "extractive");
        assertThat(followUp.get("rewritten_question").asText())
                .isEqualTo("And how much of it carries over? (follow-up to: How many days of paid leave do employees get per year?)");
        assertThat(followUp.get("answered").asBoolean()).isTrue();
        assertThat(followUp.get("answer").asText()).contains("5 days");
        assertThat(followUp.get("citations").get(0).get("section").asText()).isEqualTo("Paid leave");
    }

    @Test
    void aQuestionWithoutASessionIsNeverRewritten() throws Exception {
        JsonNode a = ask(acmeKey, "And how much of it carries over?", null, "extractive");
        assertThat(a.has("rewritten_question")).isFalse();
    }

    @Test
    void withAModelTheFollowUpIsRewrittenByTheModelAndTheConversationSitsBetweenContextAndQuestion() throws Exception {
        String s = session();
        llm.then(FakeLlmServer.ok("Employees get 28 days of paid leave per year [1]."));
        ask(acmeKey, "How many days of paid leave do employees get?", s, "writer");
        llm.reset();
        llm.then(FakeLlmServer.ok("How many unused paid leave days carry over to the next year?"),
                FakeLlmServer.ok("Up to 5 days of unused leave carry over to the next year [1]."));
        JsonNode a = ask(acmeKey, "And how many carry over?", s, "writer");

        assertThat(a.get("rewritten_question").asText()).isEqualTo("How many unused paid leave days carry over to the next year?");
        assertThat(llm.received).hasSize(2);
        JsonNode rewrite = llm.received.get(0).body().get("messages");
        assertThat(rewrite.get(1).get("content").asText()).contains("User: How many days of paid leave do employees get?")
                .contains("Assistant: Employees get 28 days").endsWith("Follow-up question: And how many carry over?");
        JsonNode messages = llm.received.get(1).body().get("messages");
        int n = messages.size();
        assertThat(messages.get(n - 1).get("content").asText()).contains("How many unused paid leave days carry over to the next year?");
        assertThat(messages.get(n - 2).get("content").asText()).startsWith("The conversation so far")
                .contains("User: How many days of paid leave do employees get?");
        assertThat(messages.get(n - 3).get("content").asText()).contains("<context id=\"1\"");
    }

    @Test
    void anotherTenantUsingTheSameSessionIdStartsItsOwnConversation() throws Exception {
        String s = session();
        llm.then(FakeLlmServer.ok("Employees get 28 days of paid leave per year [1]."));
        ask(acmeKey, "How many days of paid leave do employees get?", s, "writer");
        llm.reset();
        llm.then(FakeLlmServer.ok("Expense reports are due within 30 days of purchase [1]."));
        JsonNode a = ask(rivalKey, "When are expense reports due?", s, "writer");

        assertThat(a.has("rewritten_question")).isFalse();
        assertThat(llm.received).hasSize(1);
        assertThat(llm.received.get(0).body().toString()).doesNotContain("paid leave do employees get").doesNotContain("conversation so far");
    }

    @Test
    void anotherKeyOfTheSameTenantNeitherReadsNorWritesTheConversation() throws Exception {
        String s = session();
        ask(acmeKey, "How many days of paid leave do employees get per year?", s, "extractive");
        JsonNode other = ask(acmeOtherKey, "And how much of it carries over?", s, "extractive");
        assertThat(other.has("rewritten_question")).as("the other key's turn has no history").isFalse();
        JsonNode own = ask(acmeKey, "And how much of it carries over?", s, "extractive");
        assertThat(own.get("rewritten_question").asText()).endsWith("(follow-up to: How many days of paid leave do employees get per year?)");
    }

    @Test
    void aMalformedSessionIdIsABadRequestNamingIt() throws Exception {
        for (String bad : new String[] {"", "has space", "x".repeat(129), "line\nbreak"}) {
            HttpResponse<String> r = post(acmeKey, "/v1/answer", JSON.writeValueAsString(Map.of("question", "How much leave?", "session_id", bad)));
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("session_id");
        }
        HttpResponse<String> r = post(acmeKey, "/v1/answer", "{\"question\":\"How much leave?\",\"session_id\":42}");
        assertThat(r.statusCode()).isEqualTo(400);
        HttpResponse<String> badCache = post(acmeKey, "/v1/answer", "{\"question\":\"How much leave?\",\"session_id\":\"s-1\",\"cache\":\"maybe\"}");
        assertThat(badCache.statusCode()).as("a conversation's answer still checks its cache field").isEqualTo(400);
        assertThat(JSON.readTree(badCache.body()).at("/error/param").asText()).isEqualTo("cache");
    }

    @Test
    void theTraceSaysHowTheQuestionWasReadWithoutItsText() throws Exception {
        String s = session();
        ask(acmeKey, "How many days of paid leave do employees get per year?", s, "extractive");
        JsonNode a = ask(acmeKey, "And how much of it carries over?", s, "extractive");
        String trace = new String(keel.traces().findJson(a.get("trace_id").asText(), "acme").orElseThrow(), StandardCharsets.UTF_8);
        JsonNode rewrite = null;
        for (JsonNode span : JSON.readTree(trace).get("spans")) if (span.get("name").asText().equals("rewrite")) rewrite = span;
        assertThat(rewrite).isNotNull();
        assertThat(rewrite.get("attributes").get("follow_up").asBoolean()).isTrue();
        assertThat(rewrite.get("attributes").get("method").asText()).isEqualTo("appended");
        assertThat(trace).doesNotContain("carries over");
    }
}
