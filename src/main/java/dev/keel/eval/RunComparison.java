package dev.keel.eval;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Two {@link EvalRun}s of the same dataset compared metric by metric, overall and per slice, and the release gate's
 * verdict. Examples are matched by id (runs of one dataset version hold the same fingerprint and slices for an id: a
 * difference means an edited run file and is refused); each metric's delta (candidate − base) gets a paired-bootstrap 95% interval
 * and a paired permutation p-value ({@link Statistics}, seeded by {@link Gate#seed()}, so the same inputs always
 * give the same comparison). A run over a locked test split keeps only aggregates: such runs are compared unpaired
 * from their summaries' intervals (Welch), and the comparison says so.
 *
 * <p>The gate fails a {@link MetricKind#QUALITY quality} metric only when its drop exceeds the allowed one
 * <em>and</em> is significant: the difference's interval lies entirely below zero and p &lt; {@value #ALPHA}. A slice
 * is gated the same way against its own limit once it has {@value #MIN_SLICE_EXAMPLES} paired examples. A quality
 * metric the base has and the candidate lacks, entirely or on some examples both runs answered alike, fails overall
 * ("missing in the candidate"): a judge that was down or a renamed metric cannot hide a drop. Ops metrics, metrics
 * only the candidate has and small slices are reported, never gated. Runs that cannot be compared (different dataset
 * fingerprints, names, locked flags or splits, a missing fingerprint or split, an incomplete run (its judge failed),
 * an example whose fingerprint or slices differ, a candidate lacking some of the base's
 * examples, a run without examples unless both are aggregate-only runs of a locked test split, malformed values) are
 * refused with an {@link IncomparableRunsException} naming the problem. Immutable; {@link #compare} is a pure function.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunComparison(String format, RunInfo base, RunInfo candidate, Gate gate, boolean paired, int matched, int baseOnly,
                            int candidateOnly, List<SettingChange> settings, List<String> warnings, List<MetricDelta> overall,
                            List<MetricDelta> slices, List<Regression> regressions, boolean failed) {
    public static final String FORMAT = "keel-eval-compare/1";
    /** Significance level of the gate: a drop must have p below this (and an interval below zero) to fail it. */
    public static final double ALPHA = 0.05;
    /**
     * Slices smaller than this are reported but not gated: below ten examples one flipped example moves a slice's
     * mean by more than the default slice limit, and a bootstrap interval over so few values is too narrow to trust.
     */
    public static final int MIN_SLICE_EXAMPLES = 10;
    /**
     * Most distinct metrics and slices a comparison takes: each costs a bootstrap per metric and slice, and a run with
     * more is a generated or corrupt file, not an evaluation a person reads (the golden set has 15 metrics, 6 slices).
     */
    public static final int MAX_METRICS = 200, MAX_SLICES = 1_000;
    /** Worst examples printed per failing metric or slice: enough to see the pattern, few enough to read. */
    public static final int WORST_EXAMPLES = 5;
    /** Slack on a quality score's [0, 1]: a cosine similarity of two unit vectors comes out a few ulps above 1. */
    private static final double SCORE_ROUNDING = 1e-6;
    /** How a run marks an example whose answer failed (a guard, a limit, a provider): its {@code refused} starts with this. */
    private static final String ERROR_MARKER = "error: ";
    /** Most examples a run may hold: as many as a dataset may have ({@link EvalDataset}). */
    public static final int MAX_EXAMPLES = 100_000;
    /**
     * Above this many metric values over all scopes (overall and every slice, times the metrics), intervals and
     * p-values come from the normal approximation and a paired t-test instead of {@value Statistics#RESAMPLES}
     * resamples each: the bootstrap's cost grows with values × resamples, and at this size the two agree to the third
     * decimal. The golden set has about 2,500; 250,000 values keep a comparison within seconds on two cores.
     */
    public static final long RESAMPLED_VALUES = 250_000;

    public RunComparison {
        settings = List.copyOf(settings);
        warnings = List.copyOf(warnings);
        overall = List.copyOf(overall);
        slices = List.copyOf(slices);
        regressions = List.copyOf(regressions);
    }

    /**
     * The gate's limits: the largest allowed drop of a quality metric overall and within a slice (in the metric's
     * units, [0, 1]), the seed of the bootstrap and permutation test, and the metrics to compare (empty: all).
     */
    public record Gate(double maxDrop, double sliceMaxDrop, long seed, List<String> metrics) {
        public static final double DEFAULT_MAX_DROP = 0.03, DEFAULT_SLICE_MAX_DROP = 0.10;
        public static final long DEFAULT_SEED = 42;

        /** Limits outside [0, 1] are refused naming the option: a drop is in the units of a score. */
        public Gate {
            metrics = List.copyOf(metrics);
            if (!(maxDrop >= 0 && maxDrop <= 1)) throw new IllegalArgumentException("--max-drop: expected a drop between 0 and 1, got " + maxDrop);
            if (!(sliceMaxDrop >= 0 && sliceMaxDrop <= 1)) {
                throw new IllegalArgumentException("--slice-max-drop: expected a drop between 0 and 1, got " + sliceMaxDrop);
            }
        }

        public static Gate defaults() {
            return new Gate(DEFAULT_MAX_DROP, DEFAULT_SLICE_MAX_DROP, DEFAULT_SEED, List.of());
        }
    }

    /** One side of the comparison: run id, dataset name, split, dataset fingerprint, example count, judge id. */
    public record RunInfo(String runId, String dataset, String split, String fingerprint, int examples, String judge) {}

    /**
     * A setting that differs between the runs (answer model, prompt hash, config hash, top-k, mode) or, when both runs
     * carry their configuration's values, a configuration key such as {@code answer.context_chunks}.
     */
    public record SettingChange(String setting, String base, String candidate) {}

    /** Whether both runs have a metric (or a slice), or only one of them. */
    public enum Presence { BOTH, BASE_ONLY, CANDIDATE_ONLY }

    /**
     * A metric's (or a slice's metric's) outcome. FAIL: a significant drop beyond the limit; WORSE: a significant drop
     * within it; BETTER: a significant gain; SAME: no significant change; NOT_GATED: ops metrics, metrics or slices one
     * run lacks, slices below {@value #MIN_SLICE_EXAMPLES} examples.
     */
    public enum Verdict { FAIL, WORSE, BETTER, SAME, NOT_GATED }

    /**
     * A metric overall ({@code slice} null) or within a slice: each side's summary (null on the side that lacks it),
     * the number of paired examples, the delta (candidate − base) with its 95% interval and p-value (null when one side
     * lacks the metric), the verdict and a short reason for it.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record MetricDelta(String metric, String slice, MetricKind kind, Presence presence, EvalRun.Summary base, EvalRun.Summary candidate,
                              int paired, Double delta, Double ciLow, Double ciHigh, Double p, Verdict verdict, String why) {
        /** True when the gate judged this metric (it could have failed). */
        public boolean gated() {
            return verdict != Verdict.NOT_GATED;
        }
    }

    /** A failed metric (overall or within {@code slice}) with its worst examples, largest drop first. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Regression(String metric, String slice, List<ExampleChange> worst) {
        public Regression {
            worst = List.copyOf(worst);
        }
    }

    /** One example in both runs: its question, both answers and the metric's value in each. */
    public record ExampleChange(String id, String question, String baseAnswer, String candidateAnswer, double base, double candidate) {}

    /** Refusal to compare: the runs are not of the same examples, or a run's content is unusable. */
    public static final class IncomparableRunsException extends IllegalArgumentException {
        public IncomparableRunsException(String message) {
            super(message);
        }
    }

    /**
     * True when {@code metric} failed the gate overall: its slices' worst examples then repeat the overall ones, so
     * reports show them once, under the overall failure.
     */
    public boolean failedOverall(String metric) {
        return regressions.stream().anyMatch(r -> r.slice() == null && r.metric().equals(metric));
    }

    /** Compares {@code candidate} against {@code base} under {@code gate}. */
    public static RunComparison compare(EvalRun base, EvalRun candidate, Gate gate) {
        checkSameDataset(base, candidate);
        checkComplete(base, "base");
        checkComplete(candidate, "candidate");
        checkAggregateOnly(base, candidate);
        Map<String, EvalRun.ExampleResult> baseById = byId(base, "base"), candById = byId(candidate, "candidate");
        boolean paired = !baseById.isEmpty() && !candById.isEmpty();
        List<Pair> pairs = new ArrayList<>();
        baseById.forEach((id, b) -> {
            EvalRun.ExampleResult c = candById.get(id);
            if (c == null) return;
            // The dataset fingerprints matched (checkSameDataset), so an example's question, reference and tags are the same in both runs:
            // anything else is an edited run file, and a candidate could hide its regressed examples by re-tagging or re-fingerprinting them.
            if (!b.fingerprint().equals(c.fingerprint())) {
                throw new IncomparableRunsException("example '" + id + "' has another fingerprint in the candidate run although both runs are of the"
                        + " same dataset version: a run file was edited; rerun it");
            }
            if (!Objects.equals(slicesOf(b), slicesOf(c))) {
                throw new IncomparableRunsException("example '" + id + "' has other slices in the candidate run (" + slicesOf(c) + ") than in the base run ("
                        + slicesOf(b) + ") although both runs are of the same dataset version: a run file was edited; rerun it");
            }
            pairs.add(new Pair(b, c));
        });
        long missing = baseById.keySet().stream().filter(id -> !candById.containsKey(id)).count();
        if (paired && missing > 0) {
            throw new IncomparableRunsException(String.format(java.util.Locale.ROOT,
                    "the candidate run lacks %d of the base run's %d examples of the same dataset and split: a gate over fewer examples could"
                            + " miss the ones that regressed; rerun the candidate on the whole split", missing, baseById.size()));
        }
        int baseOnly = baseById.size() - pairs.size(), candidateOnly = candById.size() - pairs.size();
        List<String> warnings = new ArrayList<>();
        List<SettingChange> settings = settingChanges(base.settings(), candidate.settings());
        judgeWarnings(base.judge(), candidate.judge(), warnings);
        List<String> changed = settings.stream().map(SettingChange::setting).filter(s -> !s.equals("config hash")).toList();
        if (changed.size() > 1) {
            warnings.add("more than one setting differs (" + String.join(", ", changed) + "): the deltas cannot be attributed to one change");
        }
        if (!paired) {
            warnings.add((baseById.isEmpty() ? "the base run" : "the candidate run") + " keeps only aggregates (locked test split):"
                    + " compared unpaired from the runs' summary intervals (Welch); no per-example deltas or worst examples");
        } else if (baseOnly + candidateOnly > 0) {
            warnings.add(String.format(java.util.Locale.ROOT, "paired on %d examples: %d only in base, %d only in candidate",
                    pairs.size(), baseOnly, candidateOnly));
        }
        errorWarning("base", base, warnings);
        errorWarning("candidate", candidate, warnings);
        base.warnings().forEach(w -> warnings.add("base run: " + w));
        candidate.warnings().forEach(w -> warnings.add("candidate run: " + w));

        Set<String> metrics = metricNames(base, candidate, paired, gate.metrics());
        long values = metrics.size() * (pairs.size() + pairs.stream().mapToLong(p -> p.base().slices() == null ? 0 : p.base().slices().size()).sum());
        Estimator est = new Estimator(gate.seed(), values <= RESAMPLED_VALUES);
        if (!est.resample()) {
            warnings.add(String.format(java.util.Locale.ROOT, "%,d metric values over all slices (more than %,d): intervals from the normal"
                    + " approximation and p-values from a paired t-test instead of resampling", values, RESAMPLED_VALUES));
        }
        List<MetricDelta> overall = new ArrayList<>(), slices = new ArrayList<>();
        List<Regression> regressions = new ArrayList<>();
        Scope all = new Scope(List.copyOf(baseById.values()), List.copyOf(candById.values()), pairs);
        for (String metric : metrics) {
            MetricDelta d = paired ? pairedDelta(metric, null, all, gate, est)
                    : unpairedDelta(metric, null, base.overall().get(metric), candidate.overall().get(metric), gate);
            if (d == null) continue;
            overall.add(d);
            if (d.verdict() == Verdict.FAIL) regressions.add(new Regression(metric, null, worst(metric, all)));
        }
        Set<String> sliceNames = sliceNames(base, candidate, paired);
        if (metrics.size() > MAX_METRICS || sliceNames.size() > MAX_SLICES) {
            throw new IncomparableRunsException(String.format(java.util.Locale.ROOT, "the runs have %d metrics and %d slices: at most %d and %d can be compared",
                    metrics.size(), sliceNames.size(), MAX_METRICS, MAX_SLICES));
        }
        Map<String, Scope> bySlice = paired ? all.bySlice() : Map.of();
        for (String slice : sliceNames) {
            Scope inSlice = paired ? bySlice.getOrDefault(slice, Scope.EMPTY) : null;
            for (String metric : metrics) {
                MetricDelta d = paired ? pairedDelta(metric, slice, inSlice, gate, est)
                        : unpairedDelta(metric, slice, sliceSummary(base, slice, metric), sliceSummary(candidate, slice, metric), gate);
                if (d == null) continue;
                slices.add(d);
                if (d.verdict() == Verdict.FAIL) regressions.add(new Regression(metric, slice, worst(metric, inSlice)));
            }
        }
        return new RunComparison(FORMAT, info(base, baseById.size()), info(candidate, candById.size()), gate, paired, pairs.size(),
                baseOnly, candidateOnly, settings, warnings, overall, slices, regressions,
                !regressions.isEmpty());
    }

    /** How intervals and p-values are computed: resampled (bootstrap and permutation test, seeded), or their normal approximations for large comparisons. */
    private record Estimator(long seed, boolean resample) {
        Statistics.Interval mean(double[] values) {
            return resample ? Statistics.bootstrapMean(values, seed) : Statistics.normalMean(values);
        }

        Statistics.Interval difference(double[] base, double[] candidate) {
            return resample ? Statistics.pairedDifference(base, candidate, seed) : Statistics.pairedNormalDifference(base, candidate);
        }

        double p(double[] base, double[] candidate) {
            return resample ? Statistics.pairedPermutationP(base, candidate, seed) : Statistics.pairedTP(base, candidate);
        }
    }

    private record Pair(EvalRun.ExampleResult base, EvalRun.ExampleResult candidate) {
        /** One run answered and the other declined: answer metrics may then apply to one side only (refusal_correct judges the change). */
        boolean answeredDifferently() {
            return base.answered() != null && candidate.answered() != null && !base.answered().equals(candidate.answered());
        }
    }

    private static java.util.Set<String> slicesOf(EvalRun.ExampleResult e) {
        return e.slices() == null ? java.util.Set.of() : new java.util.HashSet<>(e.slices());
    }

    /** The examples a delta is computed over: each run's (for one-sided metrics) and the matched pairs; a slice's pairs are in it in both runs. */
    private record Scope(List<EvalRun.ExampleResult> base, List<EvalRun.ExampleResult> candidate, List<Pair> pairs) {
        static final Scope EMPTY = new Scope(List.of(), List.of(), List.of());

        /**
         * Every slice's scope, built in one pass over the examples (a pair is in the slices its examples share: the same,
         * as compare refuses runs whose tags for an example differ), so the work is the number of tags, not slices × examples.
         */
        Map<String, Scope> bySlice() {
            Map<String, List<EvalRun.ExampleResult>> b = new LinkedHashMap<>(), c = new LinkedHashMap<>();
            Map<String, List<Pair>> p = new LinkedHashMap<>();
            for (EvalRun.ExampleResult e : base) for (String slice : slicesOf(e)) b.computeIfAbsent(slice, x -> new ArrayList<>()).add(e);
            for (EvalRun.ExampleResult e : candidate) for (String slice : slicesOf(e)) c.computeIfAbsent(slice, x -> new ArrayList<>()).add(e);
            for (Pair pair : pairs) for (String slice : slicesOf(pair.base())) p.computeIfAbsent(slice, x -> new ArrayList<>()).add(pair);
            Map<String, Scope> out = new java.util.HashMap<>();
            Set<String> names = new java.util.HashSet<>(b.keySet());
            names.addAll(c.keySet());
            for (String slice : names) out.put(slice, new Scope(b.getOrDefault(slice, List.of()), c.getOrDefault(slice, List.of()), p.getOrDefault(slice, List.of())));
            return out;
        }
    }

    /** Refuses a run whose judge failed on some examples: its judge metrics are partial, not a measurement to gate on. */
    private static void checkComplete(EvalRun run, String side) {
        boolean judgeErrors = run.examples().stream().anyMatch(e -> e != null && e.reasons() != null && e.reasons().containsKey(EvalRunner.JUDGE_ERROR));
        if (EvalRunner.incomplete(run).isPresent() || judgeErrors) {
            throw new IncomparableRunsException("the " + side + " run (" + run.runId() + ") is incomplete: its judge failed on some examples, so its"
                    + " judge metrics are partial; rerun it once the judge works");
        }
    }

    private static void checkSameDataset(EvalRun base, EvalRun candidate) {
        EvalRun.DatasetInfo b = base.dataset(), c = candidate.dataset();
        if (b == null || c == null) throw new IncomparableRunsException((b == null ? "the base run" : "the candidate run") + " names no dataset");
        for (EvalRun.DatasetInfo d : List.of(b, c)) {
            String side = d == b ? "the base run" : "the candidate run";
            if (d.fingerprint() == null) throw new IncomparableRunsException(side + " has no dataset fingerprint: it cannot be shown to be of the same examples");
            if (d.split() == null) throw new IncomparableRunsException(side + " names no split (dev, test or all)");
        }
        if (!b.fingerprint().equals(c.fingerprint())) {
            throw new IncomparableRunsException("the runs evaluated different datasets: base " + b.name() + " (fingerprint " + shortHash(b.fingerprint())
                    + ") vs candidate " + c.name() + " (fingerprint " + shortHash(c.fingerprint()) + "); compare runs over the same dataset version");
        }
        if (!Objects.equals(b.name(), c.name())) {
            throw new IncomparableRunsException("the runs name different datasets: base " + b.name() + ", candidate " + c.name());
        }
        if (b.locked() != c.locked()) {
            throw new IncomparableRunsException("the dataset is locked in " + (b.locked() ? "the base" : "the candidate") + " run only");
        }
        if (!b.split().equals(c.split())) {
            throw new IncomparableRunsException("the runs evaluated different splits: base " + b.split() + ", candidate " + c.split());
        }
    }

    /**
     * Refuses a run without examples unless both are aggregate-only runs of a locked test split, and checks such
     * runs' summaries: at least one example, finite numbers, the mean inside its interval, quality metrics in [0, 1].
     */
    private static void checkAggregateOnly(EvalRun base, EvalRun candidate) {
        boolean baseEmpty = base.examples().isEmpty(), candEmpty = candidate.examples().isEmpty();
        if (!baseEmpty && !candEmpty) return;
        for (EvalRun run : List.of(base, candidate)) {
            String side = run == base ? "the base run" : "the candidate run";
            if (!run.examples().isEmpty() || !run.dataset().locked() || !"test".equals(run.dataset().split())) {
                throw new IncomparableRunsException((baseEmpty ? "the base run" : "the candidate run") + " has no examples: only two runs of a locked"
                        + " dataset's test split are compared from their aggregates (" + side + (run.examples().isEmpty() ? " has none" : " has examples")
                        + ", split " + run.dataset().split() + (run.dataset().locked() ? ", locked)" : ", not locked)"));
            }
            run.overall().forEach((metric, s) -> checkSummary(side, metric, s));
        }
    }

    private static boolean inUnitRange(double score) {
        return score >= -SCORE_ROUNDING && score <= 1 + SCORE_ROUNDING;
    }

    /**
     * The widest half 95% interval a mean of {@code n} scores in [0, 1] can honestly have: 1.96 standard errors of the
     * most spread sample (half zeros, half ones: 0.5 / √n), with a quarter more and 0.01 for the bootstrap's percentile
     * intervals on small samples. A wider interval (an aggregate-only run edited to hide a drop behind its own
     * uncertainty) is refused.
     */
    static double widestHalfInterval(int n) {
        return 1.25 * 1.96 * 0.5 / Math.sqrt(n) + 0.01;
    }

    private static void checkSummary(String side, String metric, EvalRun.Summary s) {
        String problem = s == null ? "no summary"
                : s.n() < 1 ? "n " + s.n()
                : !(Double.isFinite(s.mean()) && Double.isFinite(s.ciLow()) && Double.isFinite(s.ciHigh())) ? "a non-finite mean or interval"
                : !(s.ciLow() <= s.mean() && s.mean() <= s.ciHigh()) ? "its mean outside its interval"
                : MetricKind.of(metric) == MetricKind.QUALITY && !(inUnitRange(s.ciLow()) && inUnitRange(s.ciHigh())) ? "values outside [0, 1]"
                : MetricKind.of(metric) == MetricKind.QUALITY && Math.max(s.mean() - s.ciLow(), s.ciHigh() - s.mean()) > widestHalfInterval(s.n())
                        ? "an interval wider than a [0, 1] score over " + s.n() + " examples can have" : null;
        if (problem != null) throw new IncomparableRunsException(side + "'s summary of " + metric + " has " + problem);
    }

    /** The run's examples by id; a missing or repeated id, or a non-finite metric value, makes the run unusable. */
    private static Map<String, EvalRun.ExampleResult> byId(EvalRun run, String side) {
        if (run.examples().size() > MAX_EXAMPLES) {
            throw new IncomparableRunsException(String.format(java.util.Locale.ROOT, "the %s run has %,d examples: at most %,d can be compared",
                    side, run.examples().size(), MAX_EXAMPLES));
        }
        Map<String, EvalRun.ExampleResult> byId = new LinkedHashMap<>();
        for (int i = 0; i < run.examples().size(); i++) {
            EvalRun.ExampleResult e = run.examples().get(i);
            if (e == null || e.id() == null) throw new IncomparableRunsException("the " + side + " run's example " + (i + 1) + " has no id");
            if (byId.put(e.id(), e) != null) throw new IncomparableRunsException("the " + side + " run has example id '" + e.id() + "' twice");
            if (e.fingerprint() == null) throw new IncomparableRunsException("the " + side + " run's example '" + e.id() + "' has no fingerprint");
            if (e.slices() != null && e.slices().stream().anyMatch(Objects::isNull)) {
                throw new IncomparableRunsException("the " + side + " run's example '" + e.id() + "' has a slice that is not a name (null)");
            }
            if (e.metrics() == null) continue;
            e.metrics().forEach((metric, value) -> {
                if (value != null && (!Double.isFinite(value) || MetricKind.of(metric) == MetricKind.QUALITY && !inUnitRange(value))) {
                    throw new IncomparableRunsException("the " + side + " run's example '" + e.id() + "' has " + metric + " = " + value
                            + (Double.isFinite(value) ? " (a quality score is in [0, 1])" : ""));
                }
            });
        }
        return byId;
    }

    /** Names the run when some of its examples hold an error instead of an answer (their metrics may be missing or zero). */
    private static void errorWarning(String side, EvalRun run, List<String> warnings) {
        List<String> failed = run.examples().stream().filter(e -> e.refused() != null && e.refused().startsWith(ERROR_MARKER))
                .map(EvalRun.ExampleResult::id).toList();
        if (failed.isEmpty()) return;
        warnings.add("the " + side + " run (" + run.runId() + ") has " + failed.size() + " example" + (failed.size() == 1 ? "" : "s")
                + " that ended in an error instead of an answer: " + String.join(", ", failed.stream().limit(WORST_EXAMPLES).toList())
                + (failed.size() > WORST_EXAMPLES ? ", …" : ""));
    }

    private static RunInfo info(EvalRun run, int examples) {
        EvalRun.DatasetInfo d = run.dataset();
        return new RunInfo(run.runId(), d.name(), d.split(), d.fingerprint(), examples > 0 ? examples : d.examples(),
                run.judge() == null ? null : run.judge().id());
    }

    private static List<SettingChange> settingChanges(EvalRun.Settings b, EvalRun.Settings c) {
        List<SettingChange> changes = new ArrayList<>();
        if (b == null || c == null) return changes;
        addIfDifferent(changes, "mode", b.mode(), c.mode());
        addIfDifferent(changes, "answer model", b.answerModel(), c.answerModel());
        addIfDifferent(changes, "prompt hash", b.promptHash(), c.promptHash());
        addIfDifferent(changes, "config hash", b.configHash(), c.configHash());
        addIfDifferent(changes, "top-k", String.valueOf(b.topK()), String.valueOf(c.topK()));
        if (b.config() != null && c.config() != null) {
            new TreeSet<>(java.util.stream.Stream.concat(b.config().keySet().stream(), c.config().keySet().stream()).toList())
                    .forEach(key -> addIfDifferent(changes, key, b.config().get(key), c.config().get(key)));
        }
        return changes;
    }

    private static void addIfDifferent(List<SettingChange> changes, String setting, String base, String candidate) {
        if (!Objects.equals(base, candidate)) changes.add(new SettingChange(setting, base, candidate));
    }

    private static void judgeWarnings(EvalRun.JudgeInfo b, EvalRun.JudgeInfo c, List<String> warnings) {
        String bId = b == null ? null : b.id(), cId = c == null ? null : c.id();
        if (!Objects.equals(bId, cId)) {
            warnings.add("the runs' judges differ (base " + bId + ", candidate " + cId + "): judge-scored metrics (faithfulness, answer_relevance,"
                    + " citation_accuracy, correctness_judge) may move because the judge changed, not the answers");
        }
        Map<String, EvalRun.JudgeInfo> uncalibrated = new LinkedHashMap<>();
        for (EvalRun.JudgeInfo judge : java.util.Arrays.asList(b, c)) {
            if (judge != null && Boolean.FALSE.equals(judge.calibrated())) uncalibrated.putIfAbsent(judge.id(), judge);
        }
        uncalibrated.values().forEach(judge -> warnings.add("judge " + judge.id() + " is uncalibrated (below 80% agreement or 0.4 kappa with human labels"
                + (judge.agreement() == null ? "" : String.format(java.util.Locale.ROOT, ": %.0f%%", 100 * judge.agreement()))
                + "): treat its scores with care"));
    }

    /** Every metric either run has (per example when paired, in the overall summaries otherwise), or the requested ones. */
    private static Set<String> metricNames(EvalRun base, EvalRun candidate, boolean paired, List<String> requested) {
        TreeSet<String> all = new TreeSet<>(Comparator.comparing(MetricKind::of).thenComparing(Comparator.naturalOrder()));
        for (EvalRun run : List.of(base, candidate)) {
            if (paired) {
                run.examples().forEach(e -> {
                    if (e.metrics() != null) e.metrics().forEach((m, v) -> { if (v != null) all.add(m); });
                });
            } else {
                all.addAll(run.overall().keySet());
            }
        }
        if (requested.isEmpty()) return all;
        for (String m : requested) {
            if (!all.contains(m)) throw new IllegalArgumentException("--metrics: neither run has a metric '" + m + "' (they have " + String.join(", ", all) + ")");
        }
        Set<String> chosen = new TreeSet<>(all.comparator());
        chosen.addAll(requested);
        return chosen;
    }

    private static Set<String> sliceNames(EvalRun base, EvalRun candidate, boolean paired) {
        Set<String> names = new TreeSet<>();
        for (EvalRun run : List.of(base, candidate)) {
            if (paired) {
                run.examples().forEach(e -> { if (e.slices() != null) names.addAll(e.slices()); });
            } else {
                names.addAll(run.slices().keySet());
            }
        }
        return names;
    }

    private static EvalRun.Summary sliceSummary(EvalRun run, String slice, String metric) {
        Map<String, EvalRun.Summary> s = run.slices().get(slice);
        return s == null ? null : s.get(metric);
    }

    /** The metric over the pairs in scope; null when neither run has it there. */
    private static MetricDelta pairedDelta(String metric, String slice, Scope scope, Gate gate, Estimator est) {
        double[] b = values(scope.base(), metric), c = values(scope.candidate(), metric);
        if (b.length == 0 && c.length == 0) return null;
        if (slice == null && c.length == 0 && MetricKind.of(metric) == MetricKind.QUALITY) {
            return missingInCandidate(metric, Presence.BASE_ONLY, summary(metric, b, est), null, 0, null, null, b.length, b.length);
        }
        if (b.length == 0 || c.length == 0) {
            Presence presence = b.length == 0 ? Presence.CANDIDATE_ONLY : Presence.BASE_ONLY;
            return new MetricDelta(metric, slice, MetricKind.of(metric), presence, b.length == 0 ? null : summary(metric, b, est),
                    c.length == 0 ? null : summary(metric, c, est), 0, null, null, null, null, Verdict.NOT_GATED,
                    "only the " + (b.length == 0 ? "candidate" : "base") + " run has " + (slice == null ? "this metric" : "it in this slice"));
        }
        List<double[]> matched = new ArrayList<>();
        int baseHas = 0, candidateLacks = 0;
        for (Pair p : scope.pairs()) {
            Double bv = value(p.base(), metric), cv = value(p.candidate(), metric);
            if (bv != null && cv != null) matched.add(new double[] {bv, cv});
            if (bv != null && !p.answeredDifferently()) {
                baseHas++;
                if (cv == null) candidateLacks++;
            }
        }
        double[] pb = matched.stream().mapToDouble(v -> v[0]).toArray(), pc = matched.stream().mapToDouble(v -> v[1]).toArray();
        if (pb.length == 0) {
            return new MetricDelta(metric, slice, MetricKind.of(metric), Presence.BOTH, summary(metric, b, est), summary(metric, c, est),
                    0, null, null, null, null, Verdict.NOT_GATED, "no example has it in both runs");
        }
        Statistics.Interval diff = est.difference(pb, pc);
        double p = est.p(pb, pc);
        if (slice == null && candidateLacks > 0 && MetricKind.of(metric) == MetricKind.QUALITY) {
            return missingInCandidate(metric, Presence.BOTH, summary(metric, pb, est), summary(metric, pc, est), pb.length, diff,
                    p, candidateLacks, baseHas);
        }
        return delta(metric, slice, summary(metric, pb, est), summary(metric, pc, est), pb.length, diff, p, gate);
    }

    /**
     * A quality metric the candidate lacks on examples where the base has it (unless one run answered and the other declined):
     * a failed judge or a renamed metric must not pass the gate by leaving the drop unmeasured, so it fails.
     */
    private static MetricDelta missingInCandidate(String metric, Presence presence, EvalRun.Summary b, EvalRun.Summary c, int paired,
                                                  Statistics.Interval diff, Double p, int missing, int of) {
        return new MetricDelta(metric, null, MetricKind.QUALITY, presence, b, c, paired, diff == null ? null : diff.mean(),
                diff == null ? null : diff.low(), diff == null ? null : diff.high(), p, Verdict.FAIL,
                "missing in the candidate: " + missing + " of " + of + " examples");
    }

    /** The metric compared from two summaries (runs without examples): Welch's test on the standard errors their intervals imply. */
    private static MetricDelta unpairedDelta(String metric, String slice, EvalRun.Summary b, EvalRun.Summary c, Gate gate) {
        if (b == null && c == null) return null;
        if (slice == null && b != null && MetricKind.of(metric) == MetricKind.QUALITY && (c == null || c.n() < b.n())) {
            return missingInCandidate(metric, c == null ? Presence.BASE_ONLY : Presence.BOTH, b, c, 0, null, null, c == null ? b.n() : b.n() - c.n(), b.n());
        }
        if (b == null || c == null) {
            return new MetricDelta(metric, slice, MetricKind.of(metric), b == null ? Presence.CANDIDATE_ONLY : Presence.BASE_ONLY, b, c, 0,
                    null, null, null, null, Verdict.NOT_GATED, "only the " + (b == null ? "candidate" : "base") + " run has it");
        }
        double seB = (b.ciHigh() - b.ciLow()) / (2 * Statistics.Z_975), seC = (c.ciHigh() - c.ciLow()) / (2 * Statistics.Z_975);
        double delta = c.mean() - b.mean(), se = Math.sqrt(seB * seB + seC * seC);
        double p;
        if (se == 0) {
            p = delta == 0 ? 1 : 0;
        } else {
            double vb = seB * seB, vc = seC * seC;
            double df = (vb + vc) * (vb + vc) / (vb * vb / Math.max(1, b.n() - 1) + vc * vc / Math.max(1, c.n() - 1));
            p = Statistics.studentTwoSidedP(Math.abs(delta) / se, df);
        }
        Statistics.Interval diff = new Statistics.Interval(delta, delta - Statistics.Z_975 * se, delta + Statistics.Z_975 * se);
        return delta(metric, slice, b, c, Math.min(b.n(), c.n()), diff, p, gate);
    }

    private static MetricDelta delta(String metric, String slice, EvalRun.Summary b, EvalRun.Summary c, int n, Statistics.Interval diff, double p,
                                     Gate gate) {
        MetricKind kind = MetricKind.of(metric);
        double drop = -diff.mean(), limit = slice == null ? gate.maxDrop() : gate.sliceMaxDrop();
        boolean significantDrop = diff.high() < 0 && p < ALPHA, significantGain = diff.low() > 0 && p < ALPHA;
        Verdict verdict;
        String why;
        if (kind == MetricKind.OPS) {
            verdict = Verdict.NOT_GATED;
            why = "operations metric: reported, not gated";
        } else if (kind == MetricKind.OTHER) {
            verdict = Verdict.NOT_GATED;
            why = "unknown metric: reported, not gated";
        } else if (slice != null && n < MIN_SLICE_EXAMPLES) {
            verdict = Verdict.NOT_GATED;
            why = n + " paired examples (< " + MIN_SLICE_EXAMPLES + "): reported, not gated";
        } else if (significantDrop && drop > limit) {
            verdict = Verdict.FAIL;
            why = String.format(java.util.Locale.ROOT, "drop %.3f > %.3f allowed, interval below zero, p %.4f", drop, limit, p);
        } else if (significantDrop) {
            verdict = Verdict.WORSE;
            why = String.format(java.util.Locale.ROOT, "significant drop %.3f within the %.3f allowed", drop, limit);
        } else if (significantGain) {
            verdict = Verdict.BETTER;
            why = "significant gain";
        } else {
            verdict = Verdict.SAME;
            why = "no significant change";
        }
        return new MetricDelta(metric, slice, kind, Presence.BOTH, b, c, n, diff.mean(), diff.low(), diff.high(), p, verdict, why);
    }

    private static EvalRun.Summary summary(String metric, double[] values, Estimator est) {
        Statistics.Interval i = est.mean(values);
        boolean timing = MetricKind.of(metric) == MetricKind.OPS;
        return new EvalRun.Summary(i.mean(), i.low(), i.high(), values.length, timing ? Statistics.percentile(values, 50) : null,
                timing ? Statistics.percentile(values, 95) : null);
    }

    private static double[] values(List<EvalRun.ExampleResult> examples, String metric) {
        return examples.stream().map(e -> value(e, metric)).filter(Objects::nonNull).mapToDouble(Double::doubleValue).toArray();
    }

    private static Double value(EvalRun.ExampleResult e, String metric) {
        return e.metrics() == null ? null : e.metrics().get(metric);
    }

    /** The pairs in scope whose metric dropped, largest drop first, at most {@value #WORST_EXAMPLES}. */
    private static List<ExampleChange> worst(String metric, Scope scope) {
        return scope.pairs().stream()
                .filter(p -> value(p.base(), metric) != null && value(p.candidate(), metric) != null)
                .map(p -> new ExampleChange(p.base().id(), p.base().question(), p.base().answer(), p.candidate().answer(),
                        value(p.base(), metric), value(p.candidate(), metric)))
                .filter(x -> x.candidate() < x.base())
                .sorted(Comparator.comparingDouble((ExampleChange x) -> x.candidate() - x.base()).thenComparing(ExampleChange::id))
                .limit(WORST_EXAMPLES).toList();
    }

    private static String shortHash(String hash) {
        return hash.length() > 12 ? hash.substring(0, 12) : hash;
    }
}
