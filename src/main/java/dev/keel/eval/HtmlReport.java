package dev.keel.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Self-contained HTML pages for a {@link RunComparison} and for a single {@link EvalRun}: inline CSS and SVG charts
 * (metric bars with 95% interval whiskers, a per-slice table coloured by verdict, the worst regressions or the
 * lowest-scoring examples with their answers). The page loads nothing — no scripts, fonts, images or styles from
 * anywhere — so it can be attached to a CI build or mailed. Every string that comes from a run (questions, answers,
 * ids, metric and slice names, warnings) is HTML-escaped. Pure functions, thread-safe.
 */
public final class HtmlReport {
    /** Lowest-scoring examples listed in a single run's report: a page, not a dump of the dataset. */
    static final int LOWEST_EXAMPLES = 10;
    /**
     * Metric columns per block of the per-slice table: with the slice and n columns, eight fit a 1200 px window at
     * 12 px (a run with more metrics gets more blocks, one under the other, instead of a horizontal scrollbar).
     */
    private static final int SLICE_TABLE_METRICS = 8;
    private static final int CHART_WIDTH = 1100, LABEL_WIDTH = 190, BAR_HEIGHT = 13, BAR_AREA = 560;
    private static final String CSS = """
            *{box-sizing:border-box}
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
            main{max-width:1160px;margin:0 auto;padding:24px 28px 48px}
            h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
            .sub{color:#57606a;margin:0 0 14px}
            .banner{border-radius:8px;padding:12px 16px;font-size:17px;font-weight:600;margin:14px 0}
            .banner.fail{background:#ffebe9;color:#a40e26;border:1px solid #ff818266}.banner.pass{background:#dafbe1;color:#116329;border:1px solid #4ac26b66}
            .card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:14px 16px;margin:10px 0}
            .warn{background:#fff8c5;border:1px solid #d4a72c66;border-radius:8px;padding:8px 16px;margin:10px 0}
            .warn li{margin:3px 0}
            table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums}
            th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right;white-space:nowrap}
            th{background:#f6f8fa;font-weight:600}td.l,th.l{text-align:left}
            .scroll{overflow-x:auto}td.why{white-space:normal;text-align:left;min-width:220px}
            table.slices{font-size:12px;margin-bottom:8px}table.slices th,table.slices td{padding:3px 6px}table.slices tr:first-child th{white-space:normal}
            svg.chart{width:100%;height:auto}
            .v-FAIL{background:#ffebe9;color:#a40e26;font-weight:600}.v-WORSE{background:#fff1e5;color:#9a4a00}
            .v-BETTER{background:#dafbe1;color:#116329}.v-SAME{color:#57606a}.v-NOT_GATED{color:#8c959f;font-style:italic}
            .legend span{display:inline-block;margin-right:16px}.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin-right:5px}
            .ex{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:10px 0;overflow:hidden}
            .ex h3{font-size:14px;margin:0;padding:8px 12px;background:#f6f8fa;border-bottom:1px solid #d0d7de}
            .ex .cols{display:grid;grid-template-columns:1fr 1fr}.ex .cols>div{padding:8px 12px}.ex .cols>div+div{border-left:1px solid #d0d7de}
            .ex .k{color:#57606a;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
            .ex p{margin:4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
            code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eff1f3;padding:1px 4px;border-radius:4px}
            svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;fill:#1f2328}
            """;
    private static final String BASE_COLOUR = "#8c959f", CANDIDATE_COLOUR = "#0969da";
    private static final Map<RunComparison.Verdict, String> VERDICT_COLOUR = Map.of(RunComparison.Verdict.FAIL, "#cf222e",
            RunComparison.Verdict.WORSE, "#bc4c00", RunComparison.Verdict.BETTER, "#1a7f37", RunComparison.Verdict.SAME, "#57606a",
            RunComparison.Verdict.NOT_GATED, "#8c959f");

    private HtmlReport() {}

