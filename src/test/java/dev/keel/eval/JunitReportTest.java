package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.eval.RunComparison.Gate;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** JUnit XML for CI systems: well-formed whatever the runs contain, one testcase per gated metric and slice, failures counted right. */
class JunitReportTest {
    private static Document parse(String xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private static Map<String, Double> withZeroFaithfulness(Map<String, Double> metrics) {
        Map<String, Double> out = new java.util.HashMap<>(metrics);
        out.put(Judge.FAITHFULNESS, 0.0);
        return out;
    }

    @Test
    void aFailedGateHasOneTestcasePerGatedMetricAndSliceAndAFailurePerRegressionWithTheNumbers() throws Exception {
        RunComparison c = HtmlReportTest.evilComparison();
        EvalRun base = EvalRunFixtures.golden("b", 7);
        EvalRun cand = EvalRunFixtures.withExamples(base, "c\u0001\u001b[31m", base.examples().stream().map(e -> e.id().equals("q02")
                ? new EvalRun.ExampleResult(e.id(), e.split(), e.slices(), e.fingerprint(), "bell\u0007 and ]]> and \uD800 lone", null, "a", true, null,
                List.of(), List.of(), withZeroFaithfulness(e.metrics()), Map.of(), null) : e).toList());
        for (RunComparison comparison : List.of(c, RunComparison.compare(base, EvalRunFixtures.withMetrics(cand, "c\u0001", (e, m) -> {
            m.computeIfPresent(Judge.FAITHFULNESS, (k, v) -> Math.max(0, v - 0.4));
            return m;
        }), Gate.defaults()))) {
            Document doc = parse(JunitReport.comparison(comparison));
            Element suite = (Element) doc.getElementsByTagName("testsuite").item(0);
            long gated = java.util.stream.Stream.concat(comparison.overall().stream(), comparison.slices().stream()).filter(RunComparison.MetricDelta::gated).count();
            NodeList cases = doc.getElementsByTagName("testcase"), failures = doc.getElementsByTagName("failure");
            assertThat(cases.getLength()).isEqualTo(gated);
            assertThat(Integer.parseInt(suite.getAttribute("tests"))).isEqualTo(gated);
            assertThat(failures.getLength()).isEqualTo(comparison.regressions().size()).isPositive();
            assertThat(Integer.parseInt(suite.getAttribute("failures"))).isEqualTo(failures.getLength());
            Element failure = (Element) failures.item(0);
            assertThat(failure.getAttribute("message")).startsWith("faithfulness").contains("base 0.").contains("delta -0.").contains("95% interval");
            assertThat(((Element) failure.getParentNode()).getAttribute("classname")).isEqualTo("eval.overall");
        }
    }

    @Test
    void aPassedGateHasNoFailures() throws Exception {
        EvalRun run = EvalRunFixtures.golden("b", 7);
        Document doc = parse(JunitReport.comparison(RunComparison.compare(run, run, Gate.defaults())));
        assertThat(doc.getElementsByTagName("testcase").getLength()).isPositive();
        assertThat(doc.getElementsByTagName("failure").getLength()).isZero();
    }

    @Test
    void aSingleRunHasAPassingTestcasePerMetricAndSliceMetric() throws Exception {
        EvalRun run = EvalRunFixtures.golden("b", 7);
        Document doc = parse(JunitReport.run(run));
        int expected = run.overall().size() + run.slices().values().stream().mapToInt(Map::size).sum();
        assertThat(doc.getElementsByTagName("testcase").getLength()).isEqualTo(expected);
        assertThat(doc.getElementsByTagName("failure").getLength()).isZero();
    }
}
