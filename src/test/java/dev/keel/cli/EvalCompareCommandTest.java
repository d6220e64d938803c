package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.eval.EvalRun;
import dev.keel.eval.EvalRunFixtures;
import dev.keel.eval.Judge;
import dev.keel.eval.RunComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keel eval compare} and {@code keel eval report} as CI runs them: exit codes, the text report, the files they write, one-line errors. */
class EvalCompareCommandTest {
    @TempDir
    static Path tmp;
    static Path base, rerun, regressed, otherDataset;

    @BeforeAll
    static void writeRuns() throws Exception {
        EvalRun b = EvalRunFixtures.golden("main-1234", 7);
        base = tmp.resolve("base.json");
        b.write(base);
        rerun = tmp.resolve("rerun.json");
        EvalRunFixtures.withExamples(b, "main-1234-again", b.examples()).write(rerun);
        SplittableRandom random = new SplittableRandom(3);
        regressed = tmp.resolve("regressed.json");
        EvalRunFixtures.withMetrics(b, "prompt-without-citations", (e, m) -> {
            if (random.nextDouble() < 0.8) {
                m.computeIfPresent(Judge.FAITHFULNESS, (k, v) -> Math.max(0, v - 0.3));
                m.computeIfPresent(Judge.CITATION_ACCURACY, (k, v) -> Math.max(0, v - 0.3));
            }
            return m;
        }).write(regressed);
        otherDataset = tmp.resolve("other.json");
        EvalRunFixtures.of("other", "0123456789abcdef", b.examples()).write(otherDataset);
    }

