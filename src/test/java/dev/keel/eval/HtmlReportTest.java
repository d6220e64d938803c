package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.eval.RunComparison.Gate;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The HTML reports: self-contained, every run string escaped, the parts a reader needs present. */
class HtmlReportTest {
    static final String EVIL_QUESTION = "<script>alert(\"pwned\")</script> Is 'it' & \"that\" refundable?";
    static final String EVIL_ANSWER = "\"><img src=x onerror=alert(1)> It is </textarea><svg onload=alert(2)>";
    static final String EVIL_SLICE = "<b onmouseover='alert(3)'>vip</b>";

    /** A base and a candidate in which one example carries markup everywhere a run has text, and faithfulness fails the gate. */
    static RunComparison evilComparison() {
        EvalRun base = EvalRunFixtures.golden("base\"><script>", 7);
        EvalRun evilBase = EvalRunFixtures.withExamples(base, "base\"><script>", base.examples().stream().map(e -> e.id().equals("q01")
                ? new EvalRun.ExampleResult(e.id(), e.split(), List.of("answerable", EVIL_SLICE), e.fingerprint(), EVIL_QUESTION, null, EVIL_ANSWER,
                true, null, List.of(), List.of(), Map.of(Judge.FAITHFULNESS, 1.0, "<i>metric</i>", 0.5), Map.of(), null)
                : e).toList());
        EvalRun cand = EvalRunFixtures.withMetrics(evilBase, "cand'<x>", (e, m) -> {
            m.computeIfPresent(Judge.FAITHFULNESS, (k, v) -> Math.max(0, v - 0.4));
            return m;
        });
        return RunComparison.compare(evilBase, cand, Gate.defaults());
    }

    private static void assertSelfContainedAndEscaped(String html) {
        assertThat(html).startsWith("<!DOCTYPE html>");
        assertThat(html).doesNotContain("<script", "<img", "<link", "<iframe", "<svg onload", "<b onm", "<i>metric", "url(", "@import", "<0.");
        assertThat(Pattern.compile("<[a-z]+[^<>]*\\s(src|href|on[a-z]+)=").matcher(html).find()).as("no tag loads or runs anything").isFalse();
        assertThat(html.replace("xmlns='http://www.w3.org/2000/svg'", "")).doesNotContain("http:", "https:", "//");
    }

    @Test
    void aComparisonPageLoadsNothingAndEscapesEveryStringFromTheRuns() {
        String html = HtmlReport.comparison(evilComparison());
        assertSelfContainedAndEscaped(html);
        assertThat(html).contains("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; Is &#39;it&#39; &amp; &quot;that&quot; refundable?");
        assertThat(html).contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
        assertThat(html).contains("&lt;b onmouseover=&#39;alert(3)&#39;&gt;vip&lt;/b&gt;");
    }

    @Test
    void thePerSliceTableIsSplitIntoBlocksNarrowEnoughForA1200PixelWindowEachWithTheSlicesN() {
        EvalRun base = EvalRunFixtures.golden("a", 1);
        String html = HtmlReport.comparison(RunComparison.compare(base, base, Gate.defaults()));
        long sliceMetrics = base.slices().values().stream().flatMap(m -> m.keySet().stream()).distinct()
                .filter(m -> MetricKind.of(m) != MetricKind.OPS).count();
        List<String> blocks = Pattern.compile("<table class=slices>.*?</table>").matcher(html).results().map(r -> r.group()).toList();
        assertThat(sliceMetrics).isGreaterThan(8);
        assertThat(blocks).hasSize((int) ((sliceMetrics + 7) / 8)).allSatisfy(b -> {
            assertThat(b).startsWith("<table class=slices><tr><th class=l>slice</th><th>n</th>");
            assertThat(b.substring(0, b.indexOf("</tr>")).split("<th").length - 1).isLessThanOrEqualTo(2 + 8);
        });
    }

    @Test
    void bidiOverridesAndOtherInvisibleCharactersAreDroppedSoNoTextIsReversedOrHidden() {
        assertThat(HtmlReport.esc("refund \u202Edays 03\u202C ok \u2066x\u2069 zero\u200Bwidth \uFEFFbom \u0007bell \uDB40\uDC01tag\nnext"))
                .isEqualTo("refund days 03 ok x zerowidth bom bell tag\nnext");
    }

    @Test
    void aComparisonPageShowsTheVerdictChartsSlicesAndWorstRegressionsWithBothAnswers() {
        RunComparison c = evilComparison();
        String html = HtmlReport.comparison(c);
        assertThat(html).contains("Gate failed").contains("<svg").contains("<h2>Per slice").contains("class=v-FAIL").contains("<h2>Worst regressions");
        RunComparison.ExampleChange worst = c.regressions().get(0).worst().get(0);
        assertThat(html).contains(HtmlReport.esc(worst.baseAnswer())).contains(HtmlReport.esc(worst.candidateAnswer()));
        assertThat(html).contains("latency_ms");
        assertThat(HtmlReport.comparison(RunComparison.compare(EvalRunFixtures.golden("a", 1), EvalRunFixtures.golden("a", 1), Gate.defaults())))
                .contains("Gate passed").doesNotContain("banner fail");
    }

    @Test
    void aRunPageLoadsNothingEscapesAndListsTheLowestScoringExamples() {
        EvalRun base = EvalRunFixtures.golden("run", 7);
        EvalRun evil = EvalRunFixtures.withExamples(base, "run<script>", base.examples().stream().map(e -> e.id().equals("q01")
                ? new EvalRun.ExampleResult(e.id(), e.split(), List.of(EVIL_SLICE), e.fingerprint(), EVIL_QUESTION, "<ref>", EVIL_ANSWER, true, null,
                List.of(), List.of(), Map.of(Judge.FAITHFULNESS, 0.0), Map.of(Judge.FAITHFULNESS, "<why>"), null)
                : e).toList());
        String html = HtmlReport.run(evil);
        assertSelfContainedAndEscaped(html);
        assertThat(html).contains("Lowest-scoring examples").contains("<h2>Per slice").contains("&lt;why&gt;").contains("&lt;ref&gt;");
        assertThat(html.indexOf("q01")).as("the lowest example comes first").isLessThan(html.indexOf("Lowest-scoring") + 400);
        assertThat(HtmlReport.run(EvalRunFixtures.aggregatesOnly(base))).contains("keeps no per-example results");
    }
}
