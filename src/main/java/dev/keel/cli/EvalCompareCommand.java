package dev.keel.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.keel.eval.HtmlReport;
import dev.keel.eval.JunitReport;
import dev.keel.eval.MetricKind;
import dev.keel.eval.RunComparison;
import dev.keel.model.Jackson;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keel eval compare BASE.json CAND.json}: the release gate over two runs (see {@link RunComparison}). */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compare two runs of the same dataset, metric by metric, overall and per slice:",
                "means, the delta with a paired bootstrap 95%% interval, a paired permutation p.",
                "Fails (exit 1) when a quality metric drops by more than --max-drop (a slice",
                "by more than --slice-max-drop) significantly: interval below zero, p < 0.05.",
                "Reported, not gated: slices under " + RunComparison.MIN_SLICE_EXAMPLES + " examples, operations metrics (latency,",
                "tokens, cost), metrics one run lacks. Runs over a locked test split are",
                "compared unpaired from their summaries."},
        exitCodeListHeading = "Exit codes:%n", exitCodeList = {"0:no significant regression beyond the limits", "1:the gate failed",
                "2:usage or input error (runs of different datasets, unreadable files)"})
final class EvalCompareCommand implements Callable<Integer> {
    /** Answers and questions in the terminal are cut here: the HTML and JSON reports carry them whole. */
    private static final int TEXT_WIDTH = 240;

    @Parameters(index = "0", paramLabel = "BASE.json", description = "The run to compare against (e.g. main's).")
    Path base;

    @Parameters(index = "1", paramLabel = "CAND.json", description = "The run of the change.")
    Path candidate;

    @Option(names = "--max-drop", defaultValue = "0.03", paramLabel = "X", description = "Largest allowed drop of a metric overall (default: ${DEFAULT-VALUE}).")
    double maxDrop;

