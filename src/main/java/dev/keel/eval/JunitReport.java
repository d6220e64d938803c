package dev.keel.eval;

import java.io.StringWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * JUnit XML (the Ant/Surefire {@code testsuites} dialect that CI systems read) for a {@link RunComparison}: one
 * testcase per gated metric overall and per gated slice metric, failed when the gate failed it, with the numbers in
 * the failure; and for a single {@link EvalRun}: one passing testcase per metric and slice metric carrying its
 * value. Text from runs is escaped by the XML writer, and characters XML 1.0 cannot carry are replaced, so the
 * output always parses. Pure functions, thread-safe.
 */
public final class JunitReport {
    private static final XMLOutputFactory XML = XMLOutputFactory.newFactory();

    private JunitReport() {}

    /** The gate as test cases: {@code overall.METRIC} and {@code slice.SLICE.METRIC}; not-gated metrics are left out. */
    public static String comparison(RunComparison c) {
        List<RunComparison.MetricDelta> gated = java.util.stream.Stream.concat(c.overall().stream(), c.slices().stream())
                .filter(RunComparison.MetricDelta::gated).toList();
        long failures = gated.stream().filter(d -> d.verdict() == RunComparison.Verdict.FAIL).count();
        return write(w -> {
            suite(w, "keel eval compare " + c.base().runId() + " vs " + c.candidate().runId(), gated.size(), failures);
            for (RunComparison.MetricDelta d : gated) {
                w.writeStartElement("testcase");
                w.writeAttribute("classname", d.slice() == null ? "eval.overall" : "eval.slice." + clean(d.slice()));
                w.writeAttribute("name", clean(d.metric()));
                w.writeAttribute("time", "0");
                String numbers = d.candidate() == null || d.p() == null ? String.format(Locale.ROOT, "base %.4f, candidate %s, n %d", d.base().mean(),
                        d.candidate() == null ? "absent" : String.format(Locale.ROOT, "%.4f", d.candidate().mean()), d.paired())
                        : String.format(Locale.ROOT, "base %.4f, candidate %.4f, delta %+.4f, 95%% interval [%+.4f, %+.4f], p %.4f, n %d",
                        d.base().mean(), d.candidate().mean(), d.delta(), d.ciLow(), d.ciHigh(), d.p(), d.paired());
                if (d.verdict() == RunComparison.Verdict.FAIL) {
                    w.writeStartElement("failure");
                    w.writeAttribute("type", "regression");
                    w.writeAttribute("message", clean(d.metric() + (d.slice() == null ? "" : " in slice " + d.slice()) + ": " + d.why() + "; " + numbers));
                    w.writeCharacters(clean(worstText(c, d)));
                    w.writeEndElement();
                } else {
                    w.writeStartElement("system-out");
                    w.writeCharacters(clean(d.verdict() + ": " + d.why() + "; " + numbers));
                    w.writeEndElement();
                }
                w.writeEndElement();
            }
            w.writeEndElement();
        });
    }

    /** A single run's figures as passing test cases, so a CI system charts them over builds. */
    public static String run(EvalRun run) {
        Map<String, EvalRun.Summary> cases = new TreeMap<>();
        run.overall().forEach((m, s) -> cases.put("eval.overall\u0000" + m, s));
        run.slices().forEach((slice, metrics) -> metrics.forEach((m, s) -> cases.put("eval.slice." + slice + "\u0000" + m, s)));
        return write(w -> {
            suite(w, "keel eval run " + run.runId(), cases.size(), 0);
            for (Map.Entry<String, EvalRun.Summary> e : cases.entrySet()) {
                String[] key = e.getKey().split("\u0000", 2);
                EvalRun.Summary s = e.getValue();
                w.writeStartElement("testcase");
                w.writeAttribute("classname", clean(key[0]));
                w.writeAttribute("name", clean(key[1]));
                w.writeAttribute("time", "0");
                w.writeStartElement("system-out");
                w.writeCharacters(String.format(Locale.ROOT, "mean %.4f, 95%% interval [%.4f, %.4f], n %d", s.mean(), s.ciLow(), s.ciHigh(), s.n()));
                w.writeEndElement();
                w.writeEndElement();
            }
            w.writeEndElement();
        });
    }

    private interface Body {
        void write(XMLStreamWriter w) throws XMLStreamException;
    }

    private static String write(Body body) {
        StringWriter out = new StringWriter();
        try {
            XMLStreamWriter w = XML.createXMLStreamWriter(out);
            w.writeStartDocument("UTF-8", "1.0");
            w.writeCharacters("\n");
            w.writeStartElement("testsuites");
            body.write(w);
            w.writeEndElement();
            w.writeEndDocument();
            w.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("cannot write JUnit XML", e);
        }
        return out + "\n";
    }

    private static void suite(XMLStreamWriter w, String name, int tests, long failures) throws XMLStreamException {
        w.writeStartElement("testsuite");
        w.writeAttribute("name", clean(name));
        w.writeAttribute("tests", Integer.toString(tests));
        w.writeAttribute("failures", Long.toString(failures));
        w.writeAttribute("errors", "0");
        w.writeAttribute("skipped", "0");
    }

    private static String worstText(RunComparison c, RunComparison.MetricDelta d) {
        StringBuilder s = new StringBuilder();
        c.regressions().stream().filter(r -> r.metric().equals(d.metric()) && java.util.Objects.equals(r.slice(), d.slice())).findFirst()
                .ifPresent(r -> r.worst().forEach(x -> s.append(String.format(Locale.ROOT, "%s: %.3f -> %.3f  %s%n", x.id(), x.base(), x.candidate(),
                        x.question()))));
        return s.toString();
    }

    /** Replaces characters XML 1.0 cannot represent (most C0 controls, lone surrogates) with U+FFFD; null becomes empty. */
    static String clean(String s) {
        if (s == null) return "";
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            boolean surrogatePair = Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            if (surrogatePair) {
                out.append(ch).append(s.charAt(++i));
            } else if (ch == '\t' || ch == '\n' || ch == '\r' || (ch >= 0x20 && ch <= 0xD7FF) || (ch >= 0xE000 && ch <= 0xFFFD)) {
                out.append(ch);
            } else {
                out.append('\uFFFD');
            }
        }
        return out.toString();
    }
}