    /** The comparison's page: verdict, warnings, settings diff, metric chart, tables overall and per slice, worst regressions. */
    public static String comparison(RunComparison c) {
        StringBuilder h = new StringBuilder();
        h.append("<h1>Keel eval comparison</h1><p class=sub>base <code>").append(esc(c.base().runId())).append("</code> vs candidate <code>")
                .append(esc(c.candidate().runId())).append("</code> · dataset ").append(esc(c.base().dataset())).append(" (")
                .append(esc(c.base().split())).append(" split) · ");
        h.append(c.paired() ? "paired on " + c.matched() + " of " + Math.max(c.base().examples(), c.candidate().examples()) + " examples"
                : "unpaired (aggregates only)");
        h.append(" · seed ").append(c.gate().seed()).append(" · allowed drop ").append(num(c.gate().maxDrop())).append(" overall, ")
                .append(num(c.gate().sliceMaxDrop())).append(" per slice (≥ ").append(RunComparison.MIN_SLICE_EXAMPLES).append(" examples)</p>");
        long failures = c.regressions().size();
        h.append(c.failed() ? "<div class='banner fail'>✗ Gate failed: " + failures + " significant regression" + (failures == 1 ? "" : "s")
                + " beyond the allowed drop</div>" : "<div class='banner pass'>✓ Gate passed: no significant regression beyond the allowed drop</div>");
        warnings(h, c.warnings());
        if (!c.settings().isEmpty()) {
            h.append("<h2>Settings that differ</h2><table><tr><th class=l>setting</th><th class=l>base</th><th class=l>candidate</th></tr>");
            c.settings().forEach(s -> h.append("<tr><td class=l>").append(esc(s.setting())).append("</td><td class=l><code>").append(esc(s.base()))
                    .append("</code></td><td class=l><code>").append(esc(s.candidate())).append("</code></td></tr>"));
            h.append("</table>");
        }
        List<RunComparison.MetricDelta> quality = c.overall().stream().filter(d -> d.kind() != MetricKind.OPS).toList();
        h.append("<h2>Metrics</h2><div class='card'><div class=legend><span><i class=sw style='background:").append(BASE_COLOUR)
                .append("'></i>base</span><span><i class=sw style='background:").append(CANDIDATE_COLOUR)
                .append("'></i>candidate</span><span>whiskers: 95% bootstrap interval</span></div>");
        List<BarRow> rows = new ArrayList<>();
        for (RunComparison.MetricDelta d : quality) {
            List<Bar> bars = new ArrayList<>();
            if (d.base() != null) bars.add(new Bar(BASE_COLOUR, d.base()));
            if (d.candidate() != null) bars.add(new Bar(CANDIDATE_COLOUR, d.candidate()));
            String note = d.delta() == null ? d.why() : "Δ " + signed(d.delta()) + "  [" + signed(d.ciLow()) + ", " + signed(d.ciHigh()) + "]  p "
                    + pValue(d.p());
            rows.add(new BarRow(d.metric(), bars, note, VERDICT_COLOUR.get(d.verdict())));
        }
        h.append(barChart(rows)).append("</div>");
        h.append("<h2>All metrics overall</h2>");
        deltaTable(h, c.overall());
        sliceTable(h, c);
        h.append("<h2>Worst regressions</h2>");
        if (c.regressions().isEmpty()) h.append("<p class=sub>None: no metric failed the gate.</p>");
        if (c.regressions().stream().anyMatch(r -> r.slice() != null && c.failedOverall(r.metric()))) {
            h.append("<p class=sub>Slices of a metric that failed overall are marked in the slice table; their worst examples are the overall ones.</p>");
        }
        for (RunComparison.Regression r : c.regressions()) {
            if (r.slice() != null && c.failedOverall(r.metric())) continue;
            h.append("<h3>").append(esc(r.metric())).append(r.slice() == null ? " (overall)" : " in slice " + esc(r.slice())).append("</h3>");
            if (r.worst().isEmpty()) h.append("<p class=sub>No single example dropped.</p>");
            for (RunComparison.ExampleChange x : r.worst()) {
                h.append("<div class=ex><h3><code>").append(esc(x.id())).append("</code> ").append(esc(x.question())).append(" <span class=v-FAIL>")
                        .append(esc(r.metric())).append(' ').append(num(x.base())).append(" → ").append(num(x.candidate())).append("</span></h3><div class=cols>");
                h.append("<div><div class=k>base answer</div><p>").append(esc(x.baseAnswer())).append("</p></div>");
                h.append("<div><div class=k>candidate answer</div><p>").append(esc(x.candidateAnswer())).append("</p></div></div></div>");
            }
        }
        return page("Keel eval comparison: " + c.base().runId() + " vs " + c.candidate().runId(), h);
    }

