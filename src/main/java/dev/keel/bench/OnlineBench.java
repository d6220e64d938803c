package dev.keel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.EvalConfig;
import dev.keel.config.KeelConfig;
import dev.keel.eval.HeuristicJudge;
import dev.keel.eval.OnlineEvaluation;
import dev.keel.index.SearchFilters;
import dev.keel.ingest.IngestListener;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What online evaluation adds to an answer, on the sample corpus with the offline judge. Every golden question is
 * answered by the pipeline ({@code AnswerEngine.answer}, extractive) and timed; then every answer is offered to an
 * online evaluation that samples all of them, and the time until all are judged, embedded and stored, divided by their
 * number, is the worker's work per sampled answer. An unsampled answer's cost is its {@code offer} call (one random
 * draw), timed over many calls against the same loop without it; a sampled one's request-side cost is its offer too
 * (a queue insert). Single-threaded, so the figures are CPU time on this machine; absolute times vary on shared ones.
 */
public final class OnlineBench {
    /** Calls timed per offer figure: enough that the loop's own cost and the clock's resolution vanish. */
    private static final int OFFER_CALLS = 5_000_000;
    private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);

    /**
     * Answers timed; the pipeline's mean time per answer; the worker's mean time per sampled answer (judge, query
     * embedding, store); the request thread's time per offer, unsampled and sampled, in ns; the configured sample rate and
     * the work it adds per answer on average (ms and as a share of the answer's time).
     */
    public record Result(int answers, double answerMeanMs, double sampledWorkMs, double unsampledOfferNs, double sampledOfferNs,
                         double sampleRate, double addedPerAnswerMs, double addedShare) {}

    private OnlineBench() {}

    public static Result run(Path docs, Path golden, int rounds, Path work, KeelConfig config, PrintStream log) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> questions = new ArrayList<>();
        for (String line : Files.readAllLines(golden)) if (!line.isBlank()) questions.add(json.readTree(line).get("question").asText());
        try (Keel keel = Keel.open(config, work.resolve("data"))) {
            log.println("online: ingesting the sample corpus…");
            keel.ingestor().ingestPaths(Keel.DEFAULT_TENANT, List.of(docs), false, keel.traces().start("bench", Keel.DEFAULT_TENANT), IngestListener.NONE);
            for (String q : questions) answer(keel, q); // warm-up: the model's first runs and the JIT
            List<String> asked = new ArrayList<>();
            List<Answer> answers = new ArrayList<>();
            long start = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                for (String q : questions) {
                    asked.add(q);
                    answers.add(answer(keel, q));
                }
            }
            double answerMs = (System.nanoTime() - start) / 1e6 / answers.size();
            log.printf("online: %d answers, %.2f ms each; judging them as samples…%n", answers.size(), answerMs);

            EvalConfig.Online everything = online(config, 1.0, answers.size());
            double sampledWorkMs, sampledOfferNs;
            try (OnlineEvaluation all = evaluation(keel, everything)) {
                long t0 = System.nanoTime();
                for (int i = 0; i < answers.size(); i++) all.offer(Keel.DEFAULT_TENANT, asked.get(i), answers.get(i));
                sampledOfferNs = (double) (System.nanoTime() - t0) / answers.size();
                if (!all.awaitIdle(IDLE_TIMEOUT)) throw new IllegalStateException("samples not judged within " + IDLE_TIMEOUT);
                sampledWorkMs = (System.nanoTime() - t0) / 1e6 / answers.size();
            }
            double unsampledNs;
            try (OnlineEvaluation none = evaluation(keel, online(config, 0.0, 1))) {
                unsampledNs = offerNs(none, asked.get(0), answers.get(0));
            }
            double rate = config.eval().online().sampleRate();
            double added = rate * sampledWorkMs;
            return new Result(answers.size(), answerMs, sampledWorkMs, unsampledNs, sampledOfferNs, rate, added, added / answerMs);
        }
    }

    private static Answer answer(Keel keel, String question) {
        return keel.answers().answer(new AnswerRequest(Keel.DEFAULT_TENANT, question, SearchFilters.NONE),
                keel.traces().start("bench", Keel.DEFAULT_TENANT));
    }

    private static OnlineEvaluation evaluation(Keel keel, EvalConfig.Online online) {
        return new OnlineEvaluation(online, new HeuristicJudge(keel.answers(), keel.embedder()), keel.embedder(), keel.database(),
                new SimpleMeterRegistry(), Clock.systemUTC(), () -> ThreadLocalRandom.current().nextDouble());
    }

    private static EvalConfig.Online online(KeelConfig config, double sampleRate, int queue) {
        EvalConfig.Online o = config.eval().online();
        return new EvalConfig.Online(true, sampleRate, Math.max(queue, o.queue()), o.windowMinutes(), o.baselineDays(), o.dropThreshold(), o.pValue(),
                o.idkRateRise(), o.topScoreDrop(), o.centroidDistance(), o.minSamples(), null);
    }

    /** ns per {@code offer} of an answer it does not sample: the loop with the calls minus the same loop without them. */
    private static double offerNs(OnlineEvaluation none, String question, Answer answer) {
        long sink = 0;
        for (int round = 0; round < 2; round++) { // the first round warms the JIT up
            long t0 = System.nanoTime();
            for (int i = 0; i < OFFER_CALLS; i++) {
                none.offer(Keel.DEFAULT_TENANT, question, answer);
                sink += i;
            }
            long with = System.nanoTime() - t0;
            t0 = System.nanoTime();
            for (int i = 0; i < OFFER_CALLS; i++) sink += i ^ question.length();
            long without = System.nanoTime() - t0;
            if (round == 1) return Math.max(0, with - without) / (double) OFFER_CALLS + (sink == 42 ? 1e-9 : 0);
        }
        throw new AssertionError("unreachable");
    }
}
