package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Streamed {@code "model": "auto"} requests with {@code router.escalate_streams}: each tier's reply is held until its
 * opening passed the router's checks, so a refusal, a hedge or a too-short reply is asked again on the next tier and
 * the client sees only the reply that is served.
 */
class StreamEscalationTest {
    private static final ObjectMapper JSON = TieredKeel.JSON;
    private static final String SIMPLE = "What is the capital of France?";
    private static TieredKeel fixture;
    private static FakeLlmServer small, medium, large;

    @BeforeAll
    static void start() throws Exception {
        fixture = new TieredKeel("router: {escalate_streams: true}\ncache: {exact: {enabled: false}, semantic: {enabled: false}}\n");
        small = fixture.small;
        medium = fixture.medium;
        large = fixture.large;
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

    private static HttpResponse<String> post(String path, String bearer, String body) throws Exception {
        return fixture.send("POST", path, bearer, body);
    }

    private static HttpResponse<String> streamAuto(String key, String extra) throws Exception {
        return post("/v1/chat/completions", key, "{\"model\":\"auto\",\"stream\":true" + extra + ",\"messages\":[{\"role\":\"user\",\"content\":\""
                + SIMPLE + "\"}]}");
    }

    private static String route(HttpResponse<String> r) {
        return TieredKeel.route(r);
    }

    /** The text of a chat completion stream: its content deltas joined. */
    private static String text(HttpResponse<String> r) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            out.append(JSON.readTree(line.substring(6)).at("/choices/0/delta/content").asText(""));
        }
        return out.toString();
    }

    @Test
    void aShortStreamedRefusalIsAskedAgainOnTheNextTierAndTheClientSeesOnlyThatReply() throws Exception {
        small.then(FakeLlmServer.stream(List.of("I'm sorry, ", "but I can't ", "help with that."), Integer.MAX_VALUE));
        medium.then(FakeLlmServer.stream(List.of("The capital ", "of France ", "is Paris."), Integer.MAX_VALUE));
        HttpResponse<String> r = streamAuto(key("short-refusal", ""), "");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small->medium; reason=refusal");
        assertThat(text(r)).isEqualTo("The capital of France is Paris.");
        assertThat(r.body()).contains("\"model\":\"tier-medium\"").doesNotContain("tier-small").endsWith("data: [DONE]\n\n");
        assertThat(fixture.ledger(r)).containsExactly("tier-small | small; reason=short-simple | paid=true",
                "tier-medium | small->medium; reason=refusal | paid=true");
    }

    @Test
    void aLongReplyThatOpensWithARefusalIsCutAtItsOpeningAndItsUpstreamCancelled() throws Exception {
        CountDownLatch aborted = new CountDownLatch(1);
        small.then(FakeLlmServer.endlessStream("I'm sorry, but I can't help with that. ", aborted));
        medium.then(FakeLlmServer.stream(List.of("Paris."), Integer.MAX_VALUE));
        HttpResponse<String> r = streamAuto(key("long-refusal", ""), "");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small->medium; reason=refusal");
        assertThat(text(r)).isEqualTo("Paris.");
        assertThat(aborted.await(10, TimeUnit.SECONDS)).as("the small tier's stream was cancelled").isTrue();
    }

    @Test
    void aReplyWhoseOpeningPassesStreamsWholeThoughItMentionsARefusalLater() throws Exception {
        List<String> words = new ArrayList<>(Collections.nCopies(60, "Paris is the capital. "));
        words.add("I cannot say more.");
        small.then(FakeLlmServer.stream(words, Integer.MAX_VALUE));
        HttpResponse<String> r = streamAuto(key("passes", ""), "");
        assertThat(route(r)).isEqualTo("small; reason=short-simple");
        assertThat(text(r)).isEqualTo(String.join("", words));
        assertThat(medium.received).isEmpty();
    }

    @Test
    void aReplyTooShortForTheQuestionIsEscalatedWhenTheStreamEnds() throws Exception {
        small.then(FakeLlmServer.stream(List.of("P"), Integer.MAX_VALUE));
        medium.then(FakeLlmServer.stream(List.of("Paris is the capital of France."), Integer.MAX_VALUE));
        HttpResponse<String> r = streamAuto(key("too-short", ""), "");
        assertThat(route(r)).isEqualTo("small->medium; reason=too-short");
        assertThat(text(r)).isEqualTo("Paris is the capital of France.");
    }

    @Test
    void aReplyWithNoTextIsEscalatedEvenWhenItEndedAtTheOutputLimit() throws Exception {
        // A reasoning model that spent its whole limit thinking: no content, finish_reason "length", and the client set no limit.
        small.then(FakeLlmServer.raw("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"s-1\",\"choices\":[{\"index\":0,"
                + "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n"));
        medium.then(FakeLlmServer.stream(List.of("Paris."), Integer.MAX_VALUE));
        HttpResponse<String> r = streamAuto(key("empty", ""), "");
        assertThat(route(r)).isEqualTo("small->medium; reason=empty");
        assertThat(text(r)).isEqualTo("Paris.");
    }

    @Test
    void theLastTierStreamsUncheckedAsItArrives() throws Exception {
        small.then(FakeLlmServer.stream(List.of("I'm not sure."), Integer.MAX_VALUE));
        medium.then(FakeLlmServer.stream(List.of("I'm sorry, but I can't."), Integer.MAX_VALUE));
        large.then(FakeLlmServer.stream(List.of("I don't know."), Integer.MAX_VALUE));
        HttpResponse<String> r = streamAuto(key("last-tier", ""), "");
        assertThat(route(r)).isEqualTo("small->medium->large; reason=refusal");
        assertThat(text(r)).isEqualTo("I don't know.");
        assertThat(fixture.ledger(r)).hasSize(3);
    }

    @Test
    void anEscalationTheBudgetCannotTakeSendsTheHeldReplyAlreadyPaidFor() throws Exception {
        // With max_tokens 1000 the small tier can cost ~$0.00026 and the medium one ~$0.0015: the budget takes only the first.
        small.then(FakeLlmServer.stream(List.of("I'm sorry, ", "but I can't."), Integer.MAX_VALUE));
        HttpResponse<String> r = streamAuto(key("budget", ",\"daily_budget_usd\":0.001"), ",\"max_tokens\":1000");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(route(r)).isEqualTo("small; reason=short-simple; failed=refusal; escalation=request_exceeds_budget");
        assertThat(text(r)).isEqualTo("I'm sorry, but I can't.");
        assertThat(medium.received).isEmpty();
        assertThat(fixture.ledger(r)).containsExactly("tier-small | small; reason=short-simple | paid=true");
    }

    @Test
    void aToolCallIsReleasedAtOnceAndNotJudged() throws Exception {
        // A request with tools starts on the medium tier.
        medium.then(FakeLlmServer.streamToolCall("lookup", List.of("{\"city\":", "\"Paris\"}")));
        HttpResponse<String> r = post("/v1/chat/completions", key("tools", ""), "{\"model\":\"auto\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + SIMPLE + "\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"parameters\":{\"type\":\"object\"}}}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("tool_calls").contains("lookup");
        assertThat(route(r)).startsWith("medium;");
        assertThat(large.received).isEmpty();
    }
}
