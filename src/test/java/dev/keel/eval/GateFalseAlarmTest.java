package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.eval.RunComparison.Gate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The gate's error rates on the golden set: an unchanged rerun must not fail it (20 seeds), a rerun with the noise of a
 * sampling model and judge must fail it at most once in 20 (≤ 5%), and seeded regressions must fail it naming the metric.
 */
class GateFalseAlarmTest {
    private static final int RERUNS = 20;
    private static final EvalRun BASE = EvalRunFixtures.golden("base", 7);
    /** Metrics whose per-example values are 0 or 1: noise flips them (as many each way), others drift by a bounded amount. */
    private static final List<String> BINARY = List.of("refusal_correct", "recall@5", "hit_rate@5");
    /** Share of examples whose continuous scores move in a rerun, and by at most how much: a judge at temperature 0 still wobbles a little. */
    private static final double NOISY_SHARE = 0.15, NOISE = 0.15;
    /** Examples flipped each way per binary metric in a rerun. */
    private static final int FLIPS_EACH_WAY = 2;

    /** {@code BASE} rerun: continuous scores of a few examples moved up or down, binary ones flipped as often each way; latency jittered. */
    static EvalRun noisyRerun(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, List<String>> flips = new java.util.HashMap<>();
        for (String metric : BINARY) {
            List<String> ones = new ArrayList<>(), zeros = new ArrayList<>();
            BASE.examples().forEach(e -> {
                Double v = e.metrics().get(metric);
                if (v != null) (v == 1.0 ? ones : zeros).add(e.id());
            });
            int each = Math.min(FLIPS_EACH_WAY, Math.min(ones.size(), zeros.size()));
            for (int i = 0; i < each; i++) {
                flips.computeIfAbsent(metric, k -> new ArrayList<>()).add(ones.remove(random.nextInt(ones.size())));
                flips.get(metric).add(zeros.remove(random.nextInt(zeros.size())));
            }
        }
        return EvalRunFixtures.withMetrics(BASE, "rerun-" + seed, (e, m) -> {
            m.replaceAll((metric, v) -> {
                if (BINARY.contains(metric)) return flips.getOrDefault(metric, List.of()).contains(e.id()) ? 1 - v : v;
                if (metric.equals("latency_ms")) return v * (0.8 + 0.45 * random.nextDouble());
                if (MetricKind.of(metric) != MetricKind.QUALITY || random.nextDouble() >= NOISY_SHARE) return v;
                return Math.max(0, Math.min(1, v + NOISE * (2 * random.nextDouble() - 1)));
            });
            return m;
        });
    }

    @Test
    void aRunComparedWithItselfNeverFailsWhateverTheSeed() {
        for (long seed = 1; seed <= RERUNS; seed++) {
            assertThat(RunComparison.compare(BASE, BASE, new Gate(0.03, 0.10, seed, List.of())).failed()).as("seed %d", seed).isFalse();
        }
    }

    @Test
    void noisyReruns_failTheGateAtMostOnceInTwenty() {
        int failures = 0;
        List<String> failed = new ArrayList<>();
        for (long seed = 1; seed <= RERUNS; seed++) {
            RunComparison c = RunComparison.compare(BASE, noisyRerun(seed), new Gate(0.03, 0.10, seed, List.of()));
            if (c.failed()) {
                failures++;
                failed.add("seed " + seed + ": " + c.regressions().stream().map(r -> r.metric() + (r.slice() == null ? "" : "/" + r.slice())).toList());
            }
        }
        System.out.printf("gate false-alarm rate on noisy reruns of the golden set: %d of %d (%.0f%%) %s%n", failures, RERUNS, 100.0 * failures / RERUNS, failed);
        assertThat(failures).as("false alarms: %s", failed).isLessThanOrEqualTo(1);
    }

    @Test
    void faithfulnessAndCitationsDroppedOnMostExamplesFailTheGateNamingBoth() {
        SplittableRandom random = new SplittableRandom(3);
        EvalRun dropped = EvalRunFixtures.withMetrics(BASE, "no-citations", (e, m) -> {
            if (random.nextDouble() < 0.8) {
                m.computeIfPresent(Judge.FAITHFULNESS, (k, v) -> Math.max(0, v - 0.3));
                m.computeIfPresent(Judge.CITATION_ACCURACY, (k, v) -> Math.max(0, v - 0.3));
            }
            return m;
        });
        RunComparison c = RunComparison.compare(BASE, dropped, Gate.defaults());
        assertThat(c.failed()).isTrue();
        assertThat(c.regressions()).filteredOn(r -> r.slice() == null).extracting(RunComparison.Regression::metric)
                .containsExactlyInAnyOrder(Judge.FAITHFULNESS, Judge.CITATION_ACCURACY);
        assertThat(c.regressions()).allSatisfy(r -> assertThat(r.worst()).hasSizeBetween(1, RunComparison.WORST_EXAMPLES));
    }

    @Test
    void refusalFlippedOnThirtyPercentOfExamplesFailsTheGate() {
        SplittableRandom random = new SplittableRandom(5);
        EvalRun flipped = EvalRunFixtures.withMetrics(BASE, "refuses-wrongly", (e, m) -> {
            if (random.nextDouble() < 0.3) m.computeIfPresent("refusal_correct", (k, v) -> 1 - v);
            return m;
        });
        RunComparison c = RunComparison.compare(BASE, flipped, Gate.defaults());
        assertThat(c.regressions()).anySatisfy(r -> {
            assertThat(r.metric()).isEqualTo("refusal_correct");
            assertThat(r.slice()).isNull();
        });
    }
}
