package dev.keel.agent;

import static dev.keel.agent.TestTools.CUSTOMER;
import static dev.keel.agent.TestTools.EMAIL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.Keel;
import dev.keel.config.AgentConfig.SideEffect;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.FakeLlmServer;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Trajectory invariants of the agent loop, with a scripted fake model and real tools that count what they do. */
class AgentLoopTest {
    static FakeLlmServer llm;
    static Keel keel;
    static final TestTools.Counting VERIFY = TestTools.read("verify_identity", CUSTOMER, a -> TestTools.ok("{\"verified\":true}"));
    static final TestTools.Counting UPDATE = new TestTools.Counting("update_email", EMAIL, SideEffect.WRITE, false, Duration.ofSeconds(5), Set.of(),
            a -> TestTools.ok("{\"updated\":true}"));
    static final TestTools.Counting LOOKUP = TestTools.read("lookup", "{\"type\":\"object\"}", a -> ToolOutcome.success(a));
    static final TestTools.Counting SAME = TestTools.read("same", "{\"type\":\"object\"}", a -> TestTools.ok("{\"status\":\"pending\"}"));
    static final TestTools.Counting FLAKY = TestTools.read("flaky", "{\"type\":\"object\"}", a -> new ToolOutcome.Failure("upstream returned 503", true));
    static final TestTools.Counting EMPTY = TestTools.read("empty", "{\"type\":\"object\"}", a -> TestTools.ok("[]"));
    static final TestTools.Counting GREET = TestTools.read("greet", "{\"type\":\"object\"}", a -> ToolOutcome.success(TestTools.text("hello")));
    static final TestTools.Counting DANGER = TestTools.read("delete_everything", "{\"type\":\"object\"}", a -> TestTools.ok("{}"));
    static final TestTools.Counting ADMIN = new TestTools.Counting("admin_report", "{\"type\":\"object\"}", SideEffect.READ, true, Duration.ofSeconds(5),
            Set.of("admin"), a -> TestTools.ok("{}"));
    /** How many more calls of PAY or PAY_SAFE time out (outcome unknown) before one succeeds. */
    static final AtomicInteger UNKNOWN_OUTCOMES = new AtomicInteger();
    static final TestTools.Counting PAY = new TestTools.Counting("pay", "{\"type\":\"object\"}", SideEffect.WRITE, false, Duration.ofSeconds(5), Set.of(),
            a -> UNKNOWN_OUTCOMES.getAndDecrement() > 0 ? new ToolOutcome.Failure("timed out after 20 ms", true) : TestTools.ok("{\"paid\":true}"));
    static final TestTools.Counting PAY_SAFE = new TestTools.Counting("pay_safe", "{\"type\":\"object\"}", SideEffect.WRITE, true, Duration.ofSeconds(5),
            Set.of(), a -> UNKNOWN_OUTCOMES.getAndDecrement() > 0 ? new ToolOutcome.Failure("timed out after 20 ms", true) : TestTools.ok("{\"paid\":true}"));
    static final TestTools.Counting BIG = TestTools.read("big", "{\"type\":\"object\"}", a -> ToolOutcome.success(TestTools.text("x".repeat(100_000))));
    static final TestTools.Counting HANG = TestTools.read("hang", "{\"type\":\"object\"}", a -> {
        try {
            Thread.sleep(Duration.ofSeconds(30)); // stands for an upstream that takes all the run has left: the loop must interrupt it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return TestTools.ok("{}");
    });
    static final TestTools.Counting SLOW = new TestTools.Counting("slow", "{\"type\":\"object\"}", SideEffect.READ, true, Duration.ofMillis(200), Set.of(), a -> {
        try {
            Thread.sleep(Duration.ofSeconds(30)); // stands for a hung upstream: the loop must interrupt it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return TestTools.ok("{}");
    });

    /** What Agents logged while Keel opened. */
    static final ListAppender<ILoggingEvent> STARTUP_LOG = new ListAppender<>();

    @BeforeAll
    static void open() throws Exception {
        STARTUP_LOG.start();
        ((Logger) LoggerFactory.getLogger(Agents.class)).addAppender(STARTUP_LOG);
        llm = new FakeLlmServer();
        String yaml = """
                providers:
                  fake: {type: openai, base_url: "%1$s", max_retries: 0}
                  claude: {type: anthropic, base_url: "%1$s", api_key: not-a-real-key, max_retries: 0}
                models:
                  claude-model: {targets: [{provider: claude, model: claude-up, input_per_mtok: 0, output_per_mtok: 1}]}
                  agent-model: {targets: [{provider: fake, model: up-agent, input_per_mtok: 0, output_per_mtok: 1}]}
                  pricey: {targets: [{provider: fake, model: up-pricey, input_per_mtok: 0, output_per_mtok: 1000}]}
                agents:
                  definitions:
                    support:
                      description: Updates a customer's email once their identity is verified.
                      model: agent-model
                      tools: [verify_identity, update_email, lookup, same, flaky, empty, slow, admin_report, greet]
                      requires: {update_email: [verify_identity]}
                      escalate_after_failures: 2
                      escalate_on: ['\\blawyer\\b']
                    claude_support:
                      model: claude-model
                      tools: [verify_identity]
                    three_steps:
                      model: agent-model
                      tools: [lookup]
                      limits: {max_steps: 3}
                    costly:
                      model: pricey
                      tools: [lookup]
                      limits: {max_cost_usd: 2.06}
                    confirm_admin:
                      model: agent-model
                      tools: [admin_report]
                      confirm: [admin_report]
                    payer:
                      model: agent-model
                      tools: [pay, pay_safe]
                      confirm: []
                    bulky:
                      model: agent-model
                      tools: [big, lookup]
                    hasty:
                      model: agent-model
                      tools: [lookup, hang]
                      limits: {max_seconds: 1}
                """.formatted(llm.baseUrl());
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-agents-"), List.of(VERIFY, UPDATE, LOOKUP, SAME, FLAKY, EMPTY, DANGER, ADMIN, SLOW, GREET, PAY, PAY_SAFE, BIG, HANG));
    }

    @AfterAll
    static void close() {
        ((Logger) LoggerFactory.getLogger(Agents.class)).detachAppender(STARTUP_LOG);
        keel.close();
        llm.close();
    }

    @BeforeEach
    void reset() {
        llm.reset();
        List.of(VERIFY, UPDATE, LOOKUP, SAME, FLAKY, EMPTY, DANGER, ADMIN, SLOW, PAY, PAY_SAFE, BIG, HANG).forEach(TestTools.Counting::reset);
        UNKNOWN_OUTCOMES.set(0);
    }

    static ChatGateway.Caller local(String tenant) {
        return new ChatGateway.Caller(tenant, null);
    }

    static RunView run(String agent, String task) {
        return keel.agents().start(agent, task, local("acme"), e -> {});
    }

    /** The model asks for {@code tool} with arguments that differ on every step (the conversation grows), so no call repeats. */
    static FakeLlmServer.Behavior freshCall(String tool) {
        return (ex, req) -> FakeLlmServer.toolCall(tool, "{\"q\":\"" + req.path("messages").size() + "\"}").respond(ex, req);
    }

    static List<String> toolContents(RunView run) {
        return run.events().stream().filter(e -> e.type() == RunEvent.Type.TOOL_RESULT).map(e -> e.payload().path("content").asText()).toList();
    }

    @Test
    void completesWithTheFinalReplyAfterItsToolCalls() {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"42\"}"), FakeLlmServer.ok("Customer 42 is verified."));
        RunView run = run("support", "Is customer 42 verified?");
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(run.output()).isEqualTo("Customer 42 is verified.");
        assertThat(run.steps()).isEqualTo(2);
        assertThat(VERIFY.calls).hasValue(1);
        assertThat(run.events()).extracting(RunEvent::type).containsExactly(RunEvent.Type.PLAN, RunEvent.Type.MODEL_CALL, RunEvent.Type.TOOL_CALL,
                RunEvent.Type.TOOL_RESULT, RunEvent.Type.MODEL_CALL, RunEvent.Type.FINAL);
        JsonNode second = llm.received.get(1).body();
        JsonNode toolMessage = second.path("messages").get(3);
        assertThat(toolMessage.path("role").asText()).isEqualTo("tool");
        assertThat(toolMessage.path("content").asText()).isEqualTo("{\"result\":{\"verified\":true}}");
        assertThat(second.path("messages").get(0).path("content").asText()).contains(Agents.DATA_RULE);
        assertThat(second.path("tool_choice").asText()).isEqualTo("auto");
    }

