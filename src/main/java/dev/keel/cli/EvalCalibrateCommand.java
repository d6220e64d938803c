package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.eval.Calibration;
import dev.keel.eval.Judge;
import dev.keel.eval.Judges;
import dev.keel.http.Json;
import dev.keel.ingest.IngestListener;
import dev.keel.store.ContentHash;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keel eval calibrate}: scores a labelled file with a judge, prints agreement, Cohen's kappa and the confusion
 * table (overall and per split), and stores the calibration in the data directory under the judge's id.
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Measure how far a judge agrees with human labels and record whether it is calibrated (agreement ≥ 80%% and Cohen's kappa ≥ 0.4).",
                "Labels file: JSONL lines {id, question, answer, context: [strings or {title, section, text}], label: supported|unsupported|1-5,",
                "metric?, split?}. A judge score of 0.75 or more on [0, 1] (4 or 5 on the 1-5 rubric) counts as supported.",
                "Needs at least " + Calibration.MIN_EXAMPLES + " labelled examples of the metric, both supported and unsupported ones. The record",
                "(with the labels file's hash and n) is not replaced by one measured on fewer examples unless --replace is given."})
final class EvalCalibrateCommand implements Callable<Integer> {
    /** Disagreements listed after the figures; the rest are counted. */
    private static final int SHOWN_DISAGREEMENTS = 10;

    @Mixin
    CommonOptions common;

    @Option(names = "--labels", required = true, paramLabel = "FILE", description = "The labelled answers (JSONL).")
    Path labels;

    @Option(names = "--judge", paramLabel = "MODEL", description = "Catalog chat model to judge with (default: eval.judge.model, else the offline heuristic judge).")
    String judge;

    @Option(names = "--metric", defaultValue = Judge.FAITHFULNESS, description = "Metric the labels grade (default: ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--docs", paramLabel = "DIR", description = "Documents the answers are about: the heuristic judge reads term rarity and names from them.")
    Path docs;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--replace", description = "Replace the calibration on record even when it was measured on more examples.")
    boolean replace;

    @Override
    public Integer call() throws Exception {
        List<Calibration.Example> examples;
        try {
            examples = Calibration.readLabels(labels);
        } catch (IllegalArgumentException bad) {
            throw new IllegalArgumentException(RunFiles.printable(bad.getMessage()), bad);
        }
        Calibration.requireEnough(examples, metric, labels.toString());
        String labelsHash = ContentHash.sha256(Files.readAllBytes(labels));
        KeelConfig cfg = common.loadConfig();
        String model = judge != null ? judge : cfg.eval().judgeModel();
        Calibration.Result r;
        try (ScratchDir scratch = new ScratchDir("keel-calibrate-"); Keel keel = Keel.openWithSharedCache(cfg, scratch.path(), common.dataDir())) {
            if (docs != null) {
                keel.ingestor().ingestPaths(common.tenant, List.of(docs), false, keel.traces().start("ingest", common.tenant), new ProgressBar(System.err, "files"));
            }
            Judges.Selection selection = Judges.create(keel, model, null, null, judge != null ? "--judge" : "eval.judge.model");
            System.err.printf("calibrating %s on %s (%d labelled examples)%n", selection.judge().id(), labels, examples.size());
            try {
                r = Calibration.run(selection.judge(), common.tenant, examples, metric, labels.getFileName().toString(), Instant.now());
            } catch (Judge.JudgeException failed) {
                throw new Judge.JudgeException(RunFiles.printable(failed.getMessage()), failed); // it may quote the judge's reply
            }
        }
        if (r.overall().n() == 0) throw new IllegalArgumentException(labels + " has no scored example of metric '" + metric + "'");
        Path recorded = Calibration.store(common.dataDir(), r, labelsHash, replace);
        System.err.println("recorded in " + recorded);
        if (json) {
            System.out.println(Json.write(r));
            return 0;
        }
        System.out.printf("judge %s, metric %s, %d examples%s%n", r.judgeId(), r.metric(), r.overall().n(),
                r.unscored() == 0 ? "" : " (" + r.unscored() + " not scored by the judge, left out)");
        print("overall", r.overall());
        r.splits().forEach(EvalCalibrateCommand::print);
        System.out.println("confusion (rows: label, columns: judge)   supported  unsupported");
        System.out.printf("  supported                               %9d  %11d%n", r.overall().supportedSupported(), r.overall().supportedUnsupported());
        System.out.printf("  unsupported                             %9d  %11d%n", r.overall().unsupportedSupported(), r.overall().unsupportedUnsupported());
        r.disagreements().stream().limit(SHOWN_DISAGREEMENTS).forEach(d -> System.out.printf("  disagrees: %s (line %d) labelled %s, judge %.2f: %s%n",
                RunFiles.printable(d.id()), d.line(), d.labelSupported() ? "supported" : "unsupported", d.score(), RunFiles.printable(String.valueOf(d.reason()))));
        if (r.disagreements().size() > SHOWN_DISAGREEMENTS) System.out.printf("  … and %d more%n", r.disagreements().size() - SHOWN_DISAGREEMENTS);
        System.out.println(r.calibrated() ? "calibrated: agreement is at least 80% and kappa at least 0.4; recorded for runs that use this judge"
                : "UNCALIBRATED: agreement is below 80% or kappa below 0.4; every report that uses this judge will say so");
        return 0;
    }

    private static void print(String name, Calibration.Figures f) {
        System.out.printf("%-8s agreement %.3f  Cohen's kappa %.3f  (%d examples)%n", name, f.agreement(), f.kappa(), f.n());
    }
}
