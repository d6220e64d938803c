package dev.keel.eval;

import static dev.keel.eval.EvalRunFixtures.example;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.data.Offset.offset;

import dev.keel.eval.RunComparison.Gate;
import dev.keel.eval.RunComparison.MetricDelta;
import dev.keel.eval.RunComparison.Presence;
import dev.keel.eval.RunComparison.Verdict;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code keel eval compare} computes and decides, on runs built in the test (see {@link EvalRunFixtures}). */
class RunComparisonTest {
    private static final EvalRun BASE = EvalRunFixtures.golden("base", 7);

    private static MetricDelta overall(RunComparison c, String metric) {
        return c.overall().stream().filter(d -> d.metric().equals(metric)).findFirst().orElseThrow(() -> new AssertionError("no " + metric));
    }

    private static MetricDelta slice(RunComparison c, String slice, String metric) {
        return c.slices().stream().filter(d -> d.slice().equals(slice) && d.metric().equals(metric)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + slice + "/" + metric));
    }

    private static List<EvalRun.ExampleResult> handMade(double... faithfulness) {
        List<EvalRun.ExampleResult> out = new ArrayList<>();
        for (int i = 0; i < faithfulness.length; i++) {
            out.add(example("h" + i, "question " + i, "answer " + i, List.of(), Map.of(Judge.FAITHFULNESS, faithfulness[i])));
        }
        return out;
    }

    @Test
    void theDeltaItsIntervalAndPValueComeFromThePairedStatisticsOfMatchedExamples() {
        double[] base = {0.9, 0.8, 0.7, 1.0, 0.6, 0.9, 0.8, 0.7, 0.9, 1.0, 0.5, 0.8};
        double[] cand = {0.7, 0.8, 0.5, 0.9, 0.6, 0.6, 0.7, 0.7, 0.8, 0.8, 0.5, 0.6};
        List<EvalRun.ExampleResult> candExamples = new ArrayList<>(handMade(cand));
        Collections.reverse(candExamples);
        RunComparison c = RunComparison.compare(EvalRunFixtures.of("b", "fp", handMade(base)), EvalRunFixtures.of("c", "fp", candExamples),
                new Gate(0.03, 0.10, 11, List.of()));

        MetricDelta d = overall(c, Judge.FAITHFULNESS);
        Statistics.Interval expected = Statistics.pairedDifference(base, cand, 11);
        assertThat(c.paired()).isTrue();
        assertThat(c.matched()).isEqualTo(12);
        assertThat(d.paired()).isEqualTo(12);
        assertThat(d.base().mean()).isCloseTo(Statistics.mean(base), offset(1e-12));
        assertThat(d.candidate().mean()).isCloseTo(Statistics.mean(cand), offset(1e-12));
        assertThat(d.delta()).isCloseTo(expected.mean(), offset(1e-12));
        assertThat(d.ciLow()).isEqualTo(expected.low());
        assertThat(d.ciHigh()).isEqualTo(expected.high());
        assertThat(d.p()).isEqualTo(Statistics.pairedPermutationP(base, cand, 11));
        assertThat(d.ciHigh()).isNegative();
        assertThat(d.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(c.failed()).isTrue();
        assertThat(c.regressions()).singleElement().satisfies(r -> {
            assertThat(r.metric()).isEqualTo(Judge.FAITHFULNESS);
            assertThat(r.worst()).hasSize(RunComparison.WORST_EXAMPLES);
            assertThat(r.worst().get(0).base() - r.worst().get(0).candidate()).isCloseTo(0.3, offset(1e-9));
        });
    }

    @Test
    void aRunComparedWithItselfHasZeroDeltasAndPasses() {
        RunComparison c = RunComparison.compare(BASE, BASE, Gate.defaults());
        assertThat(c.failed()).isFalse();
        assertThat(c.overall()).allSatisfy(d -> assertThat(d.delta()).isZero());
        assertThat(c.overall()).filteredOn(MetricDelta::gated).allSatisfy(d -> assertThat(d.verdict()).isEqualTo(Verdict.SAME));
        assertThat(c.settings()).isEmpty();
        assertThat(c.warnings()).isEmpty();
    }

    @Test
    void aSignificantDropWithinTheAllowedOneIsWorseButDoesNotFail() {
        EvalRun cand = EvalRunFixtures.withMetrics(BASE, "cand", (e, m) -> {
            m.computeIfPresent(Judge.ANSWER_RELEVANCE, (k, v) -> Math.max(0, v - 0.02));
            return m;
        });
        MetricDelta d = overall(RunComparison.compare(BASE, cand, Gate.defaults()), Judge.ANSWER_RELEVANCE);
        assertThat(d.verdict()).isEqualTo(Verdict.WORSE);
        assertThat(RunComparison.compare(BASE, cand, Gate.defaults()).failed()).isFalse();
    }

    @Test
    void aGainIsBetter() {
        EvalRun cand = EvalRunFixtures.withMetrics(BASE, "cand", (e, m) -> {
            m.computeIfPresent("correctness_f1", (k, v) -> Math.min(1, v + 0.1));
            return m;
        });
        assertThat(overall(RunComparison.compare(BASE, cand, Gate.defaults()), "correctness_f1").verdict()).isEqualTo(Verdict.BETTER);
    }

    @Test
    void operationsMetricsAreReportedWithPercentilesButNeverGated() {
        EvalRun slower = EvalRunFixtures.withMetrics(BASE, "slower", (e, m) -> {
            m.put("latency_ms", m.get("latency_ms") * 3);
            m.put("cost_usd", 0.01);
            return m;
        });
        RunComparison c = RunComparison.compare(BASE, slower, Gate.defaults());
        MetricDelta latency = overall(c, "latency_ms");
        assertThat(latency.kind()).isEqualTo(MetricKind.OPS);
        assertThat(latency.verdict()).isEqualTo(Verdict.NOT_GATED);
        assertThat(latency.candidate().p95()).isGreaterThan(latency.base().p95());
        assertThat(latency.candidate().p50()).isCloseTo(3 * latency.base().p50(), offset(1e-9));
        assertThat(overall(c, "cost_usd").delta()).isCloseTo(0.01, offset(1e-12));
        assertThat(c.failed()).isFalse();
    }

    @Test
    void aMetricOnlyTheCandidateHasIsReportedNotGated() {
        EvalRun withJudge = EvalRunFixtures.withMetrics(BASE, "cand", (e, m) -> {
            if (e.metrics().containsKey(Judge.FAITHFULNESS)) m.put(Judge.CORRECTNESS, 0.1);
            return m;
        });
        RunComparison c = RunComparison.compare(BASE, withJudge, Gate.defaults());
        MetricDelta added = overall(c, Judge.CORRECTNESS);
        assertThat(added.presence()).isEqualTo(Presence.CANDIDATE_ONLY);
        assertThat(added.verdict()).isEqualTo(Verdict.NOT_GATED);
        assertThat(added.candidate().mean()).isCloseTo(0.1, offset(1e-12));
        assertThat(c.failed()).isFalse();
    }

    @Test
    void aQualityMetricTheCandidateLacksEntirelyFailsTheGateSoARenameOrADownJudgeCannotHideADrop() {
        EvalRun renamed = EvalRunFixtures.withMetrics(BASE, "cand", (e, m) -> {
            Double v = m.remove(Judge.FAITHFULNESS);
            if (v != null) m.put("faithfulness_v2", v);
            return m;
        });
        RunComparison c = RunComparison.compare(BASE, renamed, Gate.defaults());
        MetricDelta dropped = overall(c, Judge.FAITHFULNESS);
        int had = BASE.overall().get(Judge.FAITHFULNESS).n();
        assertThat(dropped.presence()).isEqualTo(Presence.BASE_ONLY);
        assertThat(dropped.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(dropped.why()).isEqualTo("missing in the candidate: " + had + " of " + had + " examples");
        assertThat(overall(c, "faithfulness_v2").verdict()).isEqualTo(Verdict.NOT_GATED);
        assertThat(c.failed()).isTrue();
        assertThat(c.regressions()).anyMatch(r -> r.metric().equals(Judge.FAITHFULNESS) && r.slice() == null);
    }

    @Test
    void aQualityMetricTheCandidateLacksOnSomeExamplesFailsAndTheRunWithErroredExamplesIsNamed() {
        List<String> failedIds = List.of("q03", "q04", "q05", "q06");
        EvalRun judgeDown = EvalRunFixtures.withExamples(BASE, "judge-down", BASE.examples().stream().map(e -> {
            if (!failedIds.contains(e.id())) return e;
            Map<String, Double> m = new java.util.HashMap<>(e.metrics());
            m.remove(Judge.FAITHFULNESS);
            return new EvalRun.ExampleResult(e.id(), e.split(), e.slices(), e.fingerprint(), e.question(), e.referenceAnswer(), e.answer(),
                    e.answered(), "error: provider_unavailable", e.cited(), e.retrieved(), m, e.reasons(), e.traceId());
        }).toList());
        long lacking = BASE.examples().stream().filter(e -> failedIds.contains(e.id()) && e.metrics().containsKey(Judge.FAITHFULNESS)).count();
        RunComparison c = RunComparison.compare(BASE, judgeDown, Gate.defaults());
        MetricDelta d = overall(c, Judge.FAITHFULNESS);
        assertThat(lacking).isPositive();
        assertThat(d.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(d.why()).isEqualTo("missing in the candidate: " + lacking + " of " + BASE.overall().get(Judge.FAITHFULNESS).n() + " examples");
        assertThat(c.failed()).isTrue();
        assertThat(c.warnings()).anyMatch(w -> w.startsWith("the candidate run (judge-down) has 4 examples that ended in an error")
                && w.endsWith("q03, q04, q05, q06"));
    }

    @Test
    void aCandidateThatRetagsItsExamplesIsRefusedAsAnEditedRun() {
        EvalRun retagged = EvalRunFixtures.withExamples(BASE, "cand", BASE.examples().stream().map(e -> e.slices().contains("billing")
                ? new EvalRun.ExampleResult(e.id(), e.split(), List.of(e.slices().get(0), "pricing"), e.fingerprint(), e.question(), e.referenceAnswer(),
                e.answer(), e.answered(), e.refused(), e.cited(), e.retrieved(), Map.of(Judge.FAITHFULNESS, 0.0, "refusal_correct", 0.0), e.reasons(), e.traceId())
                : e).toList());
        assertThatThrownBy(() -> RunComparison.compare(BASE, retagged, new Gate(1, 0.10, 42, List.of())))
                .isInstanceOf(RunComparison.IncomparableRunsException.class).hasMessageContaining("has other slices in the candidate run")
                .hasMessageContaining("a run file was edited");
    }

    @Test
    void aRunWhoseJudgeFailedIsRefusedAsIncomplete() {
        EvalRun incomplete = EvalRunFixtures.withExamples(BASE, "judge-down", BASE.examples().stream().map(e -> e.id().equals("q03")
                ? new EvalRun.ExampleResult(e.id(), e.split(), e.slices(), e.fingerprint(), e.question(), e.referenceAnswer(), e.answer(), e.answered(),
                e.refused(), e.cited(), e.retrieved(), Map.of("refusal_correct", 1.0), Map.of(EvalRunner.JUDGE_ERROR, "judge down"), e.traceId())
                : e).toList());
        for (RunComparison.Gate gate : List.of(Gate.defaults())) {
            assertThatThrownBy(() -> RunComparison.compare(BASE, incomplete, gate)).isInstanceOf(RunComparison.IncomparableRunsException.class)
                    .hasMessageContaining("the candidate run (judge-down) is incomplete");
            assertThatThrownBy(() -> RunComparison.compare(incomplete, BASE, gate)).hasMessageContaining("the base run (judge-down) is incomplete");
        }
    }

    @Test
    void aSliceThatDropsBeyondItsLimitFailsTheGateEvenWhenTheOverallDropIsAllowed() {
        EvalRun cand = EvalRunFixtures.withMetrics(BASE, "cand", (e, m) -> {
            if (e.slices().contains("billing")) m.computeIfPresent(Judge.FAITHFULNESS, (k, v) -> Math.max(0, v - 0.3));
            return m;
        });
        RunComparison c = RunComparison.compare(BASE, cand, new Gate(0.2, 0.10, 42, List.of()));
        assertThat(overall(c, Judge.FAITHFULNESS).verdict()).isNotEqualTo(Verdict.FAIL);
        assertThat(slice(c, "billing", Judge.FAITHFULNESS).verdict()).isEqualTo(Verdict.FAIL);
        assertThat(c.regressions()).singleElement().satisfies(r -> {
            assertThat(r.slice()).isEqualTo("billing");
            assertThat(r.worst()).isNotEmpty().allSatisfy(x -> assertThat(BASE.examples().stream()
                    .filter(e -> e.id().equals(x.id())).findFirst().orElseThrow().slices()).contains("billing"));
        });
    }

    @Test
    void aSliceBelowTheMinimumIsReportedButNotGatedHoweverFarItDrops() {
        EvalRun cand = EvalRunFixtures.withMetrics(BASE, "cand", (e, m) -> {
            if (e.slices().contains("account")) m.replaceAll((k, v) -> MetricKind.of(k) == MetricKind.QUALITY ? 0.0 : v);
            return m;
        });
        RunComparison c = RunComparison.compare(BASE, cand, new Gate(1, 0.10, 42, List.of()));
        MetricDelta d = slice(c, "account", Judge.FAITHFULNESS);
        assertThat(d.paired()).isLessThan(RunComparison.MIN_SLICE_EXAMPLES);
        assertThat(d.delta()).isLessThan(-0.5);
        assertThat(d.verdict()).isEqualTo(Verdict.NOT_GATED);
        assertThat(d.why()).contains("not gated");
        assertThat(c.failed()).isFalse();
    }

    @Test
    void runsOfDifferentDatasetsAreRefusedNamingBothFingerprints() {
        EvalRun other = EvalRunFixtures.of("other", "ffff0000ffff0000", BASE.examples());
        assertThatThrownBy(() -> RunComparison.compare(BASE, other, Gate.defaults()))
                .isInstanceOf(RunComparison.IncomparableRunsException.class)
                .hasMessageContaining("different datasets").hasMessageContaining(BASE.dataset().fingerprint().substring(0, 12))
                .hasMessageContaining("ffff0000ffff");
    }

    @Test
    void aCandidateThatLacksAnyOfTheBaseExamplesIsRefusedNamingHowMany() {
        EvalRun most = EvalRunFixtures.withExamples(BASE, "most", BASE.examples().subList(0, 50));
        assertThatThrownBy(() -> RunComparison.compare(BASE, most, Gate.defaults()))
                .isInstanceOf(RunComparison.IncomparableRunsException.class)
                .hasMessageStartingWith("the candidate run lacks 4 of the base run's 54 examples");
        RunComparison extra = RunComparison.compare(most, BASE, Gate.defaults());
        assertThat(extra.matched()).isEqualTo(50);
        assertThat(extra.candidateOnly()).isEqualTo(4);
        assertThat(extra.warnings()).anyMatch(w -> w.contains("paired on 50 examples: 0 only in base, 4 only in candidate"));
    }

    @Test
    void runsMissingASplitOrAFingerprintOrDifferingInDatasetNameOrLockAreRefused() {
        EvalRun.DatasetInfo d = BASE.dataset();
        Map<String, EvalRun.DatasetInfo> broken = Map.of(
                "names no split", new EvalRun.DatasetInfo(d.name(), d.path(), d.locked(), null, d.examples(), d.fingerprint()),
                "has no dataset fingerprint", new EvalRun.DatasetInfo(d.name(), d.path(), d.locked(), d.split(), d.examples(), null),
                "name different datasets", new EvalRun.DatasetInfo("renamed", d.path(), d.locked(), d.split(), d.examples(), d.fingerprint()),
                "locked in the candidate run only", new EvalRun.DatasetInfo(d.name(), d.path(), true, d.split(), d.examples(), d.fingerprint()));
        broken.forEach((message, dataset) -> assertThatThrownBy(() -> RunComparison.compare(BASE, withDataset(BASE, dataset), Gate.defaults()))
                .isInstanceOf(RunComparison.IncomparableRunsException.class).hasMessageContaining(message));
        EvalRun noExampleFingerprint = EvalRunFixtures.withExamples(BASE, "nofp", BASE.examples().stream().map(e -> e.id().equals("q09")
                ? new EvalRun.ExampleResult(e.id(), e.split(), e.slices(), null, e.question(), e.referenceAnswer(), e.answer(), e.answered(),
                e.refused(), e.cited(), e.retrieved(), e.metrics(), e.reasons(), e.traceId()) : e).toList());
        assertThatThrownBy(() -> RunComparison.compare(BASE, noExampleFingerprint, Gate.defaults()))
                .hasMessage("the candidate run's example 'q09' has no fingerprint");
    }

    private static EvalRun withDataset(EvalRun run, EvalRun.DatasetInfo dataset) {
        return new EvalRun(run.format(), "cand", run.started(), run.seconds(), dataset, run.settings(), run.judge(), run.warnings(), run.overall(),
                run.slices(), run.examples());
    }

    /** {@code run} with exactly these examples, its summaries kept: a hand-edited file the fixtures could not summarise. */
    private static EvalRun withRawExamples(EvalRun run, List<EvalRun.ExampleResult> examples) {
        return new EvalRun(run.format(), "cand", run.started(), run.seconds(), run.dataset(), run.settings(), run.judge(), run.warnings(), run.overall(),
                run.slices(), examples);
    }

    @Test
    void anExampleWithoutQuestionAnswerOrMetricsIsComparedAndReportedNotACrash() {
        EvalRun hollow = withRawExamples(BASE, BASE.examples().stream().map(e -> e.id().equals("q02")
                ? new EvalRun.ExampleResult(e.id(), null, e.slices(), e.fingerprint(), null, null, null, null, null, null, null, null, null, null) : e).toList());
        for (RunComparison c : List.of(RunComparison.compare(BASE, hollow, Gate.defaults()), RunComparison.compare(hollow, BASE, Gate.defaults()))) {
            assertThat(HtmlReport.comparison(c)).contains("<h2>Per slice");
            assertThat(JunitReport.comparison(c)).contains("<testsuite");
        }
        assertThat(overall(RunComparison.compare(BASE, hollow, Gate.defaults()), "refusal_correct").why()).startsWith("missing in the candidate: 1 of");
    }

    @Test
    void aNullSliceOrAQualityValueOutsideZeroToOneIsRefusedNamingTheExample() {
        EvalRun nullSlice = withRawExamples(BASE, BASE.examples().stream().map(e -> e.id().equals("q02")
                ? new EvalRun.ExampleResult(e.id(), e.split(), java.util.Arrays.asList("answerable", null), e.fingerprint(), e.question(), null,
                e.answer(), e.answered(), null, null, null, e.metrics(), null, null) : e).toList());
        assertThatThrownBy(() -> RunComparison.compare(BASE, nullSlice, Gate.defaults()))
                .isInstanceOf(RunComparison.IncomparableRunsException.class).hasMessage("the candidate run's example 'q02' has a slice that is not a name (null)");
        EvalRun outOfRange = EvalRunFixtures.withMetrics(BASE, "big", (e, m) -> {
            if (e.id().equals("q05")) m.put(Judge.FAITHFULNESS, 1.5);
            return m;
        });
        assertThatThrownBy(() -> RunComparison.compare(BASE, outOfRange, Gate.defaults()))
                .hasMessageContaining("'q05' has faithfulness = 1.5 (a quality score is in [0, 1])");
    }

    @Test
    void anExampleWhoseFingerprintChangedWithinOneDatasetVersionIsRefusedAsAnEditedRun() {
        EvalRun edited = EvalRunFixtures.withExamples(BASE, "edited", BASE.examples().stream().map(e -> e.id().equals("q07")
                ? new EvalRun.ExampleResult(e.id(), e.split(), e.slices(), "edited-fingerprint", "a different question", null, e.answer(), e.answered(),
                e.refused(), e.cited(), e.retrieved(), e.metrics(), e.reasons(), e.traceId())
                : e).toList());
        assertThatThrownBy(() -> RunComparison.compare(BASE, edited, Gate.defaults())).isInstanceOf(RunComparison.IncomparableRunsException.class)
                .hasMessage("example 'q07' has another fingerprint in the candidate run although both runs are of the same dataset version: a run file"
                        + " was edited; rerun it");
    }

    @Test
    void aRunWithARepeatedIdOrANonFiniteValueIsRefusedNamingTheExample() {
        List<EvalRun.ExampleResult> twice = new ArrayList<>(BASE.examples());
        twice.add(BASE.examples().get(3));
        assertThatThrownBy(() -> RunComparison.compare(BASE, EvalRunFixtures.withExamples(BASE, "x", twice), Gate.defaults()))
                .hasMessageContaining("example id '" + BASE.examples().get(3).id() + "' twice");
        EvalRun nan = EvalRunFixtures.withMetrics(BASE, "nan", (e, m) -> {
            if (e.id().equals("q05")) m.put(Judge.FAITHFULNESS, Double.NaN);
            return m;
        });
        assertThatThrownBy(() -> RunComparison.compare(nan, BASE, Gate.defaults()))
                .isInstanceOf(RunComparison.IncomparableRunsException.class).hasMessageContaining("'q05' has faithfulness = NaN");
    }

    @Test
    void aRunWithMoreSlicesThanAnyEvaluationIsRefusedInsteadOfComputedForHours() {
        List<EvalRun.ExampleResult> tagged = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) tagged.add(example("x" + i, "q", "a", List.of("slice-" + i), Map.of(Judge.FAITHFULNESS, 0.5)));
        EvalRun run = EvalRunFixtures.of("many", "fp", tagged);
        assertThatThrownBy(() -> RunComparison.compare(run, run, Gate.defaults()))
                .isInstanceOf(RunComparison.IncomparableRunsException.class).hasMessageContaining("2000 slices");
    }

    /** {@code n} examples with {@code metrics} quality scores drawn from {@code seed}, each in two of {@code slices} slices. */
    private static EvalRun large(String runId, int n, int metrics, int slices, long seed, double shift) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        List<String> names = List.of("recall@5", "precision@5", "mrr", "ndcg@5", "hit_rate@5", "context_precision", "context_recall", Judge.FAITHFULNESS,
                Judge.ANSWER_RELEVANCE, Judge.CITATION_ACCURACY, "correctness_f1", "correctness_semantic", Judge.CORRECTNESS, "facts").subList(0, metrics);
        List<EvalRun.ExampleResult> examples = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Map<String, Double> m = new java.util.HashMap<>();
            for (String name : names) m.put(name, Math.max(0, Math.min(1, 0.7 + 0.2 * random.nextGaussian() - shift)));
            examples.add(example("x" + i, "q", "a", List.of("s" + i % slices, "t" + (i / 7) % slices), m));
        }
        return new EvalRun(EvalRun.FORMAT, runId, BASE.started(), 1, new EvalRun.DatasetInfo("large", "large.jsonl", false, "all", n, "fp-large"),
                BASE.settings(), BASE.judge(), List.of(), Map.of(), Map.of(), examples);
    }

    @Test
    void aComparisonAtTheExampleCapApproximatesInsteadOfResamplingAndSaysSo() {
        int n = RunComparison.MAX_EXAMPLES, metrics = 14, slices = 20;
        EvalRun base = large("base", n, metrics, slices, 1, 0), cand = large("cand", n, metrics, slices, 2, 0.01);
        long start = System.nanoTime();
        RunComparison c = RunComparison.compare(base, cand, Gate.defaults());
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "compare of %,d examples x %d metrics x %d slices: %.1f s%n", n, metrics, slices, seconds);
        assertThat(c.warnings()).anyMatch(w -> w.contains("normal approximation"));
        MetricDelta d = overall(c, Judge.FAITHFULNESS);
        assertThat(d.delta()).isCloseTo(-0.01, offset(0.003));
        assertThat(d.p()).isLessThan(0.001);
        assertThat(d.verdict()).isEqualTo(Verdict.WORSE);
        assertThat(c.slices()).hasSize(2 * slices * metrics);
    }

    @Test
    void aRunWithMoreExamplesThanTheCapIsRefused() {
        List<EvalRun.ExampleResult> many = java.util.Collections.nCopies(RunComparison.MAX_EXAMPLES + 1, BASE.examples().get(0));
        EvalRun run = new EvalRun(BASE.format(), "many", BASE.started(), 1, BASE.dataset(), BASE.settings(), BASE.judge(), List.of(), Map.of(), Map.of(), many);
        assertThatThrownBy(() -> RunComparison.compare(run, run, Gate.defaults())).isInstanceOf(RunComparison.IncomparableRunsException.class)
                .hasMessage("the base run has 100,001 examples: at most 100,000 can be compared");
    }

    @Test
    void theNormalApproximationAgreesWithTheBootstrapOnAGoldenSizedSample() {
        double[] b = BASE.examples().stream().map(e -> e.metrics().get(Judge.FAITHFULNESS)).filter(java.util.Objects::nonNull).mapToDouble(v -> v).toArray();
        double[] c = java.util.Arrays.stream(b).map(v -> Math.max(0, v - 0.05)).toArray();
        Statistics.Interval boot = Statistics.pairedDifference(b, c, 42), normal = Statistics.pairedNormalDifference(b, c);
        assertThat(normal.mean()).isEqualTo(boot.mean());
        assertThat(normal.low()).isCloseTo(boot.low(), offset(0.01));
        assertThat(normal.high()).isCloseTo(boot.high(), offset(0.01));
        assertThat(Statistics.pairedTP(b, c)).isLessThan(0.001);
        assertThat(Statistics.pairedTP(b, b)).isEqualTo(1.0);
    }

    @Test
    void limitsOutsideZeroToOneAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> new Gate(1.5, 0.1, 1, List.of())).hasMessageContaining("--max-drop");
        assertThatThrownBy(() -> new Gate(0.03, Double.NaN, 1, List.of())).hasMessageContaining("--slice-max-drop");
    }

    @Test
    void aggregateOnlyRunsOfALockedTestSplitAreComparedUnpairedAndSaySo() {
        EvalRun worse = EvalRunFixtures.withMetrics(BASE, "worse", (e, m) -> {
            m.computeIfPresent(Judge.CITATION_ACCURACY, (k, v) -> Math.max(0, v - 0.4));
            return m;
        });
        RunComparison c = RunComparison.compare(EvalRunFixtures.aggregatesOnly(BASE), EvalRunFixtures.aggregatesOnly(worse), Gate.defaults());
        assertThat(c.paired()).isFalse();
        assertThat(c.warnings()).anyMatch(w -> w.contains("compared unpaired"));
        MetricDelta d = overall(c, Judge.CITATION_ACCURACY);
        assertThat(d.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(d.p()).isLessThan(0.001);
        assertThat(overall(c, Judge.FAITHFULNESS).verdict()).isEqualTo(Verdict.SAME);
        assertThat(c.slices()).isEmpty();
        assertThat(c.regressions()).singleElement().satisfies(r -> assertThat(r.worst()).isEmpty());
    }

    @Test
    void aRunWithoutExamplesIsComparedFromAggregatesOnlyWhenBothAreLockedTestSplitRuns() {
        EvalRun aggregates = EvalRunFixtures.aggregatesOnly(BASE);
        assertThatThrownBy(() -> RunComparison.compare(withRawExamples(BASE, List.of()), BASE, Gate.defaults()))
                .isInstanceOf(RunComparison.IncomparableRunsException.class)
                .hasMessageStartingWith("the base run has no examples: only two runs of a locked dataset's test split are compared from their aggregates");
        EvalRun lockedWithExamples = new EvalRun(BASE.format(), "c", BASE.started(), BASE.seconds(), aggregates.dataset(), BASE.settings(), BASE.judge(),
                List.of(), BASE.overall(), Map.of(), BASE.examples());
        assertThatThrownBy(() -> RunComparison.compare(aggregates, lockedWithExamples, Gate.defaults()))
                .isInstanceOf(RunComparison.IncomparableRunsException.class).hasMessageContaining("the candidate run has examples");
    }

    @Test
    void anAggregateOnlyRunWhoseSummaryIsImpossibleIsRefusedNamingTheMetric() {
        assertThat(RunComparison.widestHalfInterval(32)).isCloseTo(0.227, within(0.001));
        EvalRun aggregates = EvalRunFixtures.aggregatesOnly(BASE);
        Map<String, EvalRun.Summary> bad = Map.of(
                "n 0", new EvalRun.Summary(0.5, 0.4, 0.6, 0, null, null),
                "a non-finite mean or interval", new EvalRun.Summary(Double.NaN, 0.4, 0.6, 10, null, null),
                "its mean outside its interval", new EvalRun.Summary(0.9, 0.4, 0.6, 10, null, null),
                "values outside [0, 1]", new EvalRun.Summary(1.5, 1.4, 1.6, 10, null, null),
                // An interval of [0, 1] over 32 scores would hide any drop behind the run's own uncertainty; the widest honest one is ±0.22.
                "an interval wider than a [0, 1] score over 32 examples can have", new EvalRun.Summary(0.5, 0.0, 1.0, 32, null, null));
        bad.forEach((problem, summary) -> {
            Map<String, EvalRun.Summary> overall = new java.util.HashMap<>(aggregates.overall());
            overall.put(Judge.FAITHFULNESS, summary);
            EvalRun cand = new EvalRun(aggregates.format(), "c", aggregates.started(), aggregates.seconds(), aggregates.dataset(), aggregates.settings(),
                    aggregates.judge(), List.of(), overall, Map.of(), List.of());
            assertThatThrownBy(() -> RunComparison.compare(aggregates, cand, Gate.defaults())).isInstanceOf(RunComparison.IncomparableRunsException.class)
                    .hasMessage("the candidate run's summary of faithfulness has " + problem);
        });
    }

    @Test
    void differentOrUncalibratedJudgesAndSeveralChangedSettingsAreWarnedAbout() {
        EvalRun.Settings s = BASE.settings();
        EvalRun cand = EvalRunFixtures.withJudgeAndSettings(BASE, new EvalRun.JudgeInfo("llm/gpt-4o-mini/abc", "openai", false, 0.72, 0.41),
                new EvalRun.Settings(s.mode(), "gpt-4o-mini", "p-999", "c-888", 3, s.seed()));
        RunComparison c = RunComparison.compare(BASE, cand, Gate.defaults());
        assertThat(c.warnings()).anyMatch(w -> w.contains("judges differ") && w.contains("heuristic/v1") && w.contains("llm/gpt-4o-mini/abc"));
        assertThat(c.warnings()).anyMatch(w -> w.contains("llm/gpt-4o-mini/abc is uncalibrated") && w.contains("72%"));
        assertThat(c.warnings()).anyMatch(w -> w.contains("more than one setting differs (answer model, prompt hash, top-k)"));
        assertThat(c.settings()).extracting(RunComparison.SettingChange::setting).containsExactly("answer model", "prompt hash", "config hash", "top-k");
        assertThat(c.settings()).contains(new RunComparison.SettingChange("top-k", "5", "3"));
    }

    @Test
    void oneChangedSettingIsShownWithoutAWarning() {
        EvalRun.Settings s = BASE.settings();
        EvalRun cand = EvalRunFixtures.withJudgeAndSettings(BASE, BASE.judge(), new EvalRun.Settings(s.mode(), s.answerModel(), "p-new", "c-new", s.topK(), s.seed()));
        RunComparison c = RunComparison.compare(BASE, cand, Gate.defaults());
        assertThat(c.settings()).hasSize(2);
        assertThat(c.warnings()).isEmpty();
    }

    @Test
    void whenBothRunsCarryTheirConfigurationTheKeysThatDifferAreNamed() {
        EvalRun.Settings s = BASE.settings();
        Map<String, String> config = Map.of("answer.context_chunks", "5", "search.mode", "hybrid", "chunking.max_tokens", "400");
        Map<String, String> changed = new java.util.HashMap<>(config);
        changed.put("answer.context_chunks", "1");
        changed.put("rerank.enabled", "true");
        EvalRun base = EvalRunFixtures.withJudgeAndSettings(BASE, BASE.judge(), new EvalRun.Settings(s.mode(), s.answerModel(), s.promptHash(), "c-1",
                s.topK(), s.seed(), config));
        EvalRun cand = EvalRunFixtures.withJudgeAndSettings(BASE, BASE.judge(), new EvalRun.Settings(s.mode(), s.answerModel(), s.promptHash(), "c-2",
                s.topK(), s.seed(), changed));
        RunComparison c = RunComparison.compare(base, cand, Gate.defaults());
        assertThat(c.settings()).containsExactly(new RunComparison.SettingChange("config hash", "c-1", "c-2"),
                new RunComparison.SettingChange("answer.context_chunks", "5", "1"), new RunComparison.SettingChange("rerank.enabled", null, "true"));
        assertThat(RunComparison.compare(BASE, cand, Gate.defaults()).settings()).extracting(RunComparison.SettingChange::setting)
                .containsExactly("config hash").as("a run without its configuration's values shows only the hash");
    }

    @Test
    void metricsCanBeRestrictedAndAnUnknownOneIsNamed() {
        RunComparison c = RunComparison.compare(BASE, BASE, new Gate(0.03, 0.1, 42, List.of("mrr", Judge.FAITHFULNESS)));
        assertThat(c.overall()).extracting(MetricDelta::metric).containsExactly(Judge.FAITHFULNESS, "mrr");
        assertThatThrownBy(() -> RunComparison.compare(BASE, BASE, new Gate(0.03, 0.1, 42, List.of("faithfullness"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--metrics: neither run has a metric 'faithfullness'");
    }

    @Test
    void aRunFileWithAKeyGivenTwiceIsRefused() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("keel-run-", ".json");
        BASE.write(file);
        String json = java.nio.file.Files.readString(file).replaceFirst("\"format\"", "\"format\" : \"x\", \"format\"");
        java.nio.file.Files.writeString(file, json);
        assertThatThrownBy(() -> EvalRun.read(file)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Duplicate field 'format'");
    }
}
