package dev.keel.eval;

import dev.keel.Keel;
import dev.keel.embed.Vectors;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.GatewayCache;
import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.model.ApiException;
import dev.keel.model.ProviderException;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerEngine;
import dev.keel.rag.AnswerEvents;
import dev.keel.rag.AnswerRequest;
import dev.keel.rag.Citation;
import dev.keel.trace.SpanRecord;
import dev.keel.trace.Trace;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Runs an evaluation dataset through a Keel and returns the {@link EvalRun}. In {@link Mode#FULL} every question is
 * answered as {@code POST /v1/answer} answers it (streamed when a model writes the answer, to time its first token),
 * in the run's tenant, and scored: the ranked retrieval metrics at k over a hybrid search {@code topK} deep with the
 * configured search settings (one search per question besides the answer, in a trace of its own, outside the timings),
 * context precision and recall over the answer's context, the {@link Judge}'s answer metrics, token F1
 * and semantic similarity against the reference, facts, refusal correctness, and the operations (latency, time to
 * first token, tokens, cost, cache hits). In {@link Mode#RETRIEVAL} every question is only searched (hybrid, the
 * configured search settings, {@code topK} deep). A metric that does not apply to an example is absent from it;
 * aggregates (overall and per slice) are means with a seeded bootstrap 95% interval. A locked dataset's test split
 * yields overall aggregates only, and its whole ({@code split} null) is refused. Examples run one after another, so
 * latencies are not inflated by each other. Thread-safe if the judge is; a run writes only its traces.
 */
public final class EvalRunner {
    /** What each example goes through: the whole answer pipeline, or retrieval alone. */
    public enum Mode { FULL, RETRIEVAL }

    /**
     * A run's settings: the mode, the split ({@code null}: all examples), the tenant whose corpus answers, the k of the
     * retrieval metrics (and the search depth of a retrieval-only run) and the bootstrap seed.
     */
    public record Options(Mode mode, EvalExample.Split split, String tenant, int topK, long seed) {
        public Options {
            if (topK < 1) throw new IllegalArgumentException("top-k must be at least 1, got " + topK);
        }
    }

    /** Told after each example. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> {};

        void example(int done, int total);
    }

    public static final String CONTEXT_PRECISION = "context_precision", CONTEXT_RECALL = "context_recall", CORRECTNESS_F1 = "correctness_f1",
            CORRECTNESS_SEMANTIC = "correctness_semantic", FACTS = "facts", REFUSAL_CORRECT = "refusal_correct", LATENCY_MS = "latency_ms",
            TTFT_MS = "ttft_ms", TOKENS = "tokens", COST_USD = "cost_usd", CACHE_HIT = "cache_hit", MRR = "mrr";
    /** How reports list metrics: retrieval, context, answers, operations (a {@code name@k} by its name); others after them, by name. */
    public static final Comparator<String> METRIC_ORDER = Comparator.comparingInt(EvalRunner::rank).thenComparing(Comparator.naturalOrder());
    private static final List<String> ORDER = List.of("recall@", "precision@", MRR, "ndcg@", "hit_rate@", CONTEXT_PRECISION, CONTEXT_RECALL,
            Judge.FAITHFULNESS, Judge.ANSWER_RELEVANCE, Judge.CITATION_ACCURACY, CORRECTNESS_F1, CORRECTNESS_SEMANTIC, Judge.CORRECTNESS, FACTS,
            REFUSAL_CORRECT, LATENCY_MS, TTFT_MS, TOKENS, COST_USD, CACHE_HIT);
    /** Metrics whose aggregate also carries p50 and p95: the timings. */
    private static final Set<String> TIMINGS = Set.of(LATENCY_MS, TTFT_MS);
    private static final Set<String> JUDGE_METRICS = Set.of(Judge.FAITHFULNESS, Judge.ANSWER_RELEVANCE, Judge.CORRECTNESS, Judge.CITATION_ACCURACY);
    /** What the run's results say of a question whose answer Keel could not give (a guard or a limit refused it): its error code. */
    private static final String ERROR_PREFIX = "error: ";
    /** The reason an example's judge metrics are missing, under this key of its {@code reasons}: what the judge said when it failed. */
    public static final String JUDGE_ERROR = "judge_error";
    /** How the warning of a run whose judge failed on some examples begins (see {@link #incomplete}). */
    public static final String INCOMPLETE = "incomplete: ";

    private final Keel keel;
    private final Judge judge;
    private final EvalRun.JudgeInfo judgeInfo;
    private final String judgeWarning;

    /** A runner whose judge has no calibration on record. */
    public EvalRunner(Keel keel, Judge judge) {
        this(keel, judge, new EvalRun.JudgeInfo(judge.id(), judge.family(), null, null, null), null);
    }

    /**
     * A runner whose runs name the judge as {@code judgeInfo} says (its calibration: {@link Calibration#judgeInfo}) and
     * carry {@code judgeWarning} (null: none), such as a judge of the judged model's own family.
     */
    public EvalRunner(Keel keel, Judge judge, EvalRun.JudgeInfo judgeInfo, String judgeWarning) {
        this.keel = keel;
        this.judge = judge;
        this.judgeInfo = judgeInfo;
        this.judgeWarning = judgeWarning;
    }

    /**
     * The warning saying that the run's judge failed on some examples (their judge metrics are missing, the per-example
     * reason is under {@link #JUDGE_ERROR}), if it has one: such a run is incomplete, not a measurement to gate on.
     */
    public static java.util.Optional<String> incomplete(EvalRun run) {
        return run.warnings() == null ? java.util.Optional.empty() : run.warnings().stream().filter(w -> w.startsWith(INCOMPLETE)).findFirst();
    }

    /** Metric names at {@code k}: {@code recall@k} and so on. */
    public static String recallAt(int k) {
        return "recall@" + k;
    }

    public static String precisionAt(int k) {
        return "precision@" + k;
    }

    public static String ndcgAt(int k) {
        return "ndcg@" + k;
    }

    public static String hitRateAt(int k) {
        return "hit_rate@" + k;
    }

    /**
     * Runs {@code dataset}'s examples of {@code options.split()}. A locked dataset run over all its examples, or a split
     * without examples, is an {@link IllegalArgumentException} saying so, before any question is asked.
     */
    public EvalRun run(EvalDataset dataset, Options options, Progress progress) {
        if (dataset.locked() && options.split() == null) {
            throw new IllegalArgumentException("dataset " + dataset.name() + " is locked: a run over all of it (--split all) would report its test split example"
                    + " by example; run --split dev, or --split test for aggregates only");
        }
        List<EvalExample> examples = dataset.examples(options.split());
        String splitName = options.split() == null ? "all" : options.split().name().toLowerCase(Locale.ROOT);
        if (examples.isEmpty()) throw new IllegalArgumentException("dataset " + dataset.name() + " has no examples in the " + splitName + " split");
        boolean aggregatesOnly = dataset.locked() && options.split() == EvalExample.Split.TEST;
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        AnswerEngine engine = keel.answers();
        String answerModel = engine.modelOf(new AnswerRequest(options.tenant(), "?", SearchFilters.NONE));
        List<String> warnings = new ArrayList<>();
        if (options.mode() == Mode.FULL) {
            AnswerEngine.PromptText prompt = engine.promptText();
            warnings.addAll(PromptLeakage.check(prompt.name(), prompt.text(), dataset.examples()));
        }
        if (aggregatesOnly) warnings.add("locked dataset " + dataset.name() + ": its test split is reported as overall aggregates only");
        List<Scored> scored = new ArrayList<>();
        JudgeTrouble trouble = new JudgeTrouble();
        for (EvalExample e : examples) {
            scored.add(options.mode() == Mode.FULL ? answer(e, options, trouble) : search(e, options));
            progress.example(scored.size(), examples.size());
        }
        warnings.addAll(trouble.warnings(judge.id(), examples.size()));
        Map<String, EvalRun.Summary> overall = summarise(scored.stream().map(s -> s.result().metrics()).toList(), options.seed());
        Map<String, Map<String, EvalRun.Summary>> slices = new TreeMap<>();
        if (!aggregatesOnly) {
            Map<String, List<Map<String, Double>>> bySlice = new TreeMap<>();
            for (Scored s : scored) for (String slice : s.example().slices()) bySlice.computeIfAbsent(slice, x -> new ArrayList<>()).add(s.result().metrics());
            bySlice.forEach((slice, metrics) -> slices.put(slice, summarise(metrics, options.seed())));
        }
        EvalRun.DatasetInfo info = new EvalRun.DatasetInfo(dataset.name(), dataset.path() == null ? null : underWorkingDirectory(dataset.path().toString()), dataset.locked(),
                splitName, examples.size(), dataset.fingerprint());
        EvalRun.Settings settings = new EvalRun.Settings(options.mode().name().toLowerCase(Locale.ROOT),
                options.mode() == Mode.FULL ? answerModel : null, engine.promptHash(), ConfigHash.of(keel.config()), options.topK(), options.seed(),
                ConfigHash.values(keel.config()));
        if (options.mode() == Mode.FULL && judgeWarning != null) warnings.add(judgeWarning);
        if (options.mode() == Mode.FULL && judgeInfo.calibrated() == null && judge instanceof LlmJudge llm) {
            warnings.add("judge %s has never been calibrated: keel eval calibrate --labels FILE --judge %s".formatted(judgeInfo.id(), llm.model()));
        }
        if (options.mode() == Mode.FULL && Boolean.FALSE.equals(judgeInfo.calibrated())) {
            warnings.add("judge %s is UNCALIBRATED: it agreed with human labels on %.0f%%, Cohen's kappa %.2f (calibrated: at least %.0f%% and %.1f)"
                    .formatted(judgeInfo.id(), 100 * judgeInfo.agreement(), judgeInfo.kappa(), 100 * Calibration.CALIBRATED_AGREEMENT, Calibration.MIN_KAPPA));
        }
        return new EvalRun(EvalRun.FORMAT, UUID.randomUUID().toString(), started, (System.nanoTime() - t0) / 1e9, info, settings,
                options.mode() == Mode.FULL ? judgeInfo : null, warnings,
                overall, slices, aggregatesOnly ? List.of() : scored.stream().map(Scored::result).toList());
    }

    /** One example's result and the example it is of. */
    private record Scored(EvalExample example, EvalRun.ExampleResult result) {}

    private Scored answer(EvalExample e, Options options, JudgeTrouble trouble) {
        AnswerEngine engine = keel.answers();
        ChatGateway.Caller caller = new ChatGateway.Caller(options.tenant(), null, null);
        AnswerRequest request = new AnswerRequest(options.tenant(), e.question(), SearchFilters.NONE, null, caller);
        boolean model = !keel.config().answer().extractive(engine.modelOf(request));
        Trace trace = keel.traces().start("eval.answer", options.tenant());
        long start = System.nanoTime();
        Answer a;
        try {
            a = model ? engine.stream(request, trace, AnswerEvents.NONE) : engine.answer(request, trace);
        } catch (ApiException refused) {
            a = new Answer("", false, List.of(), List.of(), 0, trace.id()).withheld("", ERROR_PREFIX + (refused.code() != null ? refused.code() : refused.type()));
        } catch (ProviderException failed) {
            // A stream that broke after its first byte has no fallback: the example records the failure and the run goes on.
            a = new Answer("", false, List.of(), List.of(), 0, trace.id()).withheld("", ERROR_PREFIX + "provider_" + failed.kind().name().toLowerCase(Locale.ROOT));
        } finally {
            trace.finish();
        }
        double latencyMs = (System.nanoTime() - start) / 1e6;
        List<ChunkRecord> context = a.sources().stream().map(SearchHit::chunk).toList();
        Map<String, Double> metrics = new LinkedHashMap<>();
        Map<String, String> reasons = new LinkedHashMap<>();
        // The answer's context is answer.context_chunks deep, not k: ranked metrics at k over it would move with the context size.
        if (e.answerable() && !e.relevant().isEmpty()) {
            Trace search = keel.traces().start("eval.search", options.tenant());
            try {
                rankedMetrics(e, searched(e, options, search), options.topK(), metrics);
            } finally {
                search.finish();
            }
        }
        contextMetrics(e, context, options.tenant(), metrics);
        metrics.put(REFUSAL_CORRECT, e.answerable() == a.answered() ? 1.0 : 0.0);
        if (e.answerable()) correctness(e, a, metrics);
        judged(e, a, options.tenant(), metrics, reasons, trouble);
        metrics.put(LATENCY_MS, latencyMs);
        if (a.ttftMs() != null) metrics.put(TTFT_MS, a.ttftMs());
        operations(trace, caller, metrics);
        List<String> cited = a.citations().stream().map(EvalRunner::name).toList();
        return new Scored(e, result(e, a.text(), a.answered(), a.refused(), cited, context, metrics, reasons, trace.id()));
    }

    private Scored search(EvalExample e, Options options) {
        Trace trace = keel.traces().start("eval.search", options.tenant());
        long start = System.nanoTime();
        List<ChunkRecord> context;
        try {
            context = searched(e, options, trace);
        } finally {
            trace.finish();
        }
        double latencyMs = (System.nanoTime() - start) / 1e6;
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (e.answerable() && !e.relevant().isEmpty()) rankedMetrics(e, context, options.topK(), metrics);
        contextMetrics(e, context, options.tenant(), metrics);
        metrics.put(LATENCY_MS, latencyMs);
        return new Scored(e, result(e, null, null, null, null, context, metrics, Map.of(), trace.id()));
    }

    private static EvalRun.ExampleResult result(EvalExample e, String answer, Boolean answered, String refused, List<String> cited,
                                                List<ChunkRecord> context, Map<String, Double> metrics, Map<String, String> reasons, String traceId) {
        return new EvalRun.ExampleResult(e.id(), e.split().name().toLowerCase(Locale.ROOT), e.slices(), e.fingerprint(), e.question(),
                e.referenceAnswer(), answer, answered, refused, cited, context.stream().map(EvalRunner::name).toList(), metrics,
                reasons.isEmpty() ? null : reasons, traceId);
    }

    /** The chunks a hybrid search {@code topK} deep with the configured search settings finds for the question, best first. */
    private List<ChunkRecord> searched(EvalExample e, Options options, Trace trace) {
        return keel.answers().search(options.tenant(), e.question(), SearchMode.HYBRID, options.topK(), keel.config().search(), SearchFilters.NONE,
                false, trace).hits().stream().map(SearchHit::chunk).toList();
    }

    /** The ranked retrieval metrics at {@code k} of an example that names what is relevant, over {@code ranked} (best first). */
    private static void rankedMetrics(EvalExample e, List<ChunkRecord> ranked, int k, Map<String, Double> metrics) {
        List<String> ranking = RetrievalMetrics.ranking(ranked, e.relevant());
        Map<String, Integer> judged = judged(e);
        metrics.put(recallAt(k), RetrievalMetrics.recall(ranking, judged, k));
        metrics.put(precisionAt(k), RetrievalMetrics.precision(ranking, judged, k));
        metrics.put(MRR, RetrievalMetrics.reciprocalRank(ranking, judged, k));
        metrics.put(ndcgAt(k), RetrievalMetrics.ndcg(ranking, judged, k));
        metrics.put(hitRateAt(k), RetrievalMetrics.hitRate(ranking, judged, k));
    }

    private static Map<String, Integer> judged(EvalExample e) {
        Map<String, Integer> judged = new LinkedHashMap<>();
        for (String entry : e.relevant()) judged.put(entry, e.grade(entry));
        return judged;
    }

    /**
     * Context precision and recall of an answerable example over {@code context}: from its {@code relevant} entries,
     * else from its reference answer's sentences.
     */
    private void contextMetrics(EvalExample e, List<ChunkRecord> context, String tenant, Map<String, Double> metrics) {
        if (!e.answerable()) return;
        if (!e.relevant().isEmpty()) {
            Map<String, Integer> judged = judged(e);
            metrics.put(CONTEXT_PRECISION, RetrievalMetrics.contextPrecision(context.stream().map(c -> RelevantIds.match(e.relevant(), c) != null).toList()));
            metrics.put(CONTEXT_RECALL, (double) judged.keySet().stream().filter(entry -> context.stream().anyMatch(c -> RelevantIds.names(entry, c))).count()
                    / judged.size());
        } else if (e.referenceAnswer() != null) {
            referenceSupport(e, context, tenant, metrics);
        }
    }

    /**
     * Context metrics from the reference answer, for examples that name nothing relevant: a block is relevant when it
     * supports a sentence of the reference (Keel's grounding check); recall is the share of the reference's sentences
     * the whole context supports.
     */
    private void referenceSupport(EvalExample e, List<ChunkRecord> context, String tenant, Map<String, Double> metrics) {
        AnswerEngine engine = keel.answers();
        List<SearchHit> hits = context.stream().map(c -> new SearchHit(c, 0, -1, 0, -1, 0)).toList();
        List<AnswerEngine.SentenceSupport> sentences = engine.checkSentences(tenant, e.question(), e.referenceAnswer(), hits).sentences();
        if (sentences.isEmpty()) return;
        metrics.put(CONTEXT_RECALL, (double) sentences.stream().filter(AnswerEngine.SentenceSupport::supported).count() / sentences.size());
        List<Boolean> relevant = new ArrayList<>();
        for (SearchHit h : hits) {
            relevant.add(engine.checkSentences(tenant, e.question(), e.referenceAnswer(), List.of(h)).sentences().stream()
                    .anyMatch(AnswerEngine.SentenceSupport::supported));
        }
        metrics.put(CONTEXT_PRECISION, RetrievalMetrics.contextPrecision(relevant));
    }

    /**
     * Correctness of an answerable example's answer: token F1 and embedding cosine against the reference, and the share
     * of its facts present. A declined answer scores 0 on each: it said nothing correct.
     */
    private void correctness(EvalExample e, Answer a, Map<String, Double> metrics) {
        if (e.referenceAnswer() != null) {
            metrics.put(CORRECTNESS_F1, a.answered() ? AnswerMetrics.tokenF1(a.text(), e.referenceAnswer()) : 0.0);
            metrics.put(CORRECTNESS_SEMANTIC, a.answered() ? cosine(AnswerMetrics.withoutCitations(a.text()), e.referenceAnswer()) : 0.0);
        }
        if (!e.facts().isEmpty()) metrics.put(FACTS, a.answered() ? AnswerMetrics.facts(a.text(), e.facts()) : 0.0);
    }

    /**
     * The answer's context as numbered passages, so that passage n is the chunk its marker {@code [n]} cites: Keel numbers
     * an extractive answer's citations in the order it uses them and a model's by context block, so the sources' rank
     * order alone would misread an extractive answer's markers. Uncited sources follow (or fill numbers no citation uses).
     */
    static List<Judge.Passage> passages(Answer a) {
        List<SearchHit> rest = new ArrayList<>(a.sources());
        int blocks = a.citations().stream().mapToInt(Citation::n).max().orElse(0);
        SearchHit[] slots = new SearchHit[blocks];
        for (Citation c : a.citations()) {
            for (SearchHit h : rest) {
                if (h.chunk().docId().equals(c.docId()) && h.chunk().ordinal() == c.chunk()) {
                    slots[c.n() - 1] = h;
                    rest.remove(h);
                    break;
                }
            }
        }
        List<Judge.Passage> out = new ArrayList<>();
        for (SearchHit slot : slots) {
            SearchHit h = slot != null ? slot : rest.isEmpty() ? null : rest.remove(0);
            out.add(h == null ? new Judge.Passage("", "", "") : passage(h));
        }
        for (SearchHit h : rest) out.add(passage(h));
        return out;
    }

    private static Judge.Passage passage(SearchHit h) {
        return new Judge.Passage(h.chunk().title(), h.chunk().section(), h.chunk().body());
    }

    /** The raw cosine of two texts' bge-small document vectors, floored at 0. */
    private double cosine(String a, String b) {
        List<float[]> v = keel.embedder().embedDocuments(List.of(a, b));
        return Math.max(0, Vectors.dot(v.get(0), v.get(1)));
    }

    /** The judge's scores of the answer; a score outside [0, 1] (a garbled verdict) is dropped and counted, as is an unusable judge. */
    private void judged(EvalExample e, Answer a, String tenant, Map<String, Double> metrics, Map<String, String> reasons, JudgeTrouble trouble) {
        List<Judge.Passage> passages = passages(a);
        Judge.Verdict verdict;
        try {
            verdict = judge.judge(new Judge.Input(tenant, e.question(), a.text(), passages, e.referenceAnswer(), !a.answered()));
        } catch (Judge.JudgeException failed) {
            trouble.failed(e.id(), failed.getMessage());
            reasons.put(JUDGE_ERROR, failed.getMessage());
            return;
        }
        verdict.scores().forEach((metric, score) -> {
            if (!JUDGE_METRICS.contains(metric) || score == null || !(score >= 0 && score <= 1)) trouble.invalid(e.id(), metric);
            else metrics.put(metric, score);
        });
        verdict.reasons().forEach((metric, reason) -> {
            if (metrics.containsKey(metric)) reasons.put(metric, reason);
        });
    }

    /**
     * Tokens, cost and cache hits of the answer's model calls, from its trace and its caller's request cost: tokens
     * from every provider call's usage, a cache hit when any call was served from the response cache.
     */
    private static void operations(Trace trace, ChatGateway.Caller caller, Map<String, Double> metrics) {
        long tokens = 0;
        boolean cacheHit = false;
        for (SpanRecord span : trace.view().spans()) {
            if (span.name().equals("provider")) {
                tokens += number(span.attributes().get("gen_ai.usage.input_tokens")) + number(span.attributes().get("gen_ai.usage.output_tokens"));
            } else if (span.name().equals(GatewayCache.TRACE_ATTR) && String.valueOf(span.attributes().get("result")).startsWith("hit")) {
                cacheHit = true;
            }
        }
        metrics.put(TOKENS, (double) tokens);
        metrics.put(COST_USD, caller.cost().spentUsd());
        metrics.put(CACHE_HIT, cacheHit ? 1.0 : 0.0);
    }

    private static long number(Object value) {
        return value instanceof Number n ? n.longValue() : 0;
    }

    private static int rank(String metric) {
        for (int i = 0; i < ORDER.size(); i++) {
            String name = ORDER.get(i);
            if (name.endsWith("@") ? metric.startsWith(name) : metric.equals(name)) return i;
        }
        return ORDER.size();
    }

    /** Every metric any of {@code results} has: mean, bootstrap interval and count over those that have it; p50/p95 for timings. */
    static Map<String, EvalRun.Summary> summarise(List<Map<String, Double>> results, long seed) {
        Map<String, List<Double>> values = new LinkedHashMap<>();
        for (Map<String, Double> r : results) r.forEach((metric, v) -> values.computeIfAbsent(metric, x -> new ArrayList<>()).add(v));
        Map<String, EvalRun.Summary> out = new LinkedHashMap<>();
        values.forEach((metric, list) -> {
            double[] v = list.stream().mapToDouble(Double::doubleValue).toArray();
            Statistics.Interval ci = Statistics.bootstrapMean(v, seed);
            boolean timing = TIMINGS.contains(metric);
            out.put(metric, new EvalRun.Summary(ci.mean(), ci.low(), ci.high(), v.length, timing ? Statistics.percentile(v, 50) : null,
                    timing ? Statistics.percentile(v, 95) : null));
        });
        return out;
    }

    /** How a run names a chunk, so {@link RelevantIds} can match the name: its source (else its doc id) and section. */
    private static String name(ChunkRecord c) {
        return named(c.source(), c.docId(), c.section());
    }

    private static String name(Citation c) {
        return named(c.source(), c.docId(), c.section());
    }

    private static String named(String source, String docId, String section) {
        String doc = source == null || source.isBlank() ? docId : underWorkingDirectory(source);
        return section == null || section.isBlank() ? doc : doc + "#" + section;
    }

    /** A file under the working directory as a relative path ({@code samples/docs/refunds.md}), so run files read the same on every machine. */
    private static String underWorkingDirectory(String source) {
        try {
            Path file = Path.of(source), here = Path.of("").toAbsolutePath();
            return file.isAbsolute() && file.startsWith(here) ? here.relativize(file).toString().replace('\\', '/') : source;
        } catch (InvalidPathException notAPath) {
            return source;
        }
    }

    /**
     * Judge failures and garbled scores over a run, reported once as warnings rather than once per example; failures
     * first, as the {@link #INCOMPLETE} warning.
     */
    private static final class JudgeTrouble {
        private int failed, invalid;
        private String firstFailure, firstInvalid;

        void failed(String id, String message) {
            if (failed++ == 0) firstFailure = id + ": " + message;
        }

        void invalid(String id, String metric) {
            if (invalid++ == 0) firstInvalid = id + " (" + metric + ")";
        }

        List<String> warnings(String judgeId, int examples) {
            List<String> out = new ArrayList<>();
            if (failed > 0) {
                out.add(INCOMPLETE + "the judge failed on " + failed + " of " + examples + " examples (" + judgeId + "; their judge metrics are missing): "
                        + firstFailure);
            }
            if (invalid > 0) out.add("judge " + judgeId + " gave " + invalid + " scores that are unknown metrics or outside [0, 1], dropped; first: " + firstInvalid);
            return out;
        }
    }
}
