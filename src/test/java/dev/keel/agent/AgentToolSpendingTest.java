package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.FakeLlmServer;
import dev.keel.ingest.IngestListener;
import dev.keel.store.ApiKey;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What a run's tools spend on models ({@code answer_from_docs}) is the run's: capped by its limits and counted in its cost. */
class AgentToolSpendingTest {
    private static final double MAX_COST_USD = 0.022;
    private static FakeLlmServer llm;
    private static Keel keel;

    @BeforeAll
    static void open() throws Exception {
        llm = new FakeLlmServer();
        keel = Keel.open(KeelConfig.parse("""
                providers:
                  llm: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  free-agent:
                    targets: [{provider: llm, model: upstream-agent, input_per_mtok: 0, output_per_mtok: 0}]
                  writer:
                    targets: [{provider: llm, model: upstream-writer, input_per_mtok: 10.0, output_per_mtok: 20.0}]
                answer:
                  model: writer
                cache: {exact: {enabled: false}, semantic: {enabled: false}}
                agents:
                  definitions:
                    researcher:
                      model: free-agent
                      tools: [answer_from_docs]
                      limits: {max_cost_usd: %s}
                """.formatted(llm.baseUrl(), MAX_COST_USD), k -> null), Files.createTempDirectory("keel-agent-spending-"));
        keel.ingestor().ingestPaths("acme", List.of(SampleCorpus.DOCS.resolve("refunds.md")), false, keel.traces().start("ingest", "acme"),
                IngestListener.NONE);
        keel.index().commit();
    }

    @AfterAll
    static void close() {
        keel.close();
        llm.close();
    }

    @Test
    void answerFromDocsCallsSpendTheRunsBudgetAndStopAtItsLimit() {
        AtomicInteger answers = new AtomicInteger();
        ApiKey key = keel.keys().create("researcher", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of()).key();
        llm.then(TestTools.toolCalls("answer_from_docs", AgentLoop.MAX_TOOL_CALLS_PER_REPLY,
                i -> "{\"question\":\"How long do I have to request a refund on an annual plan? (" + i + ")\"}"),
                FakeLlmServer.okFrom(req -> "Annual plans can be refunded in full within 30 days of purchase [1]. (" + answers.incrementAndGet() + ")"));
        RunView run = keel.agents().start("researcher", "research refunds", new ChatGateway.Caller("acme", key), e -> {});

        assertThat(run.status()).isEqualTo(RunStatus.LIMIT_REACHED);
        assertThat(run.reason()).startsWith("max_cost_usd:").contains("'answer_from_docs' needed a model call that could cost up to $");
        keel.ledger().flush();
        double billed = keel.ledger().spentSince(key.id(), 0);
        assertThat(billed).isPositive().isLessThanOrEqualTo(MAX_COST_USD + 1e-9);
        assertThat(run.costUsd()).as("the run's cost is what its tools' model calls were billed").isEqualTo(billed, Offset.offset(1e-9));
        double toolCosts = run.events().stream().filter(e -> e.type() == RunEvent.Type.TOOL_RESULT).mapToDouble(RunEvent::costUsd).sum();
        assertThat(toolCosts).isEqualTo(billed, Offset.offset(1e-9));
        assertThat(run.tokens()).isPositive();
        long answerCalls = llm.received.stream().filter(r -> r.body().path("model").asText().equals("upstream-writer")).count();
        assertThat(answerCalls).as("the answer model is not called past the run's budget").isLessThan(AgentLoop.MAX_TOOL_CALLS_PER_REPLY);
    }
}