    @Option(names = "--slice-max-drop", defaultValue = "0.10", paramLabel = "X", description = "Largest allowed drop within a slice (default: ${DEFAULT-VALUE}).")
    double sliceMaxDrop;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "N", description = "Seed of the bootstrap and permutation test (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--metrics", split = ",", paramLabel = "METRIC", description = "Compare only these metrics (default: all).")
    List<String> metrics = List.of();

    @Option(names = "--html", paramLabel = "FILE", description = "Write a self-contained HTML report.")
    Path html;

    @Option(names = "--junit", paramLabel = "FILE", description = "Write JUnit XML: one testcase per gated metric and slice.")
    Path junit;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the comparison as JSON ('-': on stdout, instead of the text report).")
    String json;

    @Override
    public Integer call() throws JsonProcessingException {
        RunComparison c = RunComparison.compare(RunFiles.read(base), RunFiles.read(candidate), new RunComparison.Gate(maxDrop, sliceMaxDrop, seed, metrics));
        String asJson = Jackson.api().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(c) + "\n";
        if (html != null) RunFiles.write(html, HtmlReport.comparison(c), "--html");
        if (junit != null) RunFiles.write(junit, JunitReport.comparison(c), "--junit");
        if ("-".equals(json)) {
            System.out.print(asJson);
        } else {
            if (json != null) RunFiles.write(Path.of(json), asJson, "--json");
            print(c, System.out);
        }
        System.out.flush();
        return c.failed() ? 1 : 0;
    }

    /** The comparison as text: context, warnings, the metric table, changed slices, operations, and the worst examples of each failure. */
    static void print(RunComparison c, PrintStream out) {
        out.printf("base      %s (%s, %s split, judge %s)%n", safe(c.base().runId()), safe(c.base().dataset()), safe(c.base().split()), safe(c.base().judge()));
        out.printf("candidate %s (judge %s)%n", safe(c.candidate().runId()), safe(c.candidate().judge()));
        out.printf(Locale.ROOT, "%s · seed %d · allowed drop %.3f overall, %.3f per slice (slices of >= %d examples)%n",
                c.paired() ? "paired on " + c.matched() + " of " + Math.max(c.base().examples(), c.candidate().examples()) + " examples"
                        : "unpaired: aggregates only", c.gate().seed(), c.gate().maxDrop(), c.gate().sliceMaxDrop(), RunComparison.MIN_SLICE_EXAMPLES);
        c.settings().forEach(s -> out.printf("setting   %s: %s -> %s%n", safe(s.setting()), safe(s.base()), safe(s.candidate())));
        c.warnings().forEach(w -> out.println("warning: " + safe(w)));
        out.println();
        out.printf("%-30s %4s %9s %9s %8s  %-19s %7s  %s%n", "metric", "n", "base", "cand", "delta", "95% interval", "p", "verdict");
        c.overall().stream().filter(d -> d.kind() != MetricKind.OPS).forEach(d -> row(out, d.metric(), d));
        List<RunComparison.MetricDelta> ops = c.overall().stream().filter(d -> d.kind() == MetricKind.OPS).toList();
        if (!ops.isEmpty()) {
            out.printf("%noperations (not gated)            base mean   p50 / p95          cand mean   p50 / p95%n");
            ops.forEach(d -> out.printf("%-30s %12s   %-17s %12s   %s%n", safe(d.metric()), mean(d.base()), percentiles(d.base()), mean(d.candidate()),
                    percentiles(d.candidate())));
        }
        List<RunComparison.MetricDelta> changed = c.slices().stream().filter(d -> d.gated() && d.verdict() != RunComparison.Verdict.SAME).toList();
        long gated = c.slices().stream().filter(RunComparison.MetricDelta::gated).count();
        out.printf("%nslices: %d slice metrics gated, %d changed significantly, %d reported only (small slices, ops, one-sided)%n",
                gated, changed.size(), c.slices().size() - gated);
        changed.forEach(d -> row(out, d.slice() + " / " + d.metric(), d));
        out.println();
        if (!c.failed()) {
            out.println("PASS: no significant regression beyond the allowed drop");
            return;
        }
        out.println("FAIL: " + c.regressions().size() + " significant regression" + (c.regressions().size() == 1 ? "" : "s") + " beyond the allowed drop: "
                + String.join(", ", c.regressions().stream().map(r -> safe(r.metric()) + (r.slice() == null ? "" : " in slice " + safe(r.slice()))).toList()));
        for (RunComparison.Regression r : c.regressions()) {
            if (r.slice() != null && c.failedOverall(r.metric())) continue;
            out.printf("%nworst examples, %s%s:%n", safe(r.metric()), r.slice() == null ? "" : " in slice " + safe(r.slice()));
            r.worst().forEach(x -> {
                out.printf(Locale.ROOT, "  %s  %.3f -> %.3f  %s%n", safe(x.id()), x.base(), x.candidate(), safe(x.question()));
                out.println("      base: " + safe(x.baseAnswer()));
                out.println("      cand: " + safe(x.candidateAnswer()));
            });
        }
    }

    private static void row(PrintStream out, String label, RunComparison.MetricDelta d) {
        out.printf("%-30s %4d %9s %9s %8s  %-19s %7s  %s: %s%n", safe(label), d.paired(), mean(d.base()), mean(d.candidate()),
                d.delta() == null ? "-" : String.format(Locale.ROOT, "%+.3f", d.delta()),
                d.ciLow() == null ? "-" : String.format(Locale.ROOT, "[%+.3f, %+.3f]", d.ciLow(), d.ciHigh()),
                d.p() == null ? "-" : d.p() < 0.001 ? "<0.001" : String.format(Locale.ROOT, "%.3f", d.p()), d.verdict(), d.why());
    }

    private static String mean(dev.keel.eval.EvalRun.Summary s) {
        return s == null ? "-" : number(s.mean());
    }

    private static String percentiles(dev.keel.eval.EvalRun.Summary s) {
        return s == null || s.p50() == null ? "-" : number(s.p50()) + " / " + number(s.p95());
    }

    private static String number(double v) {
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.1f" : "%.3f", v);
    }

    /** One terminal-safe line: control characters (a run's text could carry escape sequences) become spaces, long text is cut. */
    static String safe(String s) {
        if (s == null) return "-";
        String out = RunFiles.printable(s);
        return out.length() > TEXT_WIDTH ? out.substring(0, TEXT_WIDTH) + "…" : out;
    }
}
