package dev.keel.cli;

import dev.keel.eval.EvalRun;
import dev.keel.eval.HtmlReport;
import dev.keel.eval.JunitReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keel eval report RUN.json --html FILE}: one run as a self-contained HTML page (and JUnit XML). */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Render one run: metric bars with 95%% intervals, operations figures, a",
                "per-slice table and the lowest-scoring examples. The HTML page is",
                "self-contained (inline CSS and SVG, nothing loaded from anywhere)."})
final class EvalReportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN.json", description = "A run written by keel eval run.")
    Path run;

    @Option(names = "--html", required = true, paramLabel = "FILE", description = "Where to write the HTML page.")
    Path html;

    @Option(names = "--junit", paramLabel = "FILE", description = "Also write JUnit XML: one passing testcase per metric and slice metric, with its value.")
    Path junit;

    @Override
    public Integer call() {
        EvalRun r = RunFiles.read(run);
        RunFiles.write(html, HtmlReport.run(r), "--html");
        if (junit != null) RunFiles.write(junit, JunitReport.run(r), "--junit");
        System.err.println("wrote " + html + (junit == null ? "" : " and " + junit));
        return 0;
    }
}