    /** A single run's page: metric bars with intervals, ops figures, a per-slice table and the lowest-scoring examples. */
    public static String run(EvalRun run) {
        StringBuilder h = new StringBuilder();
        EvalRun.DatasetInfo d = run.dataset();
        h.append("<h1>Keel eval run</h1><p class=sub>run <code>").append(esc(run.runId())).append("</code> · dataset ")
                .append(esc(d == null ? null : d.name())).append(" (").append(esc(d == null ? null : d.split())).append(" split, ")
                .append(d == null ? 0 : d.examples()).append(" examples)");
        if (run.settings() != null) {
            h.append(" · answer model <code>").append(esc(run.settings().answerModel())).append("</code> · top-k ").append(run.settings().topK());
        }
        if (run.judge() != null) {
            h.append(" · judge <code>").append(esc(run.judge().id())).append("</code>");
            if (Boolean.FALSE.equals(run.judge().calibrated())) h.append(" <b class=v-FAIL>uncalibrated</b>");
        }
        h.append("</p>");
        warnings(h, run.warnings());
        List<String> metrics = new ArrayList<>(new TreeSet<>(run.overall().keySet()));
        metrics.sort(Comparator.comparing(MetricKind::of).thenComparing(Comparator.naturalOrder()));
        List<BarRow> rows = new ArrayList<>();
        for (String m : metrics) {
            if (MetricKind.of(m) == MetricKind.OPS) continue;
            EvalRun.Summary s = run.overall().get(m);
            rows.add(new BarRow(m, List.of(new Bar(CANDIDATE_COLOUR, s)), num(s.mean()) + "  [" + num(s.ciLow()) + ", " + num(s.ciHigh()) + "]  n " + s.n(),
                    VERDICT_COLOUR.get(RunComparison.Verdict.SAME)));
        }
        h.append("<h2>Metrics</h2><div class=card><div class=legend><span>bars: mean · whiskers: 95% bootstrap interval</span></div>")
                .append(barChart(rows)).append("</div>");
        List<String> ops = metrics.stream().filter(m -> MetricKind.of(m) == MetricKind.OPS).toList();
        if (!ops.isEmpty()) {
            h.append("<h2>Operations</h2><table><tr><th class=l>metric</th><th>mean</th><th>p50</th><th>p95</th><th>n</th></tr>");
            for (String m : ops) {
                EvalRun.Summary s = run.overall().get(m);
                h.append("<tr><td class=l>").append(esc(m)).append("</td><td>").append(num(s.mean())).append("</td><td>").append(opt(s.p50()))
                        .append("</td><td>").append(opt(s.p95())).append("</td><td>").append(s.n()).append("</td></tr>");
            }
            h.append("</table>");
        }
        if (!run.slices().isEmpty()) {
            List<String> sliceMetrics = metrics.stream().filter(m -> MetricKind.of(m) != MetricKind.OPS).toList();
            h.append("<h2>Per slice</h2><div class=scroll><table class=slices><tr><th class=l>slice</th>");
            sliceMetrics.forEach(m -> h.append("<th>").append(breakable(m)).append("</th>"));
            h.append("</tr>");
            new TreeSet<>(run.slices().keySet()).forEach(slice -> {
                h.append("<tr><th class=l>").append(esc(slice)).append("</th>");
                for (String m : sliceMetrics) {
                    EvalRun.Summary s = run.slices().get(slice).get(m);
                    h.append(s == null ? "<td class=v-NOT_GATED>–</td>" : "<td title='n " + s.n() + ", 95% [" + num(s.ciLow()) + ", " + num(s.ciHigh()) + "]'>"
                            + num(s.mean()) + "</td>");
                }
                h.append("</tr>");
            });
            h.append("</table></div>");
        }
        h.append("<h2>Lowest-scoring examples</h2>");
        List<EvalRun.ExampleResult> lowest = run.examples().stream().filter(e -> qualityMean(e) != null)
                .sorted(Comparator.comparingDouble((EvalRun.ExampleResult e) -> qualityMean(e)).thenComparing(e -> Objects.toString(e.id(), "")))
                .limit(LOWEST_EXAMPLES).toList();
        if (lowest.isEmpty()) h.append("<p class=sub>The run keeps no per-example results (a locked test split keeps only aggregates).</p>");
        for (EvalRun.ExampleResult e : lowest) {
            h.append("<div class=ex><h3><code>").append(esc(e.id())).append("</code> ").append(esc(e.question())).append("</h3><div class=cols>");
            h.append("<div><div class=k>answer</div><p>").append(esc(e.answer())).append("</p>");
            if (e.referenceAnswer() != null) h.append("<div class=k>reference</div><p>").append(esc(e.referenceAnswer())).append("</p>");
            h.append("</div><div><div class=k>scores (mean of quality metrics ").append(num(qualityMean(e))).append(")</div><p>");
            e.metrics().keySet().stream().sorted(Comparator.comparing(MetricKind::of).thenComparing(Comparator.naturalOrder())).forEach(m -> {
                Double v = e.metrics().get(m);
                h.append(esc(m)).append(' ').append(opt(v));
                String reason = e.reasons() == null ? null : e.reasons().get(m);
                if (reason != null) h.append(" — ").append(esc(reason));
                h.append('\n');
            });
            h.append("</p></div></div></div>");
        }
        return page("Keel eval run: " + run.runId(), h);
    }

