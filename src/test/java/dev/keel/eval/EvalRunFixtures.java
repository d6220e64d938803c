package dev.keel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * Runs over the sample golden set (54 questions) with seeded, realistic per-example metrics, as {@code keel eval run}
 * writes them: the comparison's tests build base and candidate runs from here instead of running the pipeline.
 * Slices: {@code answerable}/{@code unanswerable} and a topic from the question's source file ({@code billing},
 * {@code api}, {@code security}, {@code account}).
 */
public final class EvalRunFixtures {
    public static final Path GOLDEN = Path.of("samples/golden.jsonl");
    private static final EvalRun.Settings SETTINGS = new EvalRun.Settings("full", "extractive", "p-1a2b3c", "c-4d5e6f", 5, 42);
    private static final EvalRun.JudgeInfo JUDGE = new EvalRun.JudgeInfo("heuristic/v1", null, null, null, null);

    private EvalRunFixtures() {}

    /** A run of the golden set whose scores are drawn from {@code seed}. */
    public static EvalRun golden(String runId, long seed) {
        EvalDataset dataset = EvalDataset.load(GOLDEN);
        Map<String, List<String>> sources = sources();
        SplittableRandom random = new SplittableRandom(seed);
        List<EvalRun.ExampleResult> examples = new ArrayList<>();
        for (EvalExample e : dataset.examples()) {
            Map<String, Double> m = new LinkedHashMap<>();
            String answer;
            if (e.answerable()) {
                boolean found = random.nextDouble() < 0.85;
                m.put("recall@5", found ? 1.0 : 0.0);
                m.put("hit_rate@5", found ? 1.0 : 0.0);
                m.put("mrr", found ? 1.0 / (1 + random.nextInt(3)) : 0.0);
                m.put("ndcg@5", found ? 0.6 + 0.4 * random.nextDouble() : 0.0);
                m.put(Judge.FAITHFULNESS, found ? 0.65 + 0.35 * random.nextDouble() : 0.3 * random.nextDouble());
                m.put(Judge.CITATION_ACCURACY, found ? 0.7 + 0.3 * random.nextDouble() : 0.2 * random.nextDouble());
                m.put(Judge.ANSWER_RELEVANCE, 0.55 + 0.45 * random.nextDouble());
                m.put("correctness_f1", found ? 0.4 + 0.5 * random.nextDouble() : 0.1 * random.nextDouble());
                m.put("refusal_correct", random.nextDouble() < 0.95 ? 1.0 : 0.0);
                answer = found ? "According to the docs, the answer to \"" + e.question() + "\" is in section 2 [1]." : "I don't know based on the documents.";
            } else {
                m.put("refusal_correct", random.nextDouble() < 0.75 ? 1.0 : 0.0);
                answer = m.get("refusal_correct") == 1.0 ? "I don't know based on the documents." : "Possibly, see the overview [1].";
            }
            m.put("latency_ms", 6 + 30 * -Math.log(1 - random.nextDouble()) / 3);
            m.put("tokens", (double) (150 + random.nextInt(250)));
            m.put("cost_usd", 0.0);
            List<String> slices = List.of(e.answerable() ? "answerable" : "unanswerable", topic(sources.getOrDefault(e.id(), List.of())));
            examples.add(new EvalRun.ExampleResult(e.id(), e.split().name().toLowerCase(java.util.Locale.ROOT), slices, e.fingerprint(), e.question(),
                    null, answer, !answer.startsWith("I don't know"), null, List.of(), List.of(), m, Map.of(), null));
        }
        return assemble(runId, new EvalRun.DatasetInfo(dataset.name(), GOLDEN.toString(), false, "all", examples.size(), dataset.fingerprint()),
                SETTINGS, JUDGE, examples, seed);
    }

    /** A copy of {@code run} under a new id whose examples' metrics are {@code change(example, copy of its metrics)}. */
    public static EvalRun withMetrics(EvalRun run, String runId, BiFunction<EvalRun.ExampleResult, Map<String, Double>, Map<String, Double>> change) {
        List<EvalRun.ExampleResult> examples = run.examples().stream().map(e -> new EvalRun.ExampleResult(e.id(), e.split(), e.slices(), e.fingerprint(),
                e.question(), e.referenceAnswer(), e.answer(), e.answered(), e.refused(), e.cited(), e.retrieved(),
                change.apply(e, new HashMap<>(e.metrics())), e.reasons(), e.traceId())).toList();
        return assemble(runId, run.dataset(), run.settings(), run.judge(), examples, run.settings().seed());
    }

