package dev.keel.cli;

import dev.keel.config.GuardConfig;
import dev.keel.embed.BgeSmallEmbedder;
import dev.keel.guard.InjectionTrainer;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code keel guard …}: the guardrails from the command line: scan texts, train the injection classifier. */
@Command(name = "guard", mixinStandardHelpOptions = true, description = "Guardrails: scan texts for prompt injection and PII; train the injection classifier.",
        subcommands = {GuardScanCommand.class, GuardCommand.Train.class, CommandLine.HelpCommand.class})
final class GuardCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train the injection classifier on labelled JSONL files ({\"text\",\"label\":0|1}; each file is one source) "
                    + "and print leave-one-source-out figures. Write --out to src/main/resources/guard/injection-model.bin to ship the model "
                    + "(--data here names training folders, not a Keel data directory).")
    static final class Train implements Callable<Integer> {
        @Option(names = "--data", required = true, description = "Directory searched for *.jsonl files; repeat for several.")
        List<Path> data;

        @Option(names = "--out", required = true, description = "Model file to write.")
        Path out;

        @Option(names = "--seed", defaultValue = "9", description = "Seed for sampling, folds and example order (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--skip", description = "A file name to leave out (repeatable), e.g. a source that biases the classifiers.")
        Set<String> skip = Set.of();

        @Option(names = "--vector-cache", description = "File of embeddings kept between runs, so a retrain skips the model (created if absent).")
        Path vectorCache;

        @Option(names = "--no-eval", description = "Skip the leave-one-source-out evaluation (faster).")
        boolean noEval;

        @Override
        public Integer call() throws Exception {
            for (Path d : data) if (!Files.isDirectory(d)) throw new IllegalArgumentException("--data: not a directory: " + d);
            double threshold = GuardConfig.DEFAULTS.input().strictThreshold();
            try (BgeSmallEmbedder embedder = new BgeSmallEmbedder(Runtime.getRuntime().availableProcessors())) {
                InjectionTrainer.Report r = InjectionTrainer.train(data, skip, seed, embedder, vectorCache, threshold, !noEval, System.err);
                if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
                try (OutputStream o = Files.newOutputStream(out)) {
                    InjectionTrainer.write(r, o);
                }
                if (!r.heldOut().isEmpty()) {
                    System.out.printf("leave-one-source-out at the strict threshold %.2f:%n", threshold);
                    r.heldOut().forEach(s -> System.out.printf("  %-55s %s%n", s.source(), InjectionTrainer.describe(s)));
                }
                System.out.printf("wrote %s (%,d bytes)%n", out, r.model().length);
                return 0;
            }
        }
    }
}
