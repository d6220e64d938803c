package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.Keel;
import dev.keel.config.AgentConfig.SideEffect;
import dev.keel.config.KeelConfig;
import dev.keel.engines.Await;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.FakeLlmServer;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Resume: a run whose driving thread stops mid-call (its Agents closed, as when the process dies) is picked up by a
 * new Agents over the same database, rebuilt from its log, and never repeats a completed tool call.
 */
class ResumeTest {
    static FakeLlmServer llm;
    static Keel keel;
    static final TestTools.Counting VERIFY = TestTools.read("verify_identity", TestTools.CUSTOMER, a -> TestTools.ok("{\"verified\":true}"));
    static volatile CountDownLatch entered = new CountDownLatch(1);
    static final AtomicBoolean blockNext = new AtomicBoolean();
    static final TestTools.Counting IDEMPOTENT = blocking("set_email", true);
    static final TestTools.Counting ONCE_ONLY = blocking("send_email", false);

    /** A write that, while {@link #blockNext} is set, blocks inside its first call until interrupted: the process dies mid-call. */
    static TestTools.Counting blocking(String name, boolean idempotent) {
        return new TestTools.Counting(name, TestTools.EMAIL, SideEffect.WRITE, idempotent, Duration.ofSeconds(30), Set.of(), args -> {
            if (blockNext.getAndSet(false)) {
                entered.countDown();
                try {
                    new CountDownLatch(1).await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return TestTools.ok("{\"updated\":true}");
        });
    }

    @BeforeAll
    static void open() throws Exception {
        llm = new FakeLlmServer();
        String yaml = """
                providers:
                  fake: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  agent-model: {targets: [{provider: fake, model: up-agent, input_per_mtok: 0, output_per_mtok: 1}]}
                agents:
                  definitions:
                    writer:
                      model: agent-model
                      tools: [verify_identity, set_email, send_email]
                      confirm: []
                """.formatted(llm.baseUrl());
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-resume-"), List.of(VERIFY, IDEMPOTENT, ONCE_ONLY));
    }

    @AfterAll
    static void close() {
        keel.close();
        llm.close();
    }

    @BeforeEach
    void reset() {
        llm.reset();
        List.of(VERIFY, IDEMPOTENT, ONCE_ONLY).forEach(TestTools.Counting::reset);
        entered = new CountDownLatch(1);
        blockNext.set(true);
    }

    static Agents agents() {
        return new Agents(keel.config().agents(), "agent-model", keel.gateway(), keel.guard(), keel.database(), keel.traces(), keel.tools(), id -> Optional.empty());
    }

    /** Starts a run of the writer on a thread of its own, waits until its write is in progress, then stops its Agents as a crash would. */
    static String interruptedMidWrite(String write) throws Exception {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"42\"}"),
                FakeLlmServer.toolCall(write, "{\"customer_id\":\"42\",\"email\":\"a@b.example\"}"), FakeLlmServer.ok("Done."));
        Agents first = agents();
        AtomicReference<String> id = new AtomicReference<>();
        Thread driver = Thread.ofVirtual().start(() -> first.start("writer", "set the email of 42 to a@b.example", new ChatGateway.Caller("acme", null),
                e -> {
                    if (e.type() == RunEvent.Type.PLAN) id.set(AgentLoopTestSupport.latestRunId(keel));
                }));
        assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
        first.close();
        assertThat(driver.join(Duration.ofSeconds(30))).isTrue();
        RunView left = keel.agents().get(id.get(), new ChatGateway.Caller("acme", null)).orElseThrow();
        assertThat(left.status()).isEqualTo(RunStatus.RUNNING);
        assertThat(left.events().getLast().type()).isEqualTo(RunEvent.Type.TOOL_CALL);
        return id.get();
    }

    static RunView resumed(String id) {
        try (Agents second = agents()) {
            assertThat(second.resumeInterrupted()).contains(id);
            Await.until(Duration.ofSeconds(30), "the resumed run stops", () -> keel.agents().get(id, new ChatGateway.Caller("acme", null)).orElseThrow().status().finished());
            return keel.agents().get(id, new ChatGateway.Caller("acme", null)).orElseThrow();
        }
    }

    @Test
    void aResumedRunNeverRepeatsACompletedCallAndRedoesAnIdempotentWriteWithTheSameKey() throws Exception {
        String id = interruptedMidWrite("set_email");
        RunView run = resumed(id);
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(run.output()).isEqualTo("Done.");
        assertThat(VERIFY.calls).hasValue(1);
        assertThat(IDEMPOTENT.byKey).containsOnlyKeys(id + "-2-0");
        assertThat(IDEMPOTENT.byKey.get(id + "-2-0")).hasValue(2);
        assertThat(run.events()).extracting(RunEvent::type).contains(RunEvent.Type.RESUMED);
        assertThat(run.events().stream().filter(e -> e.type() == RunEvent.Type.TOOL_CALL).count()).isEqualTo(2);
        assertThat(llm.received).hasSize(3);
    }

    @Test
    void aNonIdempotentWriteInterruptedMidCallGoesToAPersonInsteadOfRunningTwice() throws Exception {
        String id = interruptedMidWrite("send_email");
        RunView run = resumed(id);
        assertThat(run.status()).isEqualTo(RunStatus.NEEDS_HUMAN);
        assertThat(run.reason()).contains("may or may not have happened");
        assertThat(ONCE_ONLY.calls).hasValue(1);
        assertThat(llm.received).hasSize(2);
    }

    @Test
    void aResumedRunChecksLoggedArgumentsAgainstTheSchemaBeforeRunningThem() {
        // A log whose model call asked for a write with arguments that break its schema (as a model behind the router,
        // whose replies the gateway does not fix, may send): the resumed run tells the model instead of running it.
        llm.then(FakeLlmServer.ok("Sorry."));
        RunStore store = new RunStore(keel.database());
        String id = "run_forged";
        ObjectNode plan = JsonNodeFactory.instance.objectNode().put("task", "t").put("agent", "writer").put("model", "agent-model")
                .put("prompt_hash", "x").put("system", "s");
        store.create(new RunStore.Row(id, "acme", "writer", null, null, RunStatus.RUNNING), new RunEvent(0, RunEvent.Type.PLAN, plan, 0, 0, 1), "dead");
        ObjectNode call = JsonNodeFactory.instance.objectNode().put("step", 1);
        ObjectNode message = call.putObject("message").put("role", "assistant");
        message.putNull("content");
        message.putArray("tool_calls").addObject().put("id", "c1").put("type", "function").putObject("function").put("name", "send_email")
                .put("arguments", "{\"customer_id\":\"42\",\"email\":\"not-an-address\"}");
        store.append(id, new RunEvent(1, RunEvent.Type.MODEL_CALL, call, 0, 0, 2), RunStatus.RUNNING, "dead");
        RunView run = resumed(id);
        assertThat(ONCE_ONLY.calls).hasValue(0);
        JsonNode result = run.events().stream().filter(e -> e.type() == RunEvent.Type.TOOL_RESULT).findFirst().orElseThrow().payload();
        assertThat(result.path("content").asText()).contains("invalid arguments for 'send_email'").contains("/email");
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
    }
}
