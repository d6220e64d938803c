package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.eval.EvalRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keel eval run} as a user runs it: a table or the run JSON, the run file, and a one-line error with exit 2 for bad input. */
class EvalRunCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    static Path data, docs, dataset;

    @BeforeAll
    static void writeACorpusAndADataset() throws Exception {
        data = tmp.resolve("data");
        docs = tmp.resolve("docs");
        Files.createDirectories(docs);
        Files.writeString(docs.resolve("office.md"), "# Office guide\n\n## Parking\n\nVisitors park in the north garage on level 2. "
                + "Reception hands out a day pass for the barrier.\n\n## Wi-Fi\n\nThe guest network password changes every Monday. "
                + "Reception prints it on the visitor badge.\n");
        Files.writeString(docs.resolve("cafeteria.md"), "# Cafeteria\n\nThe cafeteria opens at 8 am and closes at 3 pm.\n");
        dataset = tmp.resolve("office.jsonl");
        Files.writeString(dataset, """
                {"id": "park", "question": "Where do visitors park?", "reference_answer": "Visitors park in the north garage on level 2.", "relevant": ["office.md#Parking"], "facts": ["north garage"], "slices": ["office"]}
                {"id": "wifi", "question": "How often does the guest network password change?", "reference_answer": "It changes every Monday.", "relevant": ["office.md#Wi-Fi"], "slices": ["office"]}
                {"id": "lunch", "question": "When does the cafeteria close?", "reference_answer": "The cafeteria closes at 3 pm.", "relevant": ["cafeteria.md"], "slices": ["food"]}
                {"id": "moon", "question": "What is the distance to the moon?", "answerable": false, "slices": ["unanswerable"]}
                """);
    }

    private static CliTest.Run run(String... args) {
        return CliTest.run(args);
    }

    @Test
    void withDocsTheRunWritesTheRunFileAndPrintsItsJson() throws Exception {
        Path out = tmp.resolve("runs/office.json");
        CliTest.Run r = run("eval", "run", "--dataset", dataset.toString(), "--docs", docs.toString(), "--data", data.toString(), "--split", "all",
                "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode printed = JSON.readTree(r.out());
        assertThat(printed.path("format").asText()).isEqualTo(EvalRun.FORMAT);
        assertThat(printed.path("examples")).hasSize(4);
        EvalRun written = EvalRun.read(out);
        assertThat(written.runId()).isEqualTo(printed.path("run_id").asText());
        assertThat(written.overall().get("recall@10").mean()).isEqualTo(1.0);
        assertThat(written.overall().get("refusal_correct").n()).isEqualTo(4);
        assertThat(r.err()).contains("throw-away index").contains("4/4 questions");
    }

    @Test
    void withoutDocsTheRunAsksTheCorpusInTheDataDirectoryAndSaysSo() {
        Path own = tmp.resolve("own-data");
        assertThat(run("ingest", docs.toString(), "--data", own.toString()).code()).isZero();
        CliTest.Run r = run("eval", "run", "--dataset", dataset.toString(), "--data", own.toString(), "--split", "all");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("corpus: the corpus in " + own + ", tenant default").contains("overall").contains("recall@10")
                .contains("slice office").contains("slice unanswerable").contains("latency_ms");
        assertThat(r.out().indexOf("recall@10")).as("retrieval first, operations last").isLessThan(r.out().indexOf("latency_ms"));
    }

    @Test
    void aConfiguredPromptTemplateHoldingAnEvalQuestionIsWarnedAboutOnStderrAndInTheRun() throws Exception {
        Path template = tmp.resolve("leaky-prompt.txt");
        Files.writeString(template, """
                ### system
                Answer from the context blocks only, citing them as [n].
                ### example.user
                How often does the guest network password change?
                ### example.assistant
                Every Monday. [1]
                ### user
                {{context}}

                {{question}}
                """);
        Path config = tmp.resolve("leaky.yaml");
        Files.writeString(config, "answer:\n  prompt: " + template + "\n");
        Path out = tmp.resolve("runs/leaky.json");
        CliTest.Run r = run("eval", "run", "--dataset", dataset.toString(), "--docs", docs.toString(), "--data", data.toString(), "--split", "all",
                "--config", config.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("warning: prompt template leaky-prompt.txt contains eval example wifi's question");
        assertThat(EvalRun.read(out).warnings()).singleElement().asString().contains("wifi");
    }

    @Test
    void helpListsTheOptionsAndRendersCleanly() {
        CliTest.Run r = run("eval", "run", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: keel eval run").contains("--dataset").contains("--retrieval-only").contains("bootstrap 95% CI");
        assertThat(r.err()).doesNotContain("WARN");
    }

    @Test
    void aMalformedDatasetLineIsOneLineNamingFileAndLineAndExitsTwo() throws Exception {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"id\": \"a\", \"question\": \"Where do visitors park?\"}\n{\"id\": \"b\", \"question\": \n");
        CliTest.Run r = run("eval", "run", "--dataset", bad.toString(), "--docs", docs.toString(), "--data", data.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("keel: " + bad + ":2: not valid JSON").doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.err().strip().lines()).hasSize(1);
    }

    @Test
    void terminalEscapesFromADatasetNeverReachTheTerminalRaw() throws Exception {
        Path hostile = tmp.resolve("hostile.jsonl");
        Files.writeString(hostile, """
                {"_meta": {"name": "set\\u001b]0;owned\\u0007\\u202e"}}
                {"id": "park", "question": "Where do visitors park?", "reference_answer": "In the north garage.", "slices": ["\\u001b[2Joffice\\u2066"]}
                """);
        CliTest.Run r = run("eval", "run", "--dataset", hostile.toString(), "--docs", docs.toString(), "--data", data.toString(), "--split", "all");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("set ]0;owned", "slice  [2Joffice");
        assertThat(r.out() + r.err()).doesNotContain("\u001b", "\u0007", "\u202e", "\u2066");

        Path duplicate = tmp.resolve("duplicate.jsonl");
        Files.writeString(duplicate, """
                {"id": "a\\u001b[31m", "question": "q?"}
                {"id": "a\\u001b[31m", "question": "r?"}
                """);
        CliTest.Run bad = run("eval", "run", "--dataset", duplicate.toString(), "--docs", docs.toString(), "--data", data.toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains(":2: duplicate id \"a [31m\"").doesNotContain("\u001b");
    }

    @Test
    void badOptionsAreNamedAndExitTwo() {
        CliTest.Run missing = run("eval", "run", "--dataset", tmp.resolve("nope.jsonl").toString(), "--data", data.toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("dataset not found").contains("nope.jsonl");
        CliTest.Run split = run("eval", "run", "--dataset", dataset.toString(), "--split", "holdout", "--data", data.toString());
        assertThat(split.code()).isEqualTo(2);
        assertThat(split.err()).contains("--split must be dev, test or all");
        CliTest.Run neither = run("eval", "run", "--data", data.toString());
        assertThat(neither.code()).isEqualTo(2);
        assertThat(neither.err()).contains("--dataset FILE").contains("--beir DIR");
        CliTest.Run notAFolder = run("eval", "run", "--dataset", dataset.toString(), "--docs", dataset.toString(), "--data", data.toString());
        assertThat(notAFolder.code()).isEqualTo(2);
        assertThat(notAFolder.err()).contains("--docs: not a folder");
        CliTest.Run tenant = run("eval", "run", "--dataset", dataset.toString(), "--docs", docs.toString(), "--tenant", "../other", "--data", data.toString());
        assertThat(tenant.code()).isEqualTo(2);
        assertThat(tenant.err()).contains("--tenant must be");
    }

    @Test
    void aLockedDatasetRunWholeIsRefusedAndItsTestSplitPrintsAggregatesOnly() throws Exception {
        Path locked = tmp.resolve("locked.jsonl");
        Files.writeString(locked, "{\"_meta\": {\"name\": \"gold\", \"locked\": true, \"test_share\": 1}}\n" + Files.readString(dataset));
        CliTest.Run whole = run("eval", "run", "--dataset", locked.toString(), "--split", "all", "--docs", docs.toString(), "--data", data.toString());
        assertThat(whole.code()).isEqualTo(2);
        assertThat(whole.err()).contains("gold is locked");
        CliTest.Run test = run("eval", "run", "--dataset", locked.toString(), "--split", "test", "--retrieval-only", "--docs", docs.toString(),
                "--data", data.toString());
        assertThat(test.code()).as(test.err()).isZero();
        assertThat(test.out()).contains("overall").doesNotContain("slice ").contains("locked dataset: the test split is reported as overall aggregates only");
    }

    @Test
    void aBeirCollectionRunsRetrievalOnlyWithItsGradedJudgements() throws Exception {
        Path beir = tmp.resolve("beir-tiny");
        Files.createDirectories(beir.resolve("qrels"));
        Files.writeString(beir.resolve("corpus.jsonl"), """
                {"_id": "d1", "title": "Parking", "text": "Visitors park in the north garage on level 2."}
                {"_id": "d2", "title": "Cafeteria", "text": "The cafeteria opens at 8 am and closes at 3 pm."}
                {"_id": "d3", "title": "Wi-Fi", "text": "The guest network password changes every Monday."}
                """);
        Files.writeString(beir.resolve("queries.jsonl"), "{\"_id\": \"q1\", \"text\": \"where do visitors park\"}\n{\"_id\": \"q2\", \"text\": \"cafeteria hours\"}\n");
        Files.writeString(beir.resolve("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td2\t1\n");
        CliTest.Run r = run("eval", "run", "--beir", beir.toString(), "--split", "all", "--data", data.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode run = JSON.readTree(r.out());
        assertThat(run.path("settings").path("mode").asText()).isEqualTo("retrieval");
        assertThat(run.path("overall").path("ndcg@10").path("mean").asDouble()).isEqualTo(1.0);
        assertThat(run.path("examples")).hasSize(2);
    }

    @Test
    void aRunNamesItsJudgesCalibrationAndWarnsWhenTheJudgeIsUncalibrated() throws Exception {
        Path calibrated = tmp.resolve("calibration-data");
        Path labels = tmp.resolve("inverted-labels.jsonl");
        // Labels that say the opposite of the truth: the heuristic judge disagrees with every one, so it is recorded as uncalibrated.
        Files.writeString(labels, EvalJudgeCommandsTest.copies(8, """
                {"id": "a", "question": "Where do visitors park?", "answer": "Visitors park in the north garage on level 2.", "context": ["Visitors park in the north garage on level 2."], "label": "unsupported"}
                {"id": "b", "question": "Where do visitors park?", "answer": "Visitors park on the roof of building 9.", "context": ["Visitors park in the north garage on level 2."], "label": "supported"}
                {"id": "c", "question": "When does the cafeteria close?", "answer": "The cafeteria closes at 3 pm.", "context": ["The cafeteria opens at 8 am and closes at 3 pm."], "label": "unsupported"}
                {"id": "d", "question": "When does the cafeteria close?", "answer": "The cafeteria closes at 11 pm on Sundays.", "context": ["The cafeteria opens at 8 am and closes at 3 pm."], "label": "supported"}
                """.strip().split("\n")));
        CliTest.Run calibration = run("eval", "calibrate", "--labels", labels.toString(), "--docs", docs.toString(), "--data", calibrated.toString());
        assertThat(calibration.out()).as(calibration.err()).contains("UNCALIBRATED");

        Path out = tmp.resolve("runs/uncalibrated.json");
        CliTest.Run r = run("eval", "run", "--dataset", dataset.toString(), "--docs", docs.toString(), "--data", calibrated.toString(), "--split", "all",
                "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        EvalRun written = EvalRun.read(out);
        assertThat(written.judge().calibrated()).isFalse();
        assertThat(written.judge().agreement()).isLessThan(0.8);
        assertThat(written.warnings()).anyMatch(w -> w.contains("UNCALIBRATED"));
        assertThat(r.err()).contains("UNCALIBRATED");
    }
}
