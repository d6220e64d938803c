package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.FakeLlmServer;
import dev.keel.ingest.IngestListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worked example of README "A prompt change, evaluated" (examples/prompt-change/), with {@link ReadingModel} in place
 * of the user's model: the golden set's dev split answered under the built-in prompt, under a shorter prompt that no
 * longer asks for citations, and under a rewording that keeps every rule, each compared by the release gate. The model
 * answers a share of questions with its second-best sentence, differently per seed, so reruns vary as a sampling
 * model's do; the gate must see through that variation and still catch the prompt that broke grounding.
 */
class PromptChangeGateTest {
    private static final Path EXAMPLE = Path.of("examples", "prompt-change");
    /** Share of questions the reading model answers with its second-best sentence: its run-to-run variation. */
    private static final double NOISE = 0.15;
    private static final int RERUNS = 20;
    private static final EvalRunner.Options DEV_SPLIT = new EvalRunner.Options(EvalRunner.Mode.FULL, EvalExample.Split.DEV, Keel.DEFAULT_TENANT, 10, 42);

    @TempDir
    static Path tmp;
    private static FakeLlmServer model;
    private static EvalDataset golden;

    @BeforeAll
    static void startTheModel() throws IOException {
        model = new FakeLlmServer();
        golden = EvalDataset.load(SampleCorpus.GOLDEN);
    }

    @AfterAll
    static void stopTheModel() {
        model.close();
    }

    /** A Keel over the sample docs configured by the example's {@code configFile}, its model the reading model. */
    private static Keel keel(String configFile) throws IOException {
        Map<String, String> env = Map.of("LLM_BASE_URL", model.baseUrl(), "LLM_MODEL", "reader");
        KeelConfig config = KeelConfig.parse(Files.readString(EXAMPLE.resolve(configFile)), env::get);
        Keel keel = Keel.openWithSharedCache(config, Files.createTempDirectory(tmp, "keel-"), tmp);
        keel.ingestor().ingestPaths(Keel.DEFAULT_TENANT, List.of(SampleCorpus.DOCS), false, keel.traces().start("ingest", Keel.DEFAULT_TENANT),
                IngestListener.NONE);
        return keel;
    }

    /** The golden set's dev split answered by {@code keel} with the reading model seeded with {@code seed}. */
    private static EvalRun run(Keel keel, long seed) {
        model.reset();
        model.then(ReadingModel.reading(seed, NOISE));
        return new EvalRunner(keel, new HeuristicJudge(keel.answers(), keel.embedder())).run(golden, DEV_SPLIT, EvalRunner.Progress.NONE);
    }

    private static EvalRun run(String configFile, long seed) throws IOException {
        try (Keel keel = keel(configFile)) {
            return run(keel, seed);
        }
    }

    @Test
    void theGateCatchesThePromptThatDropsCitationsPassesTheRewordingAndIgnoresRerunNoise() throws IOException {
        try (Keel builtIn = keel("keel.yaml")) {
            EvalRun base = run(builtIn, 0);
            assertThat(base.overall().get(Judge.CITATION_ACCURACY).mean()).as("the reading model cites under the built-in prompt").isGreaterThan(0.5);

            RunComparison shorter = RunComparison.compare(base, run("shorter.yaml", 0), RunComparison.Gate.defaults());
            System.out.println("prompt change, shorter prompt without the citation rule: " + verdict(shorter));
            assertThat(shorter.failed()).isTrue();
            assertThat(shorter.failedOverall(Judge.CITATION_ACCURACY)).isTrue();

            RunComparison reworded = RunComparison.compare(base, run("reworded.yaml", 0), RunComparison.Gate.defaults());
            System.out.println("prompt change, built-in prompt reworded: " + verdict(reworded));
            assertThat(reworded.failed()).as(verdict(reworded)).isFalse();

            List<String> falseAlarms = new ArrayList<>();
            for (long seed = 1; seed <= RERUNS; seed++) {
                RunComparison rerun = RunComparison.compare(base, run(builtIn, seed), new RunComparison.Gate(0.03, 0.10, seed, List.of()));
                if (rerun.failed()) falseAlarms.add("seed " + seed + ": " + verdict(rerun));
            }
            System.out.printf("gate false alarms on unchanged reruns of a sampling model: %d of %d%n%s%n", falseAlarms.size(), RERUNS,
                    String.join("\n", falseAlarms));
            assertThat(falseAlarms.size()).as("false alarms over %d reruns", RERUNS).isLessThanOrEqualTo(1);
        }
    }

    private static String verdict(RunComparison c) {
        StringBuilder out = new StringBuilder(c.failed() ? "FAIL" : "pass");
        for (RunComparison.MetricDelta d : c.overall()) {
            if (d.base() == null || d.candidate() == null || d.kind() != MetricKind.QUALITY) continue;
            if (Math.abs(d.candidate().mean() - d.base().mean()) >= 0.01) {
                out.append(String.format(" %s %.3f→%.3f", d.metric(), d.base().mean(), d.candidate().mean()));
            }
        }
        return out.toString();
    }
}
