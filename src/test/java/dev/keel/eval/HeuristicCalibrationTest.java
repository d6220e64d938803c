package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The offline judge's faithfulness agrees with the hand-labelled sentences of samples/eval/faithfulness-labels.jsonl
 * (written before the heuristic was tuned; the held-out half was never looked at while tuning) at 85% or more.
 */
class HeuristicCalibrationTest {
    static final Path LABELS = Path.of("samples", "eval", "faithfulness-labels.jsonl");

    @Test
    void heuristicFaithfulnessAgreesWithTheLabelledSentences() {
        Keel keel = SampleCorpus.keel();
        List<Calibration.Example> examples = Calibration.readLabels(LABELS);
        Calibration.Result r = Calibration.run(new HeuristicJudge(keel.answers(), keel.embedder()), Keel.DEFAULT_TENANT, examples,
                Judge.FAITHFULNESS, LABELS.toString(), Instant.EPOCH);
        System.out.printf("heuristic faithfulness vs labels: overall %d sentences, agreement %.3f, kappa %.3f%n", r.overall().n(),
                r.overall().agreement(), r.overall().kappa());
        r.splits().forEach((split, f) -> System.out.printf("  %s: %d sentences, agreement %.3f, kappa %.3f (labelled supported: judged %d/%d; labelled unsupported: judged supported %d/%d)%n",
                split, f.n(), f.agreement(), f.kappa(), f.supportedSupported(), f.supportedSupported() + f.supportedUnsupported(),
                f.unsupportedSupported(), f.unsupportedSupported() + f.unsupportedUnsupported()));
        r.disagreements().forEach(d -> System.out.printf("  disagrees: %s (line %d) labelled %s, score %.2f: %s%n", d.id(), d.line(),
                d.labelSupported() ? "supported" : "unsupported", d.score(), d.reason()));
        assertThat(r.unscored()).isZero();
        assertThat(r.overall().n()).isGreaterThanOrEqualTo(100);
        assertThat(r.overall().agreement()).isGreaterThanOrEqualTo(0.85);
    }
}
