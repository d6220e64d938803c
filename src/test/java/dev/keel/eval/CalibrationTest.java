package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Calibration figures, labels files and the stored record later runs look up. */
class CalibrationTest {
    @TempDir
    Path dir;

    /** A judge that calls an answer supported when it contains "yes", with a fixed id. */
    private record KeywordJudge(String id) implements Judge {
        @Override
        public String family() {
            return null;
        }

        @Override
        public Verdict judge(Input input) {
            return new Verdict(Map.of(FAITHFULNESS, input.answer().contains("yes") ? 1.0 : 0.0), Map.of(FAITHFULNESS, "keyword"));
        }
    }

    private static List<boolean[]> table(int ss, int su, int us, int uu) {
        List<boolean[]> pairs = new ArrayList<>();
        for (int i = 0; i < ss; i++) pairs.add(new boolean[] {true, true});
        for (int i = 0; i < su; i++) pairs.add(new boolean[] {true, false});
        for (int i = 0; i < us; i++) pairs.add(new boolean[] {false, true});
        for (int i = 0; i < uu; i++) pairs.add(new boolean[] {false, false});
        return pairs;
    }

    @Test
    void cohensKappaMatchesTheHandComputedValue() {
        // 20 SS, 5 SU, 10 US, 15 UU of 50: observed 35/50 = 0.70; person supported 25/50, judge 30/50;
        // chance 0.5·0.6 + 0.5·0.4 = 0.50; kappa (0.70 − 0.50) / (1 − 0.50) = 0.40.
        Calibration.Figures f = Calibration.figures(table(20, 5, 10, 15));
        assertThat(f.n()).isEqualTo(50);
        assertThat(f.agreement()).isCloseTo(0.70, within(1e-9));
        assertThat(f.kappa()).isCloseTo(0.40, within(1e-9));
        assertThat(List.of(f.supportedSupported(), f.supportedUnsupported(), f.unsupportedSupported(), f.unsupportedUnsupported()))
                .containsExactly(20, 5, 10, 15);
    }

    @Test
    void kappaIsOneForPerfectAgreementEvenWhenEveryLabelIsOneClass() {
        assertThat(Calibration.figures(table(7, 0, 0, 0)).kappa()).isEqualTo(1.0);
        assertThat(Calibration.figures(table(3, 0, 0, 3)).kappa()).isEqualTo(1.0);
    }

