package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.SampleCorpus;
import dev.keel.config.GuardConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The guard promises to be thread-safe: checked from several threads at once, in different orders,
 * every text gets the answer it gets alone. A detector with shared mutable state (a reused matcher,
 * a decoding buffer, a cache keyed wrongly) shows up here as one text's verdict or spans in another's.
 */
class RedTeamConcurrencyTest {
    private static final int THREADS = 4;
    /** Rows of each file; enough to interleave every detector with every other, small enough to stay quick. */
    private static final int ROWS_PER_FILE = 40;
    /** Scores may differ in the last bits when inference runs on other threads; verdicts and spans may not. */
    private static final double SCORE_TOLERANCE = 1e-4;

    record Answer(String verdict, double score, List<PiiEntity> entities) {
        static Answer of(GuardResult r) {
            return new Answer(r.verdict().name(), r.score(), r.entities());
        }
    }

    @Test
    void everyTextGetsTheSameAnswerFromManyThreadsAsAlone() throws Exception {
        Guard guard = Guard.create(GuardConfig.DEFAULTS, SampleCorpus.keel().embedder());
        List<String> texts = Stream.of(RedTeamSuite.attacks().stream().map(RedTeamSuite.Attack::text).limit(ROWS_PER_FILE),
                RedTeamSuite.benign().stream().map(RedTeamSuite.Benign::text).limit(ROWS_PER_FILE),
                RedTeamSuite.pii().stream().map(RedTeamSuite.PiiCase::text).limit(ROWS_PER_FILE)).flatMap(s -> s).toList();
        List<Answer> alone = texts.stream().map(t -> Answer.of(check(guard, t))).toList();

        List<Future<List<String>>> runs = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            for (int thread = 0; thread < THREADS; thread++) {
                List<Integer> order = new ArrayList<>(IntStream.range(0, texts.size()).boxed().toList());
                Collections.shuffle(order, new Random(thread));
                runs.add(pool.submit(() -> {
                    List<String> mismatches = new ArrayList<>();
                    for (int i : order) {
                        Answer together = Answer.of(check(guard, texts.get(i)));
                        Answer expected = alone.get(i);
                        if (!together.verdict().equals(expected.verdict()) || !together.entities().equals(expected.entities())
                                || Math.abs(together.score() - expected.score()) > SCORE_TOLERANCE) {
                            mismatches.add("row " + i + ": " + together + " instead of " + expected);
                        }
                    }
                    return mismatches;
                }));
            }
            pool.shutdown();
            assertThat(pool.awaitTermination(5, TimeUnit.MINUTES)).as("all threads finished").isTrue();
        }
        for (Future<List<String>> run : runs) assertThat(run.get()).isEmpty();
    }

    private static GuardResult check(Guard guard, String text) {
        return guard.check(text, Guard.Direction.INPUT, GuardConfig.Profile.STRICT, new Redaction());
    }
}