    @Test
    void aWriteThatTimedOutIsNotRunAgainUnderANewKeyButHandedToAPerson() {
        UNKNOWN_OUTCOMES.set(1);
        llm.then(FakeLlmServer.toolCall("pay", "{\"amount\":5}"), FakeLlmServer.toolCall("pay", "{\"amount\":5}"), FakeLlmServer.ok("Paid."));
        RunView run = run("payer", "pay 5");
        assertThat(run.status()).isEqualTo(RunStatus.NEEDS_HUMAN);
        assertThat(run.reason()).contains("'pay'").contains("timed out").contains("the write may or may not have happened");
        assertThat(PAY.calls).hasValue(1);
        assertThat(llm.received).as("the model is not asked again after an unknown write").hasSize(1);
    }

    @Test
    void anIdempotentWriteThatTimedOutIsRetriedOnceWithTheSameKey() {
        UNKNOWN_OUTCOMES.set(1);
        llm.then(FakeLlmServer.toolCall("pay_safe", "{\"amount\":5}"), FakeLlmServer.ok("Paid."));
        RunView run = run("payer", "pay 5");
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(PAY_SAFE.calls).hasValue(2);
        assertThat(PAY_SAFE.byKey).hasSize(1);
        assertThat(toolContents(run)).containsExactly("{\"result\":{\"paid\":true}}");
    }