    /** An example's mean over its quality metrics; null when it has none. */
    static Double qualityMean(EvalRun.ExampleResult e) {
        if (e.metrics() == null) return null;
        double[] v = e.metrics().entrySet().stream().filter(x -> x.getValue() != null && MetricKind.of(x.getKey()) == MetricKind.QUALITY)
                .mapToDouble(Map.Entry::getValue).toArray();
        return v.length == 0 ? null : Statistics.mean(v);
    }

    /** A metric name as a column header that may wrap after {@code _} and {@code @}, never inside a word. */
    private static String breakable(String metric) {
        return esc(metric).replace("_", "_<wbr>").replace("@", "@<wbr>");
    }

    /**
     * HTML-escapes text for element content and quoted attributes alike; null becomes an empty string. Invisible
     * format characters (bidi overrides and isolates such as U+202E, zero-width characters) and control characters
     * other than line breaks and tabs are dropped: a run's text must not reorder or hide what the page shows.
     */
    static String esc(String s) {
        if (s == null) return "";
        StringBuilder out = new StringBuilder(s.length() + 16);
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                case '\n', '\t' -> out.appendCodePoint(cp);
                default -> {
                    if (!Character.isISOControl(cp) && Character.getType(cp) != Character.FORMAT) out.appendCodePoint(cp);
                }
            }
        });
        return out.toString();
    }

    private record Bar(String colour, EvalRun.Summary summary) {}

    private record BarRow(String label, List<Bar> bars, String note, String noteColour) {}

    /** Horizontal bars on a [0, 1] axis, one group per row, each bar with its interval as a whisker, and a note to the right. */
    private static String barChart(List<BarRow> rows) {
        int groupGap = 14, top = 22;
        int height = top + rows.stream().mapToInt(r -> Math.max(1, r.bars().size()) * (BAR_HEIGHT + 3) + groupGap).sum() + 8;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns='http://www.w3.org/2000/svg' class=chart width='").append(CHART_WIDTH).append("' height='").append(height)
                .append("' viewBox='0 0 ").append(CHART_WIDTH).append(' ').append(height).append("' role='img'>");
        for (int tick = 0; tick <= 10; tick += 2) {
            double x = LABEL_WIDTH + BAR_AREA * tick / 10.0;
            s.append("<line x1='").append(fmt(x)).append("' x2='").append(fmt(x)).append("' y1='").append(top - 6).append("' y2='").append(height - 6)
                    .append("' stroke='#eaeef2'/><text x='").append(fmt(x)).append("' y='").append(top - 9).append("' text-anchor='middle' style='fill:#8c959f'>")
                    .append(tick / 10.0).append("</text>");
        }
        int y = top;
        for (BarRow row : rows) {
            int groupHeight = Math.max(1, row.bars().size()) * (BAR_HEIGHT + 3);
            s.append("<text x='").append(LABEL_WIDTH - 10).append("' y='").append(y + groupHeight / 2 + 4).append("' text-anchor='end'>")
                    .append(esc(row.label())).append("</text>");
            int by = y;
            for (Bar bar : row.bars()) {
                EvalRun.Summary m = bar.summary();
                double w = BAR_AREA * clamp(m.mean()), lo = LABEL_WIDTH + BAR_AREA * clamp(m.ciLow()), hi = LABEL_WIDTH + BAR_AREA * clamp(m.ciHigh());
                double mid = by + BAR_HEIGHT / 2.0;
                s.append("<rect x='").append(LABEL_WIDTH).append("' y='").append(by).append("' width='").append(fmt(w)).append("' height='")
                        .append(BAR_HEIGHT).append("' rx='2' fill='").append(bar.colour()).append("'><title>").append(num(m.mean())).append(" [")
                        .append(num(m.ciLow())).append(", ").append(num(m.ciHigh())).append("] n ").append(m.n()).append("</title></rect>");
                s.append("<path d='M").append(fmt(lo)).append(' ').append(fmt(mid)).append("H").append(fmt(hi)).append("M").append(fmt(lo)).append(' ')
                        .append(fmt(mid - 5)).append("V").append(fmt(mid + 5)).append("M").append(fmt(hi)).append(' ').append(fmt(mid - 5)).append("V")
                        .append(fmt(mid + 5)).append("' stroke='#1f2328' stroke-width='1.3' fill='none'/>");
                s.append("<text x='").append(fmt(LABEL_WIDTH + w + 4 > hi + 4 ? LABEL_WIDTH + w + 4 : hi + 4)).append("' y='").append(fmt(mid + 4))
                        .append("' style='fill:#57606a;font-size:11px'>").append(num(m.mean())).append("</text>");
                by += BAR_HEIGHT + 3;
            }
            s.append("<text x='").append(LABEL_WIDTH + BAR_AREA + 50).append("' y='").append(y + groupHeight / 2 + 4).append("' style='fill:")
                    .append(row.noteColour()).append("'>").append(esc(row.note())).append("</text>");
            y += groupHeight + groupGap;
        }
        return s.append("</svg>").toString();
    }

    /** Quality (and unknown) metrics: means, Δ with its interval and p, verdict with its reason. */
    private static void deltaTable(StringBuilder h, List<RunComparison.MetricDelta> deltas) {
        h.append("<div class=scroll><table><tr><th class=l>metric</th><th>n</th><th>base</th><th>candidate</th><th>Δ</th><th>95% interval of Δ</th>")
                .append("<th>p</th><th class=l>verdict</th></tr>");
        for (RunComparison.MetricDelta d : deltas) {
            if (d.kind() == MetricKind.OPS) continue;
            h.append("<tr><td class=l>").append(esc(d.metric())).append("</td><td>").append(d.paired()).append("</td><td>").append(mean(d.base()))
                    .append("</td><td>").append(mean(d.candidate())).append("</td><td class=v-").append(d.verdict()).append('>')
                    .append(d.delta() == null ? "–" : signed(d.delta())).append("</td><td>")
                    .append(d.ciLow() == null ? "–" : "[" + signed(d.ciLow()) + ", " + signed(d.ciHigh()) + "]").append("</td><td>")
                    .append(d.p() == null ? "–" : esc(pValue(d.p()))).append("</td><td class='why v-").append(d.verdict()).append("'>")
                    .append(d.verdict().name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" · ").append(esc(d.why())).append("</td></tr>");
        }
        h.append("</table></div>");
        List<RunComparison.MetricDelta> ops = deltas.stream().filter(d -> d.kind() == MetricKind.OPS).toList();
        if (ops.isEmpty()) return;
        h.append("<h2>Operations (reported, not gated)</h2><table><tr><th class=l>metric</th><th>base mean</th><th>base p50 / p95</th>")
                .append("<th>candidate mean</th><th>candidate p50 / p95</th><th>Δ mean</th></tr>");
        for (RunComparison.MetricDelta d : ops) {
            h.append("<tr><td class=l>").append(esc(d.metric())).append("</td><td>").append(mean(d.base())).append("</td><td>").append(percentiles(d.base()))
                    .append("</td><td>").append(mean(d.candidate())).append("</td><td>").append(percentiles(d.candidate())).append("</td><td>")
                    .append(d.delta() == null ? "–" : signed(d.delta())).append("</td></tr>");
        }
        h.append("</table>");
    }

    private static void sliceTable(StringBuilder h, RunComparison c) {
        if (c.slices().isEmpty()) return;
        Map<String, Map<String, RunComparison.MetricDelta>> bySlice = new LinkedHashMap<>();
        List<String> metrics = new ArrayList<>();
        for (RunComparison.MetricDelta d : c.slices()) {
            if (d.kind() == MetricKind.OPS) continue;
            bySlice.computeIfAbsent(d.slice(), k -> new LinkedHashMap<>()).put(d.metric(), d);
            if (!metrics.contains(d.metric())) metrics.add(d.metric());
        }
        metrics.sort(Comparator.comparing(MetricKind::of).thenComparing(Comparator.naturalOrder()));
        h.append("<h2>Per slice: Δ (candidate − base)</h2><p class=sub>Coloured by verdict: <span class=v-FAIL>fail</span> · <span class=v-WORSE>")
                .append("significant drop within the limit</span> · <span class=v-BETTER>significant gain</span> · <span class=v-SAME>no significant change</span>")
                .append(" · <span class=v-NOT_GATED>not gated</span>. Hover a cell for means, interval and p.</p>");
        for (int from = 0; from < metrics.size(); from += SLICE_TABLE_METRICS) {
            sliceTable(h, bySlice, metrics.subList(from, Math.min(metrics.size(), from + SLICE_TABLE_METRICS)));
        }
    }

    /** One block of the per-slice table: every slice with its paired n, and these metrics' deltas. */
    private static void sliceTable(StringBuilder h, Map<String, Map<String, RunComparison.MetricDelta>> bySlice, List<String> metrics) {
        h.append("<div class=scroll><table class=slices><tr><th class=l>slice</th><th>n</th>");
        metrics.forEach(m -> h.append("<th>").append(breakable(m)).append("</th>"));
        h.append("</tr>");
        bySlice.forEach((slice, row) -> {
            int n = row.values().stream().mapToInt(RunComparison.MetricDelta::paired).max().orElse(0);
            h.append("<tr><th class=l>").append(esc(slice)).append("</th><td>").append(n).append("</td>");
            for (String m : metrics) {
                RunComparison.MetricDelta d = row.get(m);
                if (d == null) {
                    h.append("<td class=v-NOT_GATED>–</td>");
                } else {
                    String title = (d.base() == null ? "–" : num(d.base().mean())) + " → " + (d.candidate() == null ? "–" : num(d.candidate().mean()))
                            + (d.ciLow() == null ? "" : ", 95% [" + signed(d.ciLow()) + ", " + signed(d.ciHigh()) + "], p " + pValue(d.p())) + "; " + d.why();
                    h.append("<td class=v-").append(d.verdict()).append(" title='").append(esc(title)).append("'>")
                            .append(d.delta() == null ? esc(d.presence() == RunComparison.Presence.BASE_ONLY ? "base only" : "candidate only") : signed(d.delta()))
                            .append("</td>");
                }
            }
            h.append("</tr>");
        });
        h.append("</table></div>");
    }

    private static void warnings(StringBuilder h, List<String> warnings) {
        if (warnings.isEmpty()) return;
        h.append("<div class=warn><b>Warnings</b><ul>");
        warnings.forEach(w -> h.append("<li>").append(esc(w)).append("</li>"));
        h.append("</ul></div>");
    }

    private static String page(String title, StringBuilder body) {
        return "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width,initial-scale=1'>"
                + "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>" + esc(title)
                + "</title><style>" + CSS + "</style></head><body><main>" + body + "</main></body></html>\n";
    }

    private static String mean(EvalRun.Summary s) {
        return s == null ? "–" : num(s.mean());
    }

    private static String percentiles(EvalRun.Summary s) {
        return s == null || s.p50() == null ? "–" : num(s.p50()) + " / " + opt(s.p95());
    }

    private static double clamp(double v) {
        return Math.max(0, Math.min(1, v));
    }

    private static String num(double v) {
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String opt(Double v) {
        return v == null ? "–" : num(v);
    }

    private static String signed(double v) {
        return String.format(Locale.ROOT, "%+.3f", v);
    }

    private static String pValue(double p) {
        return p < 0.001 ? "<0.001" : String.format(Locale.ROOT, "%.3f", p);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
