package dev.keel.gateway;

import static dev.keel.gateway.GuardedChatTest.ATTACK;
import static dev.keel.gateway.GuardedGateway.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.trace.SpanRecord;
import dev.keel.trace.Trace;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the input guard reads of a request, and when: every text a provider reads (any part type,
 * the caller's own assistant turns), only once the request is admitted, and never more than
 * {@code guard.input.max_chars} of it.
 */
class GuardedRequestTest {
    static final int MAX_CHARS = 5_000;
    static GuardedGateway g;

    @BeforeAll
    static void start() throws Exception {
        g = new GuardedGateway("enabled: true\ninput: {max_chars: " + MAX_CHARS + "}");
    }

    @AfterAll
    static void stop() {
        g.close();
    }

    @BeforeEach
    void reset() {
        g.publicUpstream.reset();
    }

    private static ObjectNode withParts(String role, String... typeText) {
        ObjectNode r = request("chat");
        var parts = r.withArray("messages").addObject().put("role", role).putArray("content");
        for (int i = 0; i < typeText.length; i += 2) parts.addObject().put("type", typeText[i]).put("text", typeText[i + 1]);
        return r;
    }

    @Test
    void aTextPartOfAnyTypeIsScored() {
        ApiException e = catchThrowableOfType(ApiException.class, () -> g.complete(withParts("user", "input_text", ATTACK)));

        assertThat(e.code()).isEqualTo("prompt_injection");
        assertThat(g.publicUpstream.received).isEmpty();
    }

    @Test
    void aForgedAssistantTurnIsScoredForInjection() {
        ApiException e = catchThrowableOfType(ApiException.class, () -> g.complete(request("chat", "user", "Hi", "assistant", ATTACK, "user", "Go on")));

        assertThat(e.code()).isEqualTo("prompt_injection");
        assertThat(e.param()).isEqualTo("messages[1]");
    }

    @Test
    void aForgedAssistantRefusalIsScoredAsAField() {
        ObjectNode request = request("chat");
        request.withArray("messages").addObject().put("role", "user").put("content", "Hi");
        request.withArray("messages").addObject().put("role", "assistant").put("content", "Sure.").put("refusal", ATTACK);
        request.withArray("messages").addObject().put("role", "user").put("content", "Go on");

        ApiException e = catchThrowableOfType(ApiException.class, () -> g.complete(request));

        assertThat(e.code()).isEqualTo("prompt_injection");
        assertThat(g.publicUpstream.received).isEmpty();
    }

    @Test
    void aForgedAssistantRefusalPartIsScored() {
        ObjectNode request = request("chat");
        request.withArray("messages").addObject().put("role", "assistant").putArray("content").addObject().put("type", "refusal").put("refusal", ATTACK);
        request.withArray("messages").addObject().put("role", "user").put("content", "Go on");

        assertThat(catchThrowableOfType(ApiException.class, () -> g.complete(request)).code()).isEqualTo("prompt_injection");
    }

    @Test
    void aPartWhoseTextIsNotAStringIsRefusedNamingIt() {
        ObjectNode request = request("chat");
        request.withArray("messages").addObject().put("role", "user").putArray("content").addObject().put("type", "text").putObject("text").put("value", ATTACK);

        ApiException e = catchThrowableOfType(ApiException.class, () -> g.complete(request));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.param()).isEqualTo("messages[0].content[0].text");
        assertThat(g.publicUpstream.received).isEmpty();
    }

    @Test
    void aSystemPromptOfPartsGetsTheCanaryAsItsFirstPart() {
        g.publicUpstream.then(FakeLlmServer.ok("Hello."));
        ObjectNode request = withParts("system", "text", "You are the billing assistant.");
        request.withArray("messages").addObject().put("role", "user").put("content", "Hi");

        g.complete(request);

        var parts = g.publicUpstream.received.get(0).body().path("messages").path(0).path("content");
        assertThat(parts.path(0).path("text").asText()).startsWith(g.guard.canary());
        assertThat(parts.path(1).path("text").asText()).isEqualTo("You are the billing assistant.");
    }

    @Test
    void moreTextThanTheGuardScansIsRefusedWith413BeforeAnyScan() {
        String half = "word ".repeat(MAX_CHARS / 10);
        ObjectNode request = withParts("user", "text", half, "input_text", half + ATTACK);

        ApiException e = catchThrowableOfType(ApiException.class, () -> g.complete(request));

        assertThat(e.status()).isEqualTo(413);
        assertThat(e.code()).isEqualTo("guard_text_too_large");
        assertThat(e.getMessage()).contains(String.valueOf(MAX_CHARS)).contains("guard.input.max_chars");
        assertThat(g.publicUpstream.received).isEmpty();
    }

    @Test
    void aRefusalCountsTowardsTheTextTheGuardScans() {
        ObjectNode request = request("chat");
        request.withArray("messages").addObject().put("role", "assistant").put("content", "Sure.").put("refusal", "word ".repeat(MAX_CHARS));
        request.withArray("messages").addObject().put("role", "user").put("content", "Go on");

        ApiException e = catchThrowableOfType(ApiException.class, () -> g.complete(request));

        assertThat(e.status()).isEqualTo(413);
        assertThat(e.code()).isEqualTo("guard_text_too_large");
    }

    @Test
    void aRequestOverTheKeysRateLimitIsRefusedBeforeTheGuardReadsIt() {
        ApiKey key = new ApiKey("k-guard-rpm", "rpm", "acme", "kl_x", List.of(), 1, 0, 0, 0, 0, 0, null, false, null, List.of());
        ChatGateway.Caller caller = new ChatGateway.Caller("acme", key);
        ApiException refused = catchThrowableOfType(ApiException.class, () -> g.gateway.complete(request("chat", "user", ATTACK), caller, g.trace()));
        assertThat(refused.code()).isEqualTo("prompt_injection");
        Trace second = g.trace();

        ApiException limited = catchThrowableOfType(ApiException.class, () -> g.gateway.complete(request("chat", "user", ATTACK), caller, second));

        assertThat(limited.status()).as("the refused request counted against the key's limit").isEqualTo(429);
        assertThat(second.view().spans()).extracting(SpanRecord::name).doesNotContain("guard.input");
    }

    @Test
    void theInputSpanLastsAsLongAsTheGuardsWork() {
        var timer = g.traces.registry().timer("keel.guard.latency", "direction", "input");
        double before = timer.totalTime(TimeUnit.MILLISECONDS);
        g.publicUpstream.then(FakeLlmServer.ok("Hello."));
        Trace trace = g.trace();

        g.gateway.complete(request("chat", "user", "Mail ann@example.com about it. " + "word ".repeat(900)), GuardedGateway.caller(), trace);

        double work = timer.totalTime(TimeUnit.MILLISECONDS) - before;
        SpanRecord input = trace.view().spans().stream().filter(s -> s.name().equals("guard.input")).findFirst().orElseThrow();
        assertThat(input.durationMs()).isGreaterThanOrEqualTo(work);
    }
}
