package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.eval.Calibration;
import dev.keel.eval.EvalRun;
import dev.keel.eval.HeuristicJudge;
import dev.keel.eval.Judge;
import dev.keel.eval.JudgeServer;
import dev.keel.gateway.FakeLlmServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keel eval calibrate} and {@code keel eval pairwise} as a user runs them. */
class EvalJudgeCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    private static FakeLlmServer upstream;
    private static Path config;

    @BeforeAll
    static void start() throws Exception {
        upstream = new FakeLlmServer();
        config = tmp.resolve("keel.yaml");
        Files.writeString(config, JudgeServer.yaml(upstream.baseUrl(), "claude-sonnet-4"));
    }

    @AfterAll
    static void stop() {
        upstream.close();
    }

    @Test
    void calibrateNamesTheLineOfABadLabelsFileAndExitsWithoutAStackTrace() throws Exception {
        Path labels = tmp.resolve("bad.jsonl");
        Files.writeString(labels, "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"a\",\"context\":[\"c\"],\"label\":\"supported\"}\n{\"id\":\"b\",\"question\":\"q\"}\n");
        CliTest.Run r = CliTest.run("eval", "calibrate", "--labels", labels.toString(), "--data", tmp.resolve("data").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("keel: " + labels + ":2: 'answer' must be a non-empty string").doesNotContain("Exception");
    }

    /**
     * {@code lines} (JSONL label lines with {@code "id":"…"} and {@code "question":"…"}) {@code times} over, each copy's
     * id and question suffixed with its number: distinct examples, as a calibration requires.
     */
    static String copies(int times, String... lines) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            for (String line : lines) {
                out.add(line.replaceFirst("\"id\": ?\"([^\"]*)\"", "\"id\":\"$1-" + i + "\"")
                        .replaceFirst("\"question\": ?\"([^\"]*)\"", "\"question\":\"$1 (case " + i + ")\""));
            }
        }
        return String.join("\n", out) + "\n";
    }

    @Test
    void calibratePrintsAgreementKappaAndTheConfusionTableAndRecordsTheCalibration() throws Exception {
        Path data = tmp.resolve("calibrated");
        Path labels = tmp.resolve("labels.jsonl");
        Files.writeString(labels, copies(15,
                "{\"id\":\"s\",\"question\":\"How long is the refund window?\",\"answer\":\"Refunds are possible within 30 days.\",\"context\":[\"Annual plans can be refunded within 30 days.\"],\"label\":\"supported\"}",
                "{\"id\":\"u\",\"question\":\"How long is the refund window?\",\"answer\":\"Refunds are possible within 90 days.\",\"context\":[\"Annual plans can be refunded within 30 days.\"],\"label\":\"unsupported\"}"));
        CliTest.Run r = CliTest.run("eval", "calibrate", "--labels", labels.toString(), "--data", data.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("recorded in " + data.resolve("eval-calibration"));
        assertThat(r.out()).contains("judge heuristic/v1, metric faithfulness, 30 examples", "overall  agreement 1.000  Cohen's kappa 1.000",
                "confusion (rows: label, columns: judge)", "calibrated: agreement is at least 80%");
        assertThat(Calibration.lookup(data, HeuristicJudge.ID, Judge.FAITHFULNESS)).hasValueSatisfying(c -> {
            assertThat(c.calibrated()).isTrue();
            assertThat(c.n()).isEqualTo(30);
            assertThat(c.labelsHash()).hasSize(64);
        });
    }

    private static final String SUPPORTED = "{\"id\":\"s\",\"question\":\"q?\",\"answer\":\"Within 30 days.\",\"context\":[\"Within 30 days.\"],\"label\":\"supported\"}",
            UNSUPPORTED = "{\"id\":\"u\",\"question\":\"q?\",\"answer\":\"Within 90 days.\",\"context\":[\"Within 30 days.\"],\"label\":\"unsupported\"}";

    private static Path thirtyLabels() throws Exception {
        Path labels = tmp.resolve("thirty.jsonl");
        Files.writeString(labels, copies(15, SUPPORTED, UNSUPPORTED));
        return labels;
    }

    @Test
    void calibrateRefusesFewerThanThirtyExamplesOrOneClassAndRecordsNothing() throws Exception {
        Path data = tmp.resolve("too-few");
        Path few = tmp.resolve("few.jsonl");
        Files.writeString(few, copies(14, SUPPORTED, UNSUPPORTED));
        CliTest.Run r = CliTest.run("eval", "calibrate", "--labels", few.toString(), "--data", data.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("keel: " + few + ": 28 distinct labelled examples of metric 'faithfulness' (14 supported, 14 unsupported); a calibration needs at least 30");
        Path oneClass = tmp.resolve("one-class.jsonl");
        Files.writeString(oneClass, copies(30, SUPPORTED));
        CliTest.Run one = CliTest.run("eval", "calibrate", "--labels", oneClass.toString(), "--data", data.toString());
        assertThat(one.code()).isEqualTo(2);
        assertThat(one.err()).contains("(30 supported, 0 unsupported)", "with 10 of each class");
        assertThat(Calibration.lookup(data, HeuristicJudge.ID, Judge.FAITHFULNESS)).isEmpty();
    }

    @Test
    void thirtyCopiesOfOneLabelledAnswerUnderOtherIdsAreOneExample() throws Exception {
        Path data = tmp.resolve("copies");
        StringBuilder same = new StringBuilder();
        for (int i = 0; i < 40; i++) same.append((i % 2 == 0 ? SUPPORTED : UNSUPPORTED).replaceFirst("\"id\": ?\"([^\"]*)\"", "\"id\":\"$1-" + i + "\"")).append('\n');
        Path labels = tmp.resolve("same.jsonl");
        Files.writeString(labels, same.toString());
        CliTest.Run r = CliTest.run("eval", "calibrate", "--labels", labels.toString(), "--data", data.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("2 distinct labelled examples");
        assertThat(Calibration.lookup(data, HeuristicJudge.ID, Judge.FAITHFULNESS)).isEmpty();
    }

    @Test
    void aCalibrationOnFewerExamplesDoesNotReplaceTheOneOnRecordUnlessAskedTo() throws Exception {
        Path data = tmp.resolve("kept");
        Path more = tmp.resolve("more.jsonl"), fewer = tmp.resolve("fewer.jsonl");
        Files.writeString(more, copies(20, SUPPORTED, UNSUPPORTED));
        Files.writeString(fewer, copies(15, SUPPORTED, UNSUPPORTED));
        assertThat(CliTest.run("eval", "calibrate", "--labels", more.toString(), "--data", data.toString()).code()).isZero();
        CliTest.Run r = CliTest.run("eval", "calibrate", "--labels", fewer.toString(), "--data", data.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("was measured on 40 examples (more.jsonl), more than these 30; it was kept: pass --replace to replace it");
        assertThat(Calibration.lookup(data, HeuristicJudge.ID, Judge.FAITHFULNESS)).hasValueSatisfying(c -> assertThat(c.n()).isEqualTo(40));
        CliTest.Run replaced = CliTest.run("eval", "calibrate", "--labels", fewer.toString(), "--data", data.toString(), "--replace");
        assertThat(replaced.code()).as(replaced.err()).isZero();
        assertThat(Calibration.lookup(data, HeuristicJudge.ID, Judge.FAITHFULNESS)).hasValueSatisfying(c -> assertThat(c.n()).isEqualTo(30));
    }

    @Test
    void calibrateSaysAJudgeModelBelowEightyPercentIsUncalibrated() throws Exception {
        upstream.reset();
        upstream.then(FakeLlmServer.ok("""
                {"faithfulness": {"score": 5, "reason": "looks fine"}, "answer_relevance": {"score": 5, "reason": "on topic"},
                 "citation_accuracy": null, "correctness_judge": null}"""));
        Path data = tmp.resolve("llm-calibrated");
        CliTest.Run r = CliTest.run("eval", "calibrate", "--labels", thirtyLabels().toString(), "--judge", "judge", "--config", config.toString(),
                "--data", data.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("overall  agreement 0.500", "disagrees: u-0 (line 2) labelled unsupported, judge 1.00: looks fine",
                "UNCALIBRATED: agreement is below 80%");
        String judgeId = r.out().lines().findFirst().orElseThrow().split(" ")[1].replace(",", "");
        assertThat(judgeId).startsWith("llm/judge/");
        assertThat(Calibration.lookup(data, judgeId, Judge.FAITHFULNESS)).hasValueSatisfying(c -> assertThat(c.calibrated()).isFalse());
    }

    @Test
    void calibrateWithAJudgeProviderThatIsDownExitsWithItsMessage() throws Exception {
        upstream.reset();
        upstream.then(FakeLlmServer.status(503, "{\"error\":{\"message\":\"overloaded\"}}", Map.of()));
        CliTest.Run r = CliTest.run("eval", "calibrate", "--labels", thirtyLabels().toString(), "--judge", "judge", "--config", config.toString(),
                "--data", tmp.resolve("down").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("keel: judge model 'judge' is unavailable").doesNotContain("at dev.keel");
    }

    private static EvalRun.ExampleResult example(String id, String answer) {
        return new EvalRun.ExampleResult(id, "dev", List.of(), "fp", "Question " + id + "?", null, answer, true, null, List.of(), List.of(),
                Map.of(), Map.of(), null);
    }

    private static Path run(String name, List<EvalRun.ExampleResult> examples) throws Exception {
        Path file = tmp.resolve(name);
        new EvalRun(EvalRun.FORMAT, name, Instant.EPOCH, 1, null, new EvalRun.Settings("full", "judge", null, null, 5, 1), null, List.of(), Map.of(),
                Map.of(), examples).write(file);
        return file;
    }

    /** The fake judge prefers the longer of the two answers, whichever position it is in. */
    private static String longerWins(JsonNode request) {
        String a = JudgeServer.tagged(request, "answer-a"), b = JudgeServer.tagged(request, "answer-b");
        return "{\"winner\": \"" + (a.length() > b.length() ? "A" : b.length() > a.length() ? "B" : "tie") + "\", \"reason\": \"longer\"}";
    }

    @Test
    void anInvalidVerdictQuotedInAnErrorCarriesNoTerminalEscapes() throws Exception {
        upstream.reset();
        upstream.then(FakeLlmServer.ok("\u001b]0;owned\u0007\u202enot a verdict"));
        CliTest.Run r = CliTest.run("eval", "calibrate", "--labels", thirtyLabels().toString(), "--judge", "judge", "--config", config.toString(),
                "--data", tmp.resolve("escapes").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("returned an invalid verdict twice", "last reply:  ]0;owned  not a verdict").doesNotContain("\u001b", "\u0007", "\u202e");
    }

    @Test
    void pairwiseWhoseJudgeFailsReportsNoTiesAndExitsThree() throws Exception {
        upstream.reset();
        upstream.then(FakeLlmServer.status(503, "{\"error\":{\"message\":\"overloaded\"}}", Map.of()));
        List<EvalRun.ExampleResult> base = List.of(example("q0", "Short.")), candidate = List.of(example("q0", "A longer answer."));
        CliTest.Run r = CliTest.run("eval", "pairwise", run("base-down.json", base).toString(), run("cand-down.json", candidate).toString(), "--judge", "judge",
                "--config", config.toString(), "--data", tmp.resolve("pairwise-down").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("keel: incomplete: the judge failed, so no comparison is reported: judge model 'judge' is unavailable")
                .doesNotContain("at dev.keel");
        assertThat(r.out()).doesNotContain("ties");
    }

    @Test
    void aRunWhoseJudgeFailsIsWrittenWithEachReasonAndExitsThree() throws Exception {
        Path docs = tmp.resolve("judged-docs");
        Files.createDirectories(docs);
        Files.writeString(docs.resolve("trial.md"), "# Trial\n\nThe free trial lasts 14 days and needs no card.\n");
        Path dataset = tmp.resolve("judged.jsonl");
        Files.writeString(dataset, """
                {"id": "trial", "question": "How long is the free trial?", "reference_answer": "14 days."}
                {"id": "card", "question": "Does the trial need a card?", "reference_answer": "No card is needed."}
                """);
        upstream.reset();
        upstream.then(FakeLlmServer.status(503, "{\"error\":{\"message\":\"overloaded\"}}", Map.of()));
        Path out = tmp.resolve("judged-run.json");
        CliTest.Run r = CliTest.run("eval", "run", "--dataset", dataset.toString(), "--docs", docs.toString(), "--split", "all", "--judge", "judge",
                "--config", config.toString(), "--data", tmp.resolve("judged-data").toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("keel: incomplete: the judge failed on 2 of 2 examples").contains("judge model 'judge' is unavailable")
                .doesNotContain("at dev.keel");
        EvalRun written = EvalRun.read(out);
        assertThat(written.warnings()).anyMatch(w -> w.startsWith("incomplete: the judge failed on 2 of 2 examples"))
                .anyMatch(w -> w.matches("judge llm/judge/\\w+ has never been calibrated: keel eval calibrate --labels FILE --judge judge"));
        assertThat(written.examples()).allSatisfy(e -> assertThat(e.reasons()).containsKey("judge_error"));
    }

    @Test
    void pairwisePrintsWinsLossesTiesAndWritesJson() throws Exception {
        List<EvalRun.ExampleResult> base = new ArrayList<>(), candidate = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            base.add(example("q" + i, "Short answer " + i + "."));
            candidate.add(example("q" + i, i < 4 ? "A much longer and fuller answer " + i + "." : "Tiny " + i + "."));
        }
        base.add(example("declined", "Short answer."));
        candidate.add(new EvalRun.ExampleResult("declined", "dev", List.of(), "fp", "Question declined?", null, "", false, null, List.of(), List.of(),
                Map.of(), Map.of(), null));
        upstream.reset();
        upstream.then(FakeLlmServer.okFrom(EvalJudgeCommandsTest::longerWins));
        Path out = tmp.resolve("pairwise.json");
        CliTest.Run r = CliTest.run("eval", "pairwise", run("base.json", base).toString(), run("cand.json", candidate).toString(), "--judge", "judge",
                "--config", config.toString(), "--data", tmp.resolve("data").toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("6 examples", "candidate wins 4, losses 2, ties 0; win rate 0.667 (95% CI",
                "skipped 1 of 7 shared examples that either run declined");
        JsonNode json = JSON.readTree(out.toFile());
        assertThat(json.path("report").path("wins").asInt()).isEqualTo(4);
        assertThat(json.path("report").path("comparisons")).hasSize(6);
        assertThat(json.path("judge").asText()).startsWith("pairwise/judge/");
    }

    @Test
    void pairwiseWithoutAJudgeModelSaysHowToNameOne() throws Exception {
        Path base = run("b1.json", List.of(example("q", "a"))), cand = run("c1.json", List.of(example("q", "b")));
        CliTest.Run r = CliTest.run("eval", "pairwise", base.toString(), cand.toString(), "--data", tmp.resolve("data").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("needs a judge model: --judge MODEL");
    }

    @Test
    void pairwiseNamesAFileThatIsNotARun() throws Exception {
        Path notARun = tmp.resolve("not-a-run.json");
        Files.writeString(notARun, "{\"format\": \"something-else\"}");
        CliTest.Run r = CliTest.run("eval", "pairwise", notARun.toString(), notARun.toString(), "--judge", "judge", "--config", config.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains(notARun.toString()).doesNotContain("Exception");
    }
}