    private static void assertOneLineError(CliTest.Run r, String... fragments) {
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).startsWith("keel: ").contains(fragments).doesNotContain("Exception", "\tat ");
    }

    @Test
    void theReadmeExampleRunsFailOnTheDroppedCitationsAndPassAgainstThemselves() {
        String base = "src/test/resources/eval/runs/base.json", candidate = "src/test/resources/eval/runs/candidate.json";
        CliTest.Run failed = CliTest.run("eval", "compare", base, candidate);
        assertThat(failed.code()).as(failed.err()).isEqualTo(1);
        assertThat(failed.out()).contains("setting   prompt hash: p-1a2b3c -> p-77aa01")
                .containsPattern("citation_accuracy +42 +0\\.794 +0\\.559 +-0\\.236")
                .containsPattern("faithfulness +42 +0\\.778 +0\\.539 +-0\\.238")
                .contains("FAIL: 10 significant regressions").contains("worst examples, faithfulness:");
        assertThat(CliTest.run("eval", "compare", base, base).code()).isZero();
    }

    @Test
    void anUnchangedRerunPassesWithExitZero() {
        CliTest.Run r = CliTest.run("eval", "compare", base.toString(), rerun.toString());
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("paired on 54 of 54 examples").contains("PASS").contains("faithfulness").contains("latency_ms");
    }

    @Test
    void aRegressionExitsOneNamingTheMetricsAndPrintingTheWorstExamplesWithBothAnswers() throws Exception {
        Path html = tmp.resolve("out/compare.html"), junit = tmp.resolve("out/compare.xml"), json = tmp.resolve("out/compare.json");
        CliTest.Run r = CliTest.run("eval", "compare", base.toString(), regressed.toString(), "--html", html.toString(), "--junit", junit.toString(),
                "--json", json.toString());
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).contains("FAIL: ").contains("worst examples, faithfulness:").contains("worst examples, citation_accuracy:")
                .contains("      base: ").contains("      cand: ");
        assertThat(r.out().lines().filter(l -> l.startsWith("      base: ")).count()).isLessThanOrEqualTo(5L * (r.out().split("worst examples").length - 1));
        assertThat(Files.readString(html)).contains("Gate failed");
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(junit.toFile());
        assertThat(doc.getElementsByTagName("failure").getLength()).isPositive();
        JsonNode c = new ObjectMapper().readTree(json.toFile());
        assertThat(c.get("format").asText()).isEqualTo("keel-eval-compare/1");
        assertThat(c.get("failed").asBoolean()).isTrue();
        assertThat(c.get("regressions").get(0).get("metric").asText()).isIn(Judge.FAITHFULNESS, Judge.CITATION_ACCURACY);
    }

    @Test
    void jsonOnStdoutReplacesTheTextReport() throws Exception {
        CliTest.Run r = CliTest.run("eval", "compare", base.toString(), rerun.toString(), "--json", "-", "--metrics", "mrr,faithfulness");
        assertThat(r.code()).isZero();
        JsonNode c = new ObjectMapper().readTree(r.out());
        assertThat(c.get("matched").asInt()).isEqualTo(54);
        assertThat(c.get("overall")).hasSize(2);
    }

    @Test
    void runsOfDifferentDatasetsAreRefusedWithExitTwoAndOneLine() {
        assertOneLineError(CliTest.run("eval", "compare", base.toString(), otherDataset.toString()), "different datasets", "0123456789ab");
    }

    @Test
    void unreadableInputIsOneLineNamingTheFileAndExitTwo() throws Exception {
        assertOneLineError(CliTest.run("eval", "compare", base.toString(), tmp.resolve("nope.json").toString()), "nope.json: no such file");
        Path broken = tmp.resolve("broken.json");
        Files.writeString(broken, "{\"format\": \"keel-eval-run/1\",\n  \"overall\": {oops}\n}");
        assertOneLineError(CliTest.run("eval", "compare", base.toString(), broken.toString()), "broken.json", "line 2");
        Path notARun = tmp.resolve("not-a-run.json");
        Files.writeString(notARun, "{\"format\": \"something-else\", \"warnings\": [], \"overall\": {}, \"slices\": {}, \"examples\": []}");
        assertOneLineError(CliTest.run("eval", "compare", notARun.toString(), base.toString()), "is not a Keel eval run");
        Path empty = tmp.resolve("empty.json");
        Files.writeString(empty, "");
        assertOneLineError(CliTest.run("eval", "compare", empty.toString(), base.toString()), "empty.json");
        Path bare = tmp.resolve("bare.json");
        Files.writeString(bare, "{\"format\": \"keel-eval-run/1\"}");
        assertOneLineError(CliTest.run("eval", "compare", bare.toString(), base.toString()), "bare.json");
    }

    @Test
    void aChangedConfigurationKeyIsPrintedWithBothValues() {
        EvalRun b = EvalRun.read(base);
        EvalRun.Settings s = b.settings();
        RunComparison c = RunComparison.compare(
                EvalRunFixtures.withJudgeAndSettings(b, b.judge(), new EvalRun.Settings(s.mode(), s.answerModel(), s.promptHash(), "c-1", s.topK(), s.seed(),
                        Map.of("answer.context_chunks", "5"))),
                EvalRunFixtures.withJudgeAndSettings(b, b.judge(), new EvalRun.Settings(s.mode(), s.answerModel(), s.promptHash(), "c-2", s.topK(), s.seed(),
                        Map.of("answer.context_chunks", "1"))), RunComparison.Gate.defaults());
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        EvalCompareCommand.print(c, new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("setting   config hash: c-1 -> c-2%nsetting   answer.context_chunks: 5 -> 1".formatted());
    }

    @Test
    void handEditedNullsInARunFileAreOneLineAndExitTwo() throws Exception {
        String run = Files.readString(base);
        Map<String, List<String>> edits = Map.of(
                "\"slices\" : [ \"answerable\", \"billing\" ]", List.of("\"slices\" : [ null ]", "has a slice that is not a name (null)"),
                "\"examples\" : [ ", List.of("\"examples\" : [ null, ", "null where a run needs a value"));
        int i = 0;
        for (Map.Entry<String, List<String>> edit : edits.entrySet()) {
            assertThat(run).contains(edit.getKey());
            Path file = tmp.resolve("null-" + i++ + ".json");
            Files.writeString(file, run.replaceFirst(java.util.regex.Pattern.quote(edit.getKey()), java.util.regex.Matcher.quoteReplacement(edit.getValue().get(0))));
            assertOneLineError(CliTest.run("eval", "compare", base.toString(), file.toString()), edit.getValue().get(1));
        }
    }

    @Test
    void aRunFileLargerThanAnyRunIsRefusedBeforeParsing() throws Exception {
        Path huge = tmp.resolve("huge.json");
        try (var file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            file.setLength(RunFiles.MAX_RUN_BYTES + 1);
        }
        assertOneLineError(CliTest.run("eval", "compare", base.toString(), huge.toString()), "huge.json", "larger than a run file can be");
        Files.delete(huge);
    }

    @Test
    void badOptionsAreOneLineAndExitTwo() {
        assertOneLineError(CliTest.run("eval", "compare", base.toString(), rerun.toString(), "--max-drop", "3"), "--max-drop", "between 0 and 1");
        assertOneLineError(CliTest.run("eval", "compare", base.toString(), rerun.toString(), "--slice-max-drop", "NaN"), "--slice-max-drop");
        assertOneLineError(CliTest.run("eval", "compare", base.toString(), rerun.toString(), "--metrics", "faithfullness"), "faithfullness");
        assertThat(CliTest.run("eval", "compare", base.toString()).code()).isEqualTo(2);
    }

    @Test
    void terminalControlSequencesFromARunNeverReachTheTerminal() throws Exception {
        EvalRun b = EvalRun.read(base);
        EvalRun evil = EvalRunFixtures.withExamples(b, "evil\u001b]0;pwned\u0007", b.examples().stream().map(e -> new EvalRun.ExampleResult(
                e.id(), e.split(), e.slices(), e.fingerprint(), "\u001b[2J\u001b[31mclear screen?", null, "\u001b[8mhidden\u202e", true, null, List.of(),
                List.of(), e.metrics(), Map.of(), null)).toList());
        Path evilBase = tmp.resolve("evil-base.json"), evilCand = tmp.resolve("evil-cand.json");
        evil.write(evilBase);
        EvalRunFixtures.withMetrics(evil, "cand\u001b[0m", (e, m) -> {
            m.computeIfPresent(Judge.FAITHFULNESS, (k, v) -> 0.0);
            return m;
        }).write(evilCand);
        CliTest.Run r = CliTest.run("eval", "compare", evilBase.toString(), evilCand.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u202e").contains("clear screen?").contains("hidden");
    }

    @Test
    void reportRendersOneRunAsHtmlAndJunit() throws Exception {
        Path html = tmp.resolve("report/run.html"), junit = tmp.resolve("report/run.xml");
        CliTest.Run r = CliTest.run("eval", "report", base.toString(), "--html", html.toString(), "--junit", junit.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readString(html)).contains("Keel eval run").contains("main-1234").contains("Lowest-scoring examples");
        assertThat(DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(junit.toFile()).getElementsByTagName("testcase").getLength()).isPositive();
        assertThat(CliTest.run("eval", "report", base.toString()).code()).as("--html is required").isEqualTo(2);
    }
}
