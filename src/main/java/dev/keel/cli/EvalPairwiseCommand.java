package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.eval.EvalRun;
import dev.keel.eval.Judge;
import dev.keel.eval.Judges;
import dev.keel.eval.PairwiseJudge;
import dev.keel.http.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code keel eval pairwise BASE.json CAND.json}: asks a judge model which run answered each shared example better,
 * in both orders (disagreements are ties), and prints the candidate's wins, losses, ties and win rate with a 95% CI.
 * A judge that fails on any example is no tie: nothing is reported and the command exits {@value EvalRunCommand#INCOMPLETE_EXIT}.
 */
@Command(name = "pairwise", mixinStandardHelpOptions = true,
        description = {"Compare two runs' answers example by example with a judge model, A/B then B/A (disagreements count as ties).",
                "Prints the candidate's wins, losses and ties, and its win rate (ties count half) with a 95%% bootstrap interval."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:compared", "2:bad input (options, run files, configuration)", "3:the judge failed (provider down, invalid verdicts): nothing is reported"})
final class EvalPairwiseCommand implements Callable<Integer> {
    /** Seed of the win rate's bootstrap: the same runs give the same interval. */
    private static final long SEED = 42;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "BASE.json", description = "The baseline run (keel eval run --out).")
    Path base;

    @Parameters(index = "1", paramLabel = "CAND.json", description = "The candidate run.")
    Path candidate;

    @Option(names = "--judge", paramLabel = "MODEL", description = "Catalog chat model that compares (default: eval.judge.model).")
    String judge;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "" + Integer.MAX_VALUE, description = "Compare at most N examples.")
    int limit;

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the comparison as JSON.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (limit < 1) throw new IllegalArgumentException("--limit must be at least 1");
        EvalRun baseRun = EvalRun.read(base), candidateRun = EvalRun.read(candidate);
        KeelConfig cfg = common.loadConfig();
        String model = judge != null ? judge : cfg.eval().judgeModel();
        if (model == null) throw new IllegalArgumentException("pairwise comparison needs a judge model: --judge MODEL or eval.judge.model in keel.yaml");
        PairwiseJudge.Report report;
        String id, warning;
        try (ScratchDir scratch = new ScratchDir("keel-pairwise-"); Keel keel = Keel.openWithSharedCache(cfg, scratch.path(), common.dataDir())) {
            keel.gateway().checkConfigured(judge != null ? "--judge" : "eval.judge.model", model);
            String judged = candidateRun.settings() == null ? null : candidateRun.settings().answerModel();
            warning = Judges.familyWarning(cfg.gateway(), model, judged).orElse(null);
            if (warning != null) System.err.println("keel: warning: " + warning);
            PairwiseJudge pairwise = new PairwiseJudge(keel.gateway(), keel.traces(), model, null);
            id = pairwise.id();
            try {
                report = pairwise.compare(common.tenant, baseRun, candidateRun, limit, SEED);
            } catch (Judge.JudgeException failed) {
                System.err.println("keel: incomplete: the judge failed, so no comparison is reported: " + RunFiles.printable(failed.getMessage()));
                return EvalRunCommand.INCOMPLETE_EXIT;
            }
        }
        if (report.n() == 0) throw new IllegalArgumentException(base + " and " + candidate + " have no answered example in common");
        System.out.printf("%s vs %s, judge %s: %d examples%n", candidate.getFileName(), base.getFileName(), id, report.n());
        System.out.printf("candidate wins %d, losses %d, ties %d; win rate %.3f (95%% CI %.3f–%.3f)%n", report.wins(), report.losses(), report.ties(),
                report.winRate(), report.ciLow(), report.ciHigh());
        Set<String> candidateIds = candidateRun.examples().stream().map(EvalRun.ExampleResult::id).collect(Collectors.toSet());
        long shared = baseRun.examples().stream().filter(e -> candidateIds.contains(e.id())).count();
        if (report.n() < limit && shared > report.n()) {
            // Only examples both runs answered are compared: declining does not lose here, refusal_correct in compare sees it.
            System.out.printf("skipped %d of %d shared examples that either run declined: a candidate that declines more is not penalised by"
                    + " this win rate; see refusal_correct in keel eval compare%n", shared - report.n(), shared);
        }
        if (out != null) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("base", base.toString());
            json.put("candidate", candidate.toString());
            json.put("judge", id);
            if (warning != null) json.put("warning", warning);
            json.put("report", report);
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(out, Json.write(json));
        }
        return 0;
    }
}
