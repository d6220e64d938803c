package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.FakeLlmServer;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.SourceDocument;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A run whose answers a model writes (answer.model on the fake provider): each answer is streamed, so the run has
 * its time to first token, and the run records the tokens and cost of its model calls, and which were served from
 * the response cache.
 */
class ModelAnswersEvalTest {
    private static final String TENANT = "acme";
    private static final String QUESTION = "How many days of paid leave do employees get?";
    private static final String HANDBOOK = """
            # Employee handbook

            ## Paid leave

            Employees get 28 days of paid leave per year. Unused leave of up to 5 days carries over to the next year.

            ## Expenses

            Expense reports are due within 30 days of purchase. Receipts over 25 EUR must be attached to the report.
            """;
    static FakeLlmServer llm;
    static Keel keel;
    static EvalRun run;

    @BeforeAll
    static void runTwoIdenticalQuestionsThroughTheModel() throws Exception {
        llm = new FakeLlmServer();
        llm.then(FakeLlmServer.streamFrom(r -> "Employees get 28 days of paid leave per year [1]."));
        String yaml = """
                providers:
                  llm: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer:
                    targets: [{provider: llm, model: upstream-writer, input_per_mtok: 1.0, output_per_mtok: 2.0}]
                answer:
                  model: writer
                """.formatted(llm.baseUrl());
        Path dir = Files.createTempDirectory("keel-eval-model-");
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), dir);
        keel.ingestor().ingest(TENANT, new SourceDocument("handbook", "api:handbook", "handbook.md", DocumentFormat.MARKDOWN,
                HANDBOOK.getBytes(StandardCharsets.UTF_8), 0, Map.of(), null), keel.traces().start("ingest", TENANT));
        keel.index().commit();
        Path dataset = dir.resolve("leave.jsonl");
        Files.writeString(dataset, """
                {"_meta": {"test_share": 0}}
                {"id": "first", "question": "%s", "reference_answer": "Employees get 28 days of paid leave per year.", "relevant": ["handbook.md#Paid leave"]}
                {"id": "again", "question": "%s", "reference_answer": "Employees get 28 days of paid leave per year.", "relevant": ["handbook.md#Paid leave"]}
                """.formatted(QUESTION, QUESTION));
        run = new EvalRunner(keel, new HeuristicJudge(keel.answers(), keel.embedder()))
                .run(EvalDataset.load(dataset), new EvalRunner.Options(EvalRunner.Mode.FULL, EvalExample.Split.DEV, TENANT, 10, 1), EvalRunner.Progress.NONE);
    }

    @AfterAll
    static void stop() {
        keel.close();
        llm.close();
    }

    private static Map<String, Double> metrics(String id) {
        return run.examples().stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow().metrics();
    }

    @Test
    void aModelsAnswerRecordsItsTokensCostAndTimeToFirstToken() {
        Map<String, Double> first = metrics("first");
        assertThat(first.get("tokens")).isPositive();
        assertThat(first.get("cost_usd")).isPositive();
        assertThat(first.get("ttft_ms")).isNotNull().isPositive().isLessThanOrEqualTo(first.get("latency_ms"));
        assertThat(first.get("cache_hit")).isZero();
        assertThat(first.get("correctness_f1")).isEqualTo(1.0);
        assertThat(run.settings().answerModel()).isEqualTo("writer");
        assertThat(llm.received).hasSize(1);
        assertThat(llm.received.get(0).body().path("stream").asBoolean()).as("answers are streamed to time the first token").isTrue();
    }

    @Test
    void anAnswerServedFromTheResponseCacheIsAHitThatCostsNothing() {
        Map<String, Double> again = metrics("again");
        assertThat(again.get("cache_hit")).isEqualTo(1.0);
        assertThat(again.get("cost_usd")).isZero();
        assertThat(again.get("tokens")).isZero();
        assertThat(run.overall().get("cache_hit").mean()).isEqualTo(0.5);
        assertThat(run.overall().get("ttft_ms").p50()).isNotNull();
    }

    @Test
    void aModelStreamThatBreaksIsThatExamplesErrorAndTheRunGoesOn() throws Exception {
        llm.reset();
        llm.then(FakeLlmServer.streamFrom(r -> "Employees get 28 days [1]."), FakeLlmServer.raw("not an event stream"),
                FakeLlmServer.streamFrom(r -> "Employees get 28 days of paid leave per year [1]."));
        Path dataset = Files.createTempFile("keel-eval-broken-", ".jsonl");
        // Each question reaches the model: their numbers differ, so none is a semantic cache hit of another.
        Files.writeString(dataset, """
                {"_meta": {"test_share": 0}}
                {"id": "one", "question": "How many days of paid leave do employees get in their 1st year?"}
                {"id": "two", "question": "How many paid leave days do employees get in their 2nd year?"}
                {"id": "three", "question": "In their 3rd year, how many days of paid leave do employees get?"}
                """);
        EvalRun broken = new EvalRunner(keel, new HeuristicJudge(keel.answers(), keel.embedder())).run(EvalDataset.load(dataset),
                new EvalRunner.Options(EvalRunner.Mode.FULL, EvalExample.Split.DEV, TENANT, 10, 1), EvalRunner.Progress.NONE);
        assertThat(broken.examples()).hasSize(3);
        assertThat(broken.examples()).filteredOn(e -> e.refused() != null && e.refused().startsWith("error: provider_")).hasSize(1);
        assertThat(broken.examples()).filteredOn(e -> Boolean.TRUE.equals(e.answered())).hasSize(2);
    }
}
