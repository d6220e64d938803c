package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The release gate in CI: today's answers to the golden set's dev split, judged offline, against the run committed in
 * samples/eval/golden-baseline.json. A change that breaks retrieval, citations or grounding drops a metric beyond the
 * gate and fails this test, printing what regressed. An intended change of the golden set or of the figures is
 * recorded by regenerating the baseline (README "Evaluation", "The release gate in CI").
 */
class GoldenSetGateTest {
    static final Path BASELINE = Path.of("samples", "eval", "golden-baseline.json");

    @Test
    void todaysGoldenSetRunPassesTheGateAgainstTheCommittedBaseline() {
        Keel keel = SampleCorpus.keel();
        EvalRun today = new EvalRunner(keel, new HeuristicJudge(keel.answers(), keel.embedder())).run(EvalDataset.load(SampleCorpus.GOLDEN),
                new EvalRunner.Options(EvalRunner.Mode.FULL, EvalExample.Split.DEV, Keel.DEFAULT_TENANT, 10, 42), EvalRunner.Progress.NONE);
        RunComparison gate = RunComparison.compare(EvalRun.read(BASELINE), today, RunComparison.Gate.defaults());
        StringBuilder report = new StringBuilder();
        for (RunComparison.Regression r : gate.regressions()) {
            report.append(r.metric()).append(r.slice() == null ? "" : " in slice " + r.slice()).append(':');
            for (RunComparison.ExampleChange c : r.worst()) report.append("\n  ").append(c.id()).append(' ').append(c.question()).append(" → ").append(c.candidateAnswer());
            report.append('\n');
        }
        System.out.printf("golden-set gate against the committed baseline: %s (%d examples matched)%n", gate.failed() ? "FAIL" : "pass", gate.matched());
        assertThat(gate.failed()).as("regressions against %s; if intended, regenerate it:%n%s", BASELINE, report).isFalse();
        assertThat(gate.matched()).isEqualTo(today.examples().size());
    }
}
