package dev.keel.cli;

import dev.keel.bench.OnlineBench;
import dev.keel.http.Json;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keel bench online}: what online evaluation adds to an answer, sampled and not (see {@link OnlineBench}). */
@Command(name = "online", mixinStandardHelpOptions = true,
        description = "Online evaluation's cost: the judge's work per sampled answer, and the request thread's time for an unsampled one, on the sample corpus.")
final class OnlineBenchCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--rounds", defaultValue = "3", description = "Rounds over the golden questions (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be at least 1");
        try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
            Path samples = DemoCommand.samples();
            OnlineBench.Result r = OnlineBench.run(samples, samples.resolveSibling("golden.jsonl"), rounds, scratch.path(), common.loadConfig(), System.err);
            if (json) {
                System.out.println(Json.write(r));
                return 0;
            }
            System.out.printf("answers                          %d%n", r.answers());
            System.out.printf("pipeline per answer              %8.2f ms%n", r.answerMeanMs());
            System.out.printf("judge + embed + store per sample %8.2f ms  (off the request path)%n", r.sampledWorkMs());
            System.out.printf("offer, unsampled                 %8.1f ns  (on the request path)%n", r.unsampledOfferNs());
            System.out.printf("offer, sampled (queued)          %8.1f ns  (on the request path)%n", r.sampledOfferNs());
            System.out.printf("at sample_rate %.2f: %.3f ms of work added per answer on average, %.1f%% of the pipeline's%n", r.sampleRate(),
                    r.addedPerAnswerMs(), 100 * r.addedShare());
            return 0;
        }
    }
}
