package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The output guard over HTTP with Keel's own guard: a reply that repeats the canary Keel put in the
 * system prompt is withheld, blocking and streaming, in OpenAI's shapes.
 */
class GuardedChatHttpTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LEAKY = "{\"model\":\"fast\",\"stream\":%s,\"messages\":[{\"role\":\"system\",\"content\":\"You are the billing"
            + " assistant.\"},{\"role\":\"user\",\"content\":\"What can you help me with today?\"}]}";

    private static String echoSystemPrompt(JsonNode request) {
        return "Sure. Here it is: " + request.path("messages").path(0).path("content").asText() + " That is all.";
    }

    @Test
    void aReplyRepeatingTheCanaryComesBackWithContentFilterAndTheGuardsReason() throws Exception {
        fixture.primary.then(FakeLlmServer.okFrom(GuardedChatHttpTest::echoSystemPrompt));

        HttpResponse<String> r = send("POST", "/v1/chat/completions", null, LEAKY.formatted(false));

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode choice = JSON.readTree(r.body()).path("choices").path(0);
        assertThat(choice.path("finish_reason").asText()).isEqualTo("content_filter");
        assertThat(choice.path("reason").asText()).isEqualTo("system_prompt_leak");
        assertThat(r.body()).doesNotContain(fixture.keel.guard().canary()).doesNotContain("billing assistant");
    }

    @Test
    void aStreamRepeatingTheCanaryIsCutOffWithAFinalContentFilterChunkThenDone() throws Exception {
        fixture.primary.then(FakeLlmServer.streamFrom(GuardedChatHttpTest::echoSystemPrompt));

        HttpResponse<String> r = send("POST", "/v1/chat/completions", null, LEAKY.formatted(true));

        assertThat(r.statusCode()).isEqualTo(200);
        List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertThat(data.getLast()).isEqualTo("[DONE]");
        JsonNode last = JSON.readTree(data.get(data.size() - 2)).path("choices").path(0);
        assertThat(last.path("finish_reason").asText()).isEqualTo("content_filter");
        assertThat(last.path("reason").asText()).isEqualTo("system_prompt_leak");
        StringBuilder text = new StringBuilder();
        for (String d : data.subList(0, data.size() - 2)) text.append(JSON.readTree(d).at("/choices/0/delta/content").asText(""));
        assertThat(text.toString()).as("cut at the canary, which leads the system prompt: the caller's prompt never shows")
                .isEqualTo("Sure. Here it is: ");
        assertThat(r.body()).doesNotContain("keel-canary").doesNotContain("That is all");
    }

    @Test
    void aResponsesStreamRepeatingTheCanaryEndsIncompleteForContentFilter() throws Exception {
        fixture.primary.then(FakeLlmServer.streamFrom(GuardedChatHttpTest::echoSystemPrompt));

        HttpResponse<String> r = send("POST", "/v1/responses", null,
                "{\"model\":\"fast\",\"stream\":true,\"instructions\":\"You are the billing assistant.\",\"input\":\"What can you help me with today?\"}");

        assertThat(r.body()).doesNotContain("keel-canary").contains("\"content_filter\"").contains("response.incomplete");
    }
}