    /** {@code run} with its examples replaced (summaries recomputed). */
    public static EvalRun withExamples(EvalRun run, String runId, List<EvalRun.ExampleResult> examples) {
        return assemble(runId, run.dataset(), run.settings(), run.judge(), examples, run.settings().seed());
    }

    /** {@code run} as a different judge or settings produced it. */
    public static EvalRun withJudgeAndSettings(EvalRun run, EvalRun.JudgeInfo judge, EvalRun.Settings settings) {
        return new EvalRun(run.format(), run.runId(), run.started(), run.seconds(), run.dataset(), settings, judge, run.warnings(), run.overall(),
                run.slices(), run.examples());
    }

    /** {@code run} as a locked test split keeps it: the overall summaries only. */
    public static EvalRun aggregatesOnly(EvalRun run) {
        EvalRun.DatasetInfo d = run.dataset();
        return new EvalRun(run.format(), run.runId(), run.started(), run.seconds(), new EvalRun.DatasetInfo(d.name(), d.path(), true, "test",
                d.examples(), d.fingerprint()), run.settings(), run.judge(), run.warnings(), run.overall(), Map.of(), List.of());
    }

    /** An example with just these fields; the rest empty. */
    public static EvalRun.ExampleResult example(String id, String question, String answer, List<String> slices, Map<String, Double> metrics) {
        return new EvalRun.ExampleResult(id, "dev", slices, "fp-" + id, question, null, answer, true, null, List.of(), List.of(), metrics, Map.of(), null);
    }

    /** A run of exactly these examples. */
    public static EvalRun of(String runId, String fingerprint, List<EvalRun.ExampleResult> examples) {
        return assemble(runId, new EvalRun.DatasetInfo("hand-made", "hand-made.jsonl", false, "all", examples.size(), fingerprint), SETTINGS, JUDGE,
                examples, 42);
    }

    private static EvalRun assemble(String runId, EvalRun.DatasetInfo dataset, EvalRun.Settings settings, EvalRun.JudgeInfo judge,
                                    List<EvalRun.ExampleResult> examples, long seed) {
        Map<String, EvalRun.Summary> overall = summaries(examples, seed);
        Map<String, Map<String, EvalRun.Summary>> slices = new LinkedHashMap<>();
        examples.stream().flatMap(e -> e.slices().stream()).distinct().forEach(s ->
                slices.put(s, summaries(examples.stream().filter(e -> e.slices().contains(s)).toList(), seed)));
        return new EvalRun(EvalRun.FORMAT, runId, Instant.parse("2026-11-30T01:00:00Z"), 12.5, dataset, settings, judge, List.of(), overall, slices,
                examples);
    }

    private static Map<String, EvalRun.Summary> summaries(List<EvalRun.ExampleResult> examples, long seed) {
        Map<String, List<Double>> values = new LinkedHashMap<>();
        examples.forEach(e -> e.metrics().forEach((m, v) -> values.computeIfAbsent(m, k -> new ArrayList<>()).add(v)));
        Map<String, EvalRun.Summary> out = new LinkedHashMap<>();
        values.forEach((m, list) -> {
            double[] v = list.stream().mapToDouble(Double::doubleValue).toArray();
            Statistics.Interval i = Statistics.bootstrapMean(v, seed);
            boolean timing = MetricKind.of(m) == MetricKind.OPS;
            out.put(m, new EvalRun.Summary(i.mean(), i.low(), i.high(), v.length, timing ? Statistics.percentile(v, 50) : null,
                    timing ? Statistics.percentile(v, 95) : null));
        });
        return out;
    }

    private static Map<String, List<String>> sources() {
        ObjectMapper json = new ObjectMapper();
        Map<String, List<String>> out = new HashMap<>();
        try {
            for (String line : Files.readAllLines(GOLDEN)) {
                if (line.isBlank()) continue;
                JsonNode n = json.readTree(line);
                List<String> s = new ArrayList<>();
                n.path("sources").forEach(x -> s.add(x.asText()));
                out.put(n.path("id").asText(), s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static String topic(List<String> sources) {
        String first = sources.isEmpty() ? "" : sources.get(0);
        if (first.matches("(plans|refunds|billing|free-trial|cancellation).*")) return "billing";
        if (first.startsWith("api-") || first.startsWith("webhooks") || first.startsWith("integrations")) return "api";
        if (first.matches("(encryption|security|sso|two-factor|audit|roles|gdpr|data-retention).*")) return "security";
        return sources.isEmpty() ? "off-topic" : "account";
    }
}