    @Test
    void anIdempotentWriteThatTimesOutTwiceIsHandedToAPerson() {
        UNKNOWN_OUTCOMES.set(2);
        llm.then(FakeLlmServer.toolCall("pay_safe", "{\"amount\":5}"), FakeLlmServer.toolCall("pay_safe", "{\"amount\":5}"), FakeLlmServer.ok("Paid."));
        RunView run = run("payer", "pay 5");
        assertThat(run.status()).isEqualTo(RunStatus.NEEDS_HUMAN);
        assertThat(run.reason()).contains("the write may or may not have happened");
        assertThat(PAY_SAFE.calls).hasValue(2);
        assertThat(PAY_SAFE.byKey).hasSize(1);
    }

    @Test
    void aReplyRunsAtMostSixteenToolCallsAndAnswersTheRestNotRun() {
        llm.then(TestTools.toolCalls("lookup", 40, i -> "{\"i\":" + i + "}"), FakeLlmServer.ok("done"));
        RunView run = run("bulky", "look up everything");
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(LOOKUP.calls).hasValue(AgentLoop.MAX_TOOL_CALLS_PER_REPLY);
        List<JsonNode> toolMessages = new ArrayList<>();
        llm.received.get(1).body().path("messages").forEach(m -> {
            if (m.path("role").asText().equals("tool")) toolMessages.add(m);
        });
        assertThat(toolMessages).as("every call of the reply is answered, so the conversation stays valid").hasSize(40);
        assertThat(toolMessages.get(15).path("content").asText()).contains("\"i\":15");
        assertThat(toolMessages.subList(16, 40)).allSatisfy(m -> assertThat(m.path("content").asText())
                .isEqualTo("{\"error\":\"not run: at most 16 tool calls per reply\"}"));
    }