    private Path labels(String... lines) throws IOException {
        Path file = dir.resolve("labels.jsonl");
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    private static String line(String id, String answer, String label, String split) {
        return "{\"id\":\"" + id + "\",\"question\":\"q?\",\"answer\":\"" + answer + "\",\"context\":[\"c\",{\"title\":\"T\",\"text\":\"t\"}],\"label\":"
                + label + ",\"split\":\"" + split + "\"}";
    }

    @Test
    void scoresEachLabelledAnswerAndReportsPerSplit() throws IOException {
        List<Calibration.Example> examples = Calibration.readLabels(labels(line("a", "yes", "\"supported\"", "tune"), line("b", "no", "\"unsupported\"", "tune"),
                line("c", "yes", "2", "heldout"), line("d", "no", "5", "heldout")));
        assertThat(examples.get(0).context()).extracting(Judge.Passage::text).containsExactly("c", "t");
        Calibration.Result r = Calibration.run(new KeywordJudge("k/1"), "t1", examples, Judge.FAITHFULNESS, "labels.jsonl", Instant.EPOCH);
        assertThat(r.overall().agreement()).isEqualTo(0.5);
        assertThat(r.splits().get("tune").agreement()).isEqualTo(1.0);
        assertThat(r.splits().get("heldout").agreement()).isEqualTo(0.0);
        assertThat(r.disagreements()).extracting(Calibration.Disagreement::id).containsExactly("c", "d");
        assertThat(r.calibrated()).isFalse();
    }

    @Test
    void aStoredCalibrationIsFoundByItsJudgeIdAndNoOther() throws IOException {
        List<Calibration.Example> examples = Calibration.readLabels(labels(line("a", "yes", "\"supported\"", "tune"), line("b", "no", "\"unsupported\"", "tune")));
        KeywordJudge judge = new KeywordJudge("llm/judge/abc");
        Calibration.store(dir, Calibration.run(judge, "t1", examples, Judge.FAITHFULNESS, "labels.jsonl", Instant.EPOCH), null, true);
        Calibration.Record r = Calibration.lookup(dir, "llm/judge/abc", Judge.FAITHFULNESS).orElseThrow();
        assertThat(r.calibrated()).isTrue();
        assertThat(r.agreement()).isEqualTo(1.0);
        assertThat(r.n()).isEqualTo(2);
        assertThat(Calibration.lookup(dir, "llm/judge/abd", Judge.FAITHFULNESS)).isEmpty();
        assertThat(Calibration.lookup(dir, "llm/judge/abc", Judge.ANSWER_RELEVANCE)).isEmpty();
        assertThat(Calibration.judgeInfo(dir, judge)).isEqualTo(new EvalRun.JudgeInfo("llm/judge/abc", null, true, 1.0, 1.0));
        assertThat(Calibration.judgeInfo(dir, new KeywordJudge("never-calibrated")).calibrated()).isNull();
    }

    @Test
    void aJudgeIdThatLooksLikeAPathStaysInsideTheCalibrationDirectory() throws IOException {
        List<Calibration.Example> examples = Calibration.readLabels(labels(line("a", "yes", "\"supported\"", "tune")));
        Calibration.store(dir.resolve("data"), Calibration.run(new KeywordJudge("../../escape"), "t1", examples, Judge.FAITHFULNESS, "l", Instant.EPOCH), null, true);
        try (var files = Files.walk(dir)) {
            assertThat(files.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".json")).toList())
                    .allMatch(p -> p.startsWith(dir.resolve("data").resolve(Calibration.DIRECTORY)));
        }
        assertThat(Calibration.lookup(dir.resolve("data"), "../../escape", Judge.FAITHFULNESS)).isPresent();
    }

    @Test
    void concurrentRecalibrationsNeverLetALookupSeeAHalfWrittenRecord() throws Exception {
        List<Calibration.Example> examples = Calibration.readLabels(labels(line("a", "yes", "\"supported\"", "tune"), line("b", "no", "\"supported\"", "tune")));
        Calibration.Result half = Calibration.run(new KeywordJudge("llm/j/1"), "t1", examples, Judge.FAITHFULNESS, "l", Instant.EPOCH);
        Calibration.Result full = Calibration.run(new KeywordJudge("llm/j/1"), "t1", examples.subList(0, 1), Judge.FAITHFULNESS, "l", Instant.EPOCH);
        Calibration.store(dir, half, null, true);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                int id = w;
                writers.add(pool.submit(() -> {
                    for (int i = 0; i < 100; i++) Calibration.store(dir, (i + id) % 2 == 0 ? half : full, null, true);
                }));
            }
            java.util.concurrent.Future<?> reader = pool.submit(() -> {
                for (int i = 0; i < 300; i++) {
                    assertThat(Calibration.lookup(dir, "llm/j/1", Judge.FAITHFULNESS)).hasValueSatisfying(r -> assertThat(r.agreement()).isIn(0.5, 1.0));
                }
            });
            for (var f : writers) f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            reader.get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void aMalformedLabelsLineIsAnErrorNamingTheFileAndLine() throws IOException {
        Path file = labels(line("a", "yes", "\"supported\"", "tune"), "", "{\"id\":\"b\",\"question\":\"q\",\"answer\":\"a\",\"context\":[],\"label\":\"maybe\"}");
        assertThatThrownBy(() -> Calibration.readLabels(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + ":3: 'label' must be \"supported\", \"unsupported\" or an integer score from 1 to 5");
        Path broken = labels("{not json");
        assertThatThrownBy(() -> Calibration.readLabels(broken)).hasMessageStartingWith(broken + ":1: not valid JSON");
        Path noContext = labels("{\"id\":\"b\",\"question\":\"q\",\"answer\":\"a\",\"context\":\"text\",\"label\":\"supported\"}");
        assertThatThrownBy(() -> Calibration.readLabels(noContext)).hasMessageContaining(":1: 'context' must be an array");
        Path twice = labels(line("a", "yes", "\"supported\"", "tune"), line("a", "no", "\"supported\"", "tune"));
        assertThatThrownBy(() -> Calibration.readLabels(twice)).hasMessageContaining(":2: duplicate id 'a'");
        Path score = labels(line("a", "yes", "6", "tune"));
        assertThatThrownBy(() -> Calibration.readLabels(score)).hasMessageContaining(":1: 'label'");
    }

    @Test
    void aJudgeThatAlwaysSaysTheMajorityClassPassesAgreementButNotKappaSoIsUncalibrated() {
        // 90 supported and 10 unsupported labels, a judge that says "supported" to all: agreement 0.90, kappa 0.
        Calibration.Figures always = Calibration.figures(table(90, 0, 10, 0));
        assertThat(always.agreement()).isEqualTo(0.9);
        assertThat(always.kappa()).isZero();
        Calibration.Result r = new Calibration.Result("j", Judge.FAITHFULNESS, "labels", java.time.Instant.EPOCH, always, Map.of(), 0, List.of());
        assertThat(r.calibrated()).isFalse();
    }
}
