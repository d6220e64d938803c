package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.eval.BeirDataset;
import dev.keel.eval.Calibration;
import dev.keel.eval.EvalDataset;
import dev.keel.eval.EvalExample;
import dev.keel.eval.EvalRun;
import dev.keel.eval.EvalRunner;
import dev.keel.eval.Judges;
import dev.keel.eval.RetrievalEvaluation;
import dev.keel.ingest.IngestReport;
import dev.keel.trace.Trace;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keel eval run}: a dataset through the whole answer pipeline (or retrieval alone), scored, aggregated overall
 * and per slice; a table on stdout, progress on stderr, the run file with {@code --out}. A run whose judge failed on
 * some examples is still written, and exits {@value #INCOMPLETE_EXIT} saying so.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run an evaluation dataset (JSONL, or a BEIR collection) through Keel and score every answer.",
                "Retrieval: recall, precision, MRR, nDCG and hit rate at k, context precision and recall.",
                "Answers: the judge's metrics, token F1 and semantic similarity against the reference, facts, refusal correctness.",
                "Operations: latency, TTFT, tokens, cost, cache hits. Each overall and per slice, mean with a bootstrap 95%% CI.",
                "With --docs the documents go into a throw-away index (embeddings cached in the data directory), so a rerun is",
                "reproducible; without it the run asks the corpus already in the data directory."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:the run completed", "2:bad input (options, dataset, configuration)",
                "3:incomplete: the judge failed on some examples; the run file is still written, with each one's judge_error"})
final class EvalRunCommand implements Callable<Integer> {
    /** The exit code of a run whose judge failed on some examples: a CI gate must not pass on missing judge metrics. */
    static final int INCOMPLETE_EXIT = 3;

    @Mixin
    CommonOptions common;

    @Option(names = "--dataset", paramLabel = "FILE", description = "JSONL dataset: {id, question, reference_answer?, relevant?, answerable, slices?, facts?}.")
    Path dataset;

    @Option(names = "--beir", paramLabel = "DIR", description = "A BEIR collection instead of --dataset: its corpus is ingested, its queries run retrieval-only.")
    Path beir;

    @Option(names = "--qrels", defaultValue = "test", paramLabel = "SPLIT", description = "The BEIR qrels file to judge by (default: ${DEFAULT-VALUE}).")
    String qrels;

    @Option(names = "--docs", paramLabel = "DIR", description = "Ingest these documents into a throw-away index and ask it.")
    Path docs;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the run (keel-eval-run/1 JSON) here.")
    Path out;

    @Option(names = "--retrieval-only", description = "Search only (hybrid, the configured search settings); no answers, no judge.")
    boolean retrievalOnly;