    @Test
    void noToolStartsOnceMaxSecondsIsSpent() {
        llm.then(TestTools.toolCalls("hang", 3, i -> "{\"i\":" + i + "}"));
        RunView run = run("hasty", "wait on three things");
        assertThat(run.status()).isEqualTo(RunStatus.LIMIT_REACHED);
        assertThat(run.reason()).startsWith("max_seconds:");
        assertThat(HANG.calls).as("the first call took what was left of the run; the others never started").hasValue(1);
    }

    @Test
    void aHugeToolResultIsCutBeforeItIsLoggedOrSentToTheModel() {
        llm.then(FakeLlmServer.toolCall("big", "{}"), FakeLlmServer.ok("done"));
        RunView run = run("bulky", "fetch the big thing");
        String logged = toolContents(run).getFirst();
        assertThat(logged.length()).isLessThan(ToolOutcome.MAX_RESULT_CHARS + 200);
        assertThat(logged).contains("[cut: " + (100_000 - ToolOutcome.MAX_RESULT_CHARS) + " more characters]");
        assertThat(llm.received.get(1).body().toString().length()).isLessThan(ToolOutcome.MAX_RESULT_CHARS + 10_000);
    }

    @Test
    void eachWriteToolThatRunsWithoutConfirmationIsWarnedAboutOnceAtStartup() {
        assertThat(STARTUP_LOG.list).filteredOn(e -> e.getLevel() == Level.WARN).extracting(ILoggingEvent::getFormattedMessage)
                .filteredOn(m -> m.startsWith("agent payer:")).containsExactly(
                "agent payer: write tool pay runs without confirmation (confirm lists nothing)",
                "agent payer: write tool pay_safe runs without confirmation (confirm lists nothing)");
    }

    @Test
    void anthropicToolUseRunsThroughTheProvidersMapping() {
        llm.then(FakeLlmServer.anthropic(null, "verify_identity", "{\"customer_id\":\"42\"}", "tool_use"),
                FakeLlmServer.anthropic("Customer 42 is verified.", null, null, "end_turn"));
        RunView run = run("claude_support", "Is customer 42 verified?");
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(run.output()).isEqualTo("Customer 42 is verified.");
        assertThat(VERIFY.calls).hasValue(1);
        assertThat(llm.received.get(0).path()).endsWith("/messages");
        assertThat(llm.received.get(0).body().path("tools").get(0).path("name").asText()).isEqualTo("verify_identity");
        assertThat(llm.received.get(1).body().path("messages").toString()).contains("tool_result").contains("toolu_1").contains("verified");
    }

    @Test
    void offersOnlyTheAgentsToolsThatTheCallerMayUse() throws Exception {
        llm.then(FakeLlmServer.ok("done"));
        run("support", "hello");
        List<String> offered = new ArrayList<>();
        llm.received.get(0).body().path("tools").forEach(t -> offered.add(t.path("function").path("name").asText()));
        assertThat(offered).containsExactly("verify_identity", "update_email", "lookup", "same", "flaky", "empty", "slow", "admin_report", "greet");

        llm.reset();
        llm.then(FakeLlmServer.toolCall("admin_report", "{}"), FakeLlmServer.ok("done"));
        ApiKey key = keel.keys().create("agent-user", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of("support")).key();
        RunView run = keel.agents().start("support", "report", new ChatGateway.Caller("acme", key), e -> {});
        List<String> offeredToKey = new ArrayList<>();
        llm.received.get(0).body().path("tools").forEach(t -> offeredToKey.add(t.path("function").path("name").asText()));
        assertThat(offeredToKey).doesNotContain("admin_report");
        assertThat(ADMIN.calls).hasValue(0);
        assertThat(toolContents(run).get(0)).contains("there is no tool named 'admin_report'");
    }

