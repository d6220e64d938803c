package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.gateway.FakeLlmServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code keel agent run|list}: events as they happen, the outcome, exit codes, and errors that name what is wrong. */
class AgentCommandTest {
    static FakeLlmServer llm;
    static Path config, data;

    @BeforeAll
    static void setUp() throws Exception {
        llm = new FakeLlmServer();
        config = Files.createTempFile("keel-agent-", ".yaml");
        Files.writeString(config, """
                providers:
                  fake: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  agent-model: {targets: [{provider: fake, model: up-agent, input_per_mtok: 0, output_per_mtok: 28}]}
                agents:
                  definitions:
                    greeter:
                      description: Says hello.
                      model: agent-model
                """.formatted(llm.baseUrl()));
        data = Files.createTempDirectory("keel-agent-cli-");
    }

    @AfterAll
    static void tearDown() {
        llm.close();
    }

    @Test
    void runPrintsTheEventsThenTheOutcome() {
        llm.reset();
        llm.then(FakeLlmServer.ok("Hello, Ada."));
        CliTest.Run r = CliTest.run("agent", "run", "greeter", "greet Ada", "--config", config.toString(), "--data", data.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsSubsequence("plan: greeter on agent-model", "model call 1: 14 tokens, $0.000140", "final answer: 11 characters",
                "status: completed", "Hello, Ada.", "1 model call, 14 tokens, $0.000140");
    }

    @Test
    void theFinalAnswerIsPrintedOnceAndCostsNeverInExponentForm() {
        llm.reset();
        llm.then(FakeLlmServer.ok("Hello, Grace."));
        CliTest.Run r = CliTest.run("agent", "run", "greeter", "greet Grace", "--config", config.toString(), "--data", data.toString());
        assertThat(r.out().split("Hello, Grace\\.", -1)).hasSize(2);
        assertThat(r.out()).doesNotContainPattern("[0-9]E-[0-9]").doesNotContain("1 model calls");
    }

    @Test
    void controlCharactersFromTheModelOrToolsNeverReachTheTerminal() {
        llm.reset();
        llm.then(FakeLlmServer.toolCall("evil\\u001b[2J\\u0007", "{}"), FakeLlmServer.ok("Hi \u001b]0;owned\u0007 there\r\nnext\u009b31m line\ttab"));
        CliTest.Run r = CliTest.run("agent", "run", "greeter", "greet", "--config", config.toString(), "--data", data.toString());
        assertThat(r.out()).doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\r").doesNotContain("\u009b")
                .contains("evil[2J").contains("Hi ]0;owned there\nnext31m line\ttab");
    }

    @Test
    void runWithJsonPrintsTheRun() {
        llm.reset();
        llm.then(FakeLlmServer.ok("Hi."));
        CliTest.Run r = CliTest.run("agent", "run", "greeter", "greet", "--json", "--config", config.toString(), "--data", data.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("{\"id\":\"run_").contains("\"status\":\"completed\"").contains("\"output\":\"Hi.\"");
    }

    @Test
    void anUnknownAgentIsNamedAndExitsNonZero() {
        CliTest.Run r = CliTest.run("agent", "run", "nobody", "x", "--config", config.toString(), "--data", data.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("no agent named 'nobody'").doesNotContain("Exception");
    }

    @Test
    void benchAgentPrintsTheLoopOverheadPerStep() {
        CliTest.Run r = CliTest.run("bench", "agent", "--runs", "1", "--steps", "3", "--latency-ms", "0");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("1 runs x 3 steps").containsPattern("loop overhead per step: p50 [0-9.]+ ms, p95 [0-9.]+ ms");
    }

    @Test
    void listShowsTheAgents() {
        CliTest.Run r = CliTest.run("agent", "list", "--config", config.toString(), "--data", data.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("greeter - Says hello.");
    }
}