    @Option(names = "--split", defaultValue = "dev", paramLabel = "dev|test|all", description = "Which examples (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = {"-k", "--top-k"}, defaultValue = "10", paramLabel = "K", description = "k of the @k retrieval metrics (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "N", description = "Bootstrap seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--judge", paramLabel = "MODEL", description = "Catalog chat model that judges the answers (default: eval.judge.model, else the offline heuristic judge).")
    String judge;

    @Option(names = "--json", description = "Print the run JSON on stdout instead of the table.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        long start = System.nanoTime();
        EvalExample.Split chosen = split(split);
        if ((dataset == null) == (beir == null)) throw new IllegalArgumentException("give exactly one of --dataset FILE and --beir DIR");
        if (docs != null && beir != null) throw new IllegalArgumentException("--docs and --beir both name a corpus: a BEIR collection brings its own");
        if (docs != null && !Files.isDirectory(docs)) throw new IllegalArgumentException("--docs: not a folder: " + docs);
        if (topK < 1) throw new IllegalArgumentException("--top-k must be at least 1");
        common.checkTenant();
        BeirDataset collection;
        EvalDataset data;
        try {
            collection = beir == null ? null : BeirDataset.load(beir, qrels);
            data = collection == null ? EvalDataset.load(dataset) : EvalDataset.fromBeir(collection);
        } catch (IllegalArgumentException bad) {
            throw new IllegalArgumentException(RunFiles.printable(bad.getMessage()), bad);
        }
        EvalRunner.Mode mode = retrievalOnly || collection != null ? EvalRunner.Mode.RETRIEVAL : EvalRunner.Mode.FULL;
        KeelConfig config = common.loadConfig();
        EvalRun run;
        if (docs == null && collection == null) {
            System.err.printf("asking the corpus in %s, tenant %s%n", common.dataDir(), common.tenant);
            try (Keel keel = common.open(config)) {
                run = run(keel, config, data, mode, chosen, common.tenant);
            }
        } else {
            String tenant = collection == null ? common.tenant : RetrievalEvaluation.TENANT;
            try (ScratchDir scratch = new ScratchDir("keel-eval-"); Keel keel = Keel.openWithSharedCache(config, scratch.path(), common.dataDir())) {
                if (collection != null) {
                    System.err.printf("ingesting %s (%d documents) into a throw-away index%n", collection.name(), collection.corpus().size());
                    RetrievalEvaluation.ingest(keel, collection, new ProgressBar(System.err, "docs"));
                } else {
                    System.err.printf("ingesting %s into a throw-away index%n", docs);
                    ingest(keel, tenant);
                }
                run = run(keel, config, data, mode, chosen, tenant);
            }
        }
        if (out != null) run.write(out);
        if (json) System.out.println(run.toJson());
        else print(run, corpus(collection), System.out);
        Optional<String> incomplete = EvalRunner.incomplete(run);
        for (String w : run.warnings()) if (incomplete.filter(w::equals).isEmpty()) System.err.println("warning: " + RunFiles.printable(w));
        System.err.printf(Locale.ROOT, "done in %.1fs (%d questions in %.1fs)%s%n", (System.nanoTime() - start) / 1e9, run.dataset().examples(), run.seconds(),
                out == null ? "" : "; run written to " + out);
        incomplete.ifPresent(w -> System.err.println("keel: " + RunFiles.printable(w)));
        return incomplete.isPresent() ? INCOMPLETE_EXIT : 0;
    }

    private EvalRun run(Keel keel, KeelConfig config, EvalDataset data, EvalRunner.Mode mode, EvalExample.Split chosen, String tenant) {
        ProgressBar bar = new ProgressBar(System.err, "questions");
        long start = System.nanoTime();
        Judges.Selection selection = Judges.create(keel, judge != null ? judge : config.eval().judgeModel(), config.answer().model(), null,
                judge != null ? "--judge" : "eval.judge.model");
        EvalRunner runner = new EvalRunner(keel, selection.judge(), Calibration.judgeInfo(common.dataDir(), selection.judge()), selection.warning());
        return runner.run(data, new EvalRunner.Options(mode, chosen, tenant, topK, seed), (done, total) -> bar.items(done, total, (System.nanoTime() - start) / 1e9));
    }

    private void ingest(Keel keel, String tenant) {
        Trace trace = keel.traces().start("eval.ingest", tenant);
        IngestReport report = keel.ingestor().ingestPaths(tenant, List.of(docs), false, trace, new ProgressBar(System.err, "files"));
        trace.finish();
        keel.index().commit();
        if (!report.failures().isEmpty()) System.err.printf("warning: %d documents failed to ingest%n", report.failures().size());
    }

    private String corpus(BeirDataset collection) {
        if (collection != null) return collection.name() + " corpus, ingested into a throw-away index";
        if (docs != null) return docs + ", ingested into a throw-away index";
        return "the corpus in " + common.dataDir() + ", tenant " + common.tenant;
    }

    private static EvalExample.Split split(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "dev" -> EvalExample.Split.DEV;
            case "test" -> EvalExample.Split.TEST;
            case "all" -> null;
            default -> throw new IllegalArgumentException("--split must be dev, test or all, not '" + name + "'");
        };
    }

    /** The run as a table: what ran, the overall aggregates, then each slice's; the dataset's texts as {@link RunFiles#printable}. */
    static void print(EvalRun run, String corpus, PrintStream out) {
        EvalRun.DatasetInfo d = run.dataset();
        EvalRun.Settings s = run.settings();
        out.printf("%s · %s split · %d examples · %s · answers: %s · judge: %s · %.1fs%n", RunFiles.printable(d.name()), d.split(), d.examples(), s.mode(),
                s.answerModel() == null ? "none" : s.answerModel(), run.judge() == null ? "none" : run.judge().id(), run.seconds());
        out.printf("corpus: %s · dataset %s · prompt %s · config %s · seed %d%n", RunFiles.printable(corpus), d.fingerprint(), s.promptHash(), s.configHash(), s.seed());
        table("overall", run.overall(), out);
        new TreeMap<>(run.slices()).forEach((slice, metrics) -> table("slice " + RunFiles.printable(slice), metrics, out));
        if (d.locked() && run.examples().isEmpty()) out.println("(locked dataset: the test split is reported as overall aggregates only)");
    }

    private static void table(String title, Map<String, EvalRun.Summary> metrics, PrintStream out) {
        out.printf("%n%-22s %8s %19s %5s %9s %9s%n", title, "mean", "95% CI", "n", "p50", "p95");
        Map<String, EvalRun.Summary> ordered = new TreeMap<>(EvalRunner.METRIC_ORDER);
        ordered.putAll(metrics);
        ordered.forEach((name, m) -> out.printf(Locale.ROOT, "%-22s %8s %19s %5d %9s %9s%n", name, figure(m.mean()),
                "[" + figure(m.ciLow()) + ", " + figure(m.ciHigh()) + "]", m.n(), m.p50() == null ? "" : figure(m.p50()), m.p95() == null ? "" : figure(m.p95())));
    }

    /** A figure: three decimals for scores, one from 10 up (milliseconds, tokens), six below 0.001 (dollars per query). */
    private static String figure(double v) {
        if (Math.abs(v) >= 10) return String.format(Locale.ROOT, "%.1f", v);
        if (v != 0 && Math.abs(v) < 0.001) return String.format(Locale.ROOT, "%.6f", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