    @Test
    void neverRunsAToolTheAgentWasNotGiven() {
        llm.then(FakeLlmServer.toolCall("delete_everything", "{}"), FakeLlmServer.ok("I could not."));
        RunView run = run("support", "wipe it all");
        assertThat(DANGER.calls).hasValue(0);
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(toolContents(run).get(0)).contains("there is no tool named 'delete_everything'").contains("verify_identity");
    }

    @Test
    void refusesUpdateEmailUntilVerifyIdentityHasSucceeded() {
        llm.then(FakeLlmServer.toolCall("update_email", "{\"customer_id\":\"42\",\"email\":\"a@b.example\"}"), FakeLlmServer.ok("I need to verify first."));
        RunView run = run("support", "change the email of 42 to a@b.example");
        assertThat(UPDATE.calls).hasValue(0);
        assertThat(toolContents(run).get(0)).contains("call verify_identity first");
    }

    @Test
    void invalidArgumentsGoBackToTheModelOnceThenTheRunFails() {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"id\":42}"));
        RunView run = run("support", "verify 42");
        assertThat(VERIFY.calls).hasValue(0);
        assertThat(llm.received).hasSize(2);
        assertThat(llm.received.get(1).body().path("messages").toString()).contains("customer_id");
        assertThat(run.status()).isEqualTo(RunStatus.FAILED);
        assertThat(run.reason()).startsWith("the model sent invalid tool arguments twice").contains("required property 'customer_id' not found");
    }

    @Test
    void garbageArgumentsGoBackToTheModelAndACorrectedCallRuns() {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{not json"), FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"42\"}"),
                FakeLlmServer.ok("verified"));
        RunView run = run("support", "verify 42");
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(VERIFY.calls).hasValue(1);
    }

    @Test
    void emptyResultsSaySo() {
        llm.then(FakeLlmServer.toolCall("empty", "{}"), FakeLlmServer.ok("nothing found"));
        assertThat(toolContents(run("support", "find it")).get(0)).isEqualTo("{\"result\":[],\"note\":\"no results\"}");
    }

    @Test
    void aTextResultIsDataWithoutANote() {
        llm.then(FakeLlmServer.toolCall("greet", "{}"), FakeLlmServer.ok("it said hello"));
        assertThat(toolContents(run("support", "greet")).get(0)).isEqualTo("{\"result\":\"hello\"}");
    }

    @Test
    void aToolThatOverrunsItsTimeoutIsInterruptedAndReportedAsTimedOut() {
        llm.then(FakeLlmServer.toolCall("slow", "{}"), FakeLlmServer.ok("it timed out"));
        RunView run = run("support", "be slow");
        assertThat(toolContents(run).get(0)).isEqualTo("{\"error\":\"timed out after 200 ms\"}");
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
    }

    @Test
    void maxStepsIsEnforcedExactly() {
        llm.then(freshCall("lookup"));
        RunView run = run("three_steps", "look forever");
        assertThat(llm.received).hasSize(3);
        assertThat(run.status()).isEqualTo(RunStatus.LIMIT_REACHED);
        assertThat(run.reason()).startsWith("max_steps:").contains("3 model calls");
        assertThat(LOOKUP.calls).hasValue(3);
    }

    @Test
    void aModelCallStillRunningAtMaxSecondsIsCutOffThere() {
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        llm.then(FakeLlmServer.stall(never, 60));
        long started = System.nanoTime();
        RunView run = run("hasty", "think for a minute");
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        never.countDown();
        assertThat(run.status()).isEqualTo(RunStatus.LIMIT_REACHED);
        assertThat(run.reason()).startsWith("max_seconds:").contains("cut off");
        assertThat(tookMs).isLessThan(30_000); // the upstream stalls 60 s: the run ended at its own limit, not the upstream's
    }

    @Test
    void aCostCapAdmitsExactlyTheCallsThatFit() {
        // Each call can cost up to 2,048 output tokens at $0.001 = $2.048 and costs 5 tokens = $0.005: with $2.06, calls 1-3 fit
        // ($2.06 - 2 x $0.005 = $2.05 >= $2.048) and the fourth ($2.045 left) is refused before it runs.
        llm.then(freshCall("lookup"));
        RunView run = run("costly", "look forever");
        assertThat(llm.received).hasSize(3);
        assertThat(run.status()).isEqualTo(RunStatus.LIMIT_REACHED);
        assertThat(run.reason()).startsWith("max_cost_usd:").contains("could cost up to $2.048, more than the $2.045 left");
        assertThat(run.costUsd()).isEqualTo(0.015, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(llm.received.get(0).body().path("max_tokens").asInt()).isEqualTo(AgentLoop.MAX_OUTPUT_TOKENS_PER_STEP);
    }

    @Test
    void theSameCallThreeTimesInARowGetsOneHintThenStopsTheRun() {
        llm.then(FakeLlmServer.toolCall("lookup", "{\"q\":\"x\",\"n\":1}"), FakeLlmServer.toolCall("lookup", "{\"n\":1,\"q\":\"x\"}"));
        RunView run = run("support", "loop");
        assertThat(LOOKUP.calls).hasValue(2);
        assertThat(toolContents(run).get(2)).contains("not run: you already called 'lookup' with these same arguments twice");
        assertThat(run.status()).isEqualTo(RunStatus.LOOP_DETECTED);
        assertThat(run.steps()).isEqualTo(4);
    }

    @Test
    void threeIdenticalResultsInARowGetOneHintThenStopTheRun() {
        llm.then(freshCall("same"));
        RunView run = run("support", "poll until done");
        assertThat(toolContents(run).get(2)).contains("this is the same result as the last 2 tool calls");
        assertThat(run.status()).isEqualTo(RunStatus.LOOP_DETECTED);
        assertThat(SAME.calls).hasValue(4);
    }

    @Test
    void repeatedToolFailuresHandTheRunToAPerson() {
        llm.then(freshCall("flaky"));
        RunView run = run("support", "try the flaky thing");
        assertThat(FLAKY.calls).hasValue(2);
        assertThat(run.status()).isEqualTo(RunStatus.NEEDS_HUMAN);
        assertThat(run.reason()).contains("2 tool calls failed");
        RunEvent escalation = run.events().getLast();
        assertThat(escalation.payload().path("summary").asText()).contains("task: try the flaky thing").contains("called flaky, flaky");
        assertThat(toolContents(run).get(0)).isEqualTo("{\"error\":\"upstream returned 503\"}");
    }

    @Test
    void aTaskMatchingTheEscalationPolicyGoesToAPersonWithoutAModelCall() {
        RunView run = run("support", "my lawyer says you owe me");
        assertThat(run.status()).isEqualTo(RunStatus.NEEDS_HUMAN);
        assertThat(run.reason()).isEqualTo("the task matched the escalation policy (escalate_on '\\blawyer\\b')");
        assertThat(llm.received).isEmpty();
    }

    @Test
    void aModelReplyMatchingTheEscalationPolicyGoesToAPerson() {
        llm.then(FakeLlmServer.ok("You should talk to a lawyer."));
        RunView run = run("support", "help");
        assertThat(run.status()).isEqualTo(RunStatus.NEEDS_HUMAN);
        assertThat(run.reason()).isEqualTo("the model's reply matched the escalation policy (escalate_on '\\blawyer\\b')");
    }

    @Test
    void aRefusedModelCallTheGatewayBilledCountsInTheRunsStepsTokensAndCost() {
        // The gateway sends the invalid arguments back once and refuses the second reply: two billed calls of 14 tokens, 5 output each.
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"id\":42}"));
        RunView run = run("support", "verify 42");
        assertThat(run.status()).isEqualTo(RunStatus.FAILED);
        assertThat(run.steps()).isEqualTo(1);
        assertThat(run.tokens()).isEqualTo(28);
        assertThat(run.costUsd()).isEqualTo(0.00001, org.assertj.core.data.Offset.offset(1e-12));
        RunEvent error = run.events().getLast();
        assertThat(error.tokens()).isEqualTo(28);
        assertThat(error.payload().path("billed").asBoolean()).isTrue();
    }

    @Test
    void aKeyWithoutTheWaitingToolsScopesCannotDecideIt() {
        llm.then(FakeLlmServer.toolCall("admin_report", "{}"), FakeLlmServer.ok("done"));
        ApiKey admin = keel.keys().create("agent-admin", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of("admin")).key();
        ApiKey reader = keel.keys().create("agent-reader", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of()).key();
        RunView waiting = keel.agents().start("confirm_admin", "report", new ChatGateway.Caller("acme", admin), e -> {});
        assertThat(waiting.status()).isEqualTo(RunStatus.AWAITING_CONFIRMATION);

        assertThatThrownBy(() -> keel.agents().decide(waiting.id(), true, new ChatGateway.Caller("acme", reader), e -> {}))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(403);
                    assertThat(e.getMessage()).contains("'admin_report'").contains("[admin]");
                });
        assertThat(ADMIN.calls).hasValue(0);
        assertThat(keel.agents().get(waiting.id(), local("acme")).orElseThrow().status()).isEqualTo(RunStatus.AWAITING_CONFIRMATION);

        RunView done = keel.agents().decide(waiting.id(), true, new ChatGateway.Caller("acme", admin), e -> {});
        assertThat(done.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(ADMIN.calls).hasValue(1);
    }

    @Test
    void unknownAgentsAndBadTasksAreRefusedClearly() {
        assertThatThrownBy(() -> run("nobody", "x")).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.getMessage()).contains("no agent named 'nobody'");
        });
        assertThatThrownBy(() -> run("support", " ")).isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400));
        assertThatThrownBy(() -> run("support", "x".repeat(Agents.MAX_TASK_CHARS + 1))).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.status()).isEqualTo(400));
    }

    @Test
    void theStatusRecordedWithEachEventIsTheStatusReplayingTheLogUpToItGives() {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"42\"}"), FakeLlmServer.toolCall("flaky", "{}"),
                FakeLlmServer.toolCall("flaky", "{\"again\":true}"));
        RunStore store = new RunStore(keel.database());
        List<RunStatus> recorded = new ArrayList<>();
        List<RunStatus> replayed = new ArrayList<>();
        List<RunEvent> seen = new ArrayList<>();
        RunView run = keel.agents().start("support", "do it", local("acme"), e -> {
            seen.add(e);
            recorded.add(store.run(AgentLoopTestSupport.latestRunId(keel)).orElseThrow().status());
            replayed.add(RunState.replay(seen).status);
        });
        assertThat(run.events()).isEqualTo(seen);
        assertThat(recorded).isEqualTo(replayed).contains(RunStatus.RUNNING, RunStatus.NEEDS_HUMAN);
        RunState full = RunState.replay(store.events(run.id()));
        assertThat(full.status).isEqualTo(run.status());
        assertThat(full.steps).isEqualTo(run.steps());
        assertThat(full.messages.size()).isEqualTo(2 + 3 + 3);
        assertThat(store.run(run.id()).orElseThrow().status()).isEqualTo(full.status);
    }

    @Test
    void anotherTenantCannotSeeARun() {
        llm.then(FakeLlmServer.ok("done"));
        RunView run = run("support", "hello");
        assertThat(keel.agents().get(run.id(), local("acme"))).isPresent();
        assertThat(keel.agents().get(run.id(), local("other"))).isEmpty();
    }

    @Test
    void traceHasASpanPerModelCallAndToolCallWithoutArgumentValues() {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"secret-42\"}"), FakeLlmServer.ok("ok"));
        RunView run = run("support", "verify");
        String trace = new String(keel.traces().findJson(run.traceId(), "acme").orElseThrow());
        assertThat(trace).contains("agent.model_call").contains("agent.tool").contains("verify_identity").doesNotContain("secret-42");
        assertThat(keel.traces().scrape()).contains("keel_agent_tool_calls_total{outcome=\"ok\",tool=\"verify_identity\"}");
    }

    @Test
    void aWriteWaitsForConfirmationWithItsSummaryAndRunsOnceConfirmed() {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"42\"}"),
                FakeLlmServer.toolCall("update_email", "{\"customer_id\":\"42\",\"email\":\"a@b.example\"}"), FakeLlmServer.ok("Updated."));
        RunView waiting = run("support", "change the email of 42 to a@b.example");
        assertThat(waiting.status()).isEqualTo(RunStatus.AWAITING_CONFIRMATION);
        assertThat(waiting.pending()).isEqualTo(new RunView.Pending("update_email", "update_email for customer 42 to a@b.example"));
        assertThat(UPDATE.calls).hasValue(0);
        assertThat(keel.agents().get(waiting.id(), local("acme")).orElseThrow().status()).isEqualTo(RunStatus.AWAITING_CONFIRMATION);

        RunView done = keel.agents().decide(waiting.id(), true, local("acme"), e -> {});
        assertThat(done.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(done.output()).isEqualTo("Updated.");
        assertThat(UPDATE.calls).hasValue(1);
        assertThat(UPDATE.byKey).containsOnlyKeys(waiting.id() + "-2-0");
    }

    @Test
    void aRejectedWriteIsNotPerformedAndTheModelIsTold() {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"42\"}"),
                FakeLlmServer.toolCall("update_email", "{\"customer_id\":\"42\",\"email\":\"a@b.example\"}"), FakeLlmServer.ok("Not changed."));
        RunView waiting = run("support", "change the email of 42 to a@b.example");
        RunView done = keel.agents().decide(waiting.id(), false, local("acme"), e -> {});
        assertThat(UPDATE.calls).hasValue(0);
        assertThat(done.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(toolContents(done).getLast()).contains("declined this action");
    }

    @Test
    void ofTwoConcurrentConfirmsExactlyOneWins() throws Exception {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"42\"}"),
                FakeLlmServer.toolCall("update_email", "{\"customer_id\":\"42\",\"email\":\"a@b.example\"}"), FakeLlmServer.ok("Updated."));
        RunView waiting = run("support", "change the email of 42 to a@b.example");
        Callable<RunView> confirm = () -> keel.agents().decide(waiting.id(), true, local("acme"), e -> {});
        List<Object> outcomes = concurrently(List.of(confirm, confirm));
        assertThat(outcomes).filteredOn(o -> o instanceof RunView).hasSize(1);
        assertThat(outcomes).filteredOn(o -> o instanceof ApiException a && a.status() == 409).hasSize(1);
        assertThat(UPDATE.calls).hasValue(1);
    }

    @Test
    void anotherTenantCannotConfirmARun() {
        llm.then(FakeLlmServer.toolCall("verify_identity", "{\"customer_id\":\"42\"}"),
                FakeLlmServer.toolCall("update_email", "{\"customer_id\":\"42\",\"email\":\"a@b.example\"}"));
        RunView waiting = run("support", "change the email of 42 to a@b.example");
        assertThatThrownBy(() -> keel.agents().decide(waiting.id(), true, local("other"), e -> {}))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(404));
        assertThat(UPDATE.calls).hasValue(0);
    }

    @Test
    void aConfirmOfARunThatIsNotWaitingIsAConflict() {
        llm.then(FakeLlmServer.ok("done"));
        RunView done = run("support", "hello");
        assertThatThrownBy(() -> keel.agents().decide(done.id(), true, local("acme"), e -> {}))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409));
    }

    static <T> List<Object> concurrently(List<Callable<T>> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(work.size());
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> w : work) futures.add(pool.submit(w));
            List<Object> out = new ArrayList<>();
            for (Future<T> f : futures) {
                try {
                    out.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    out.add(e.getCause());
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
