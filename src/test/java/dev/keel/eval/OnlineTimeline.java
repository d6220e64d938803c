package dev.keel.eval;

import dev.keel.SampleCorpus;
import dev.keel.config.EvalConfig;
import dev.keel.config.KeelConfig;
import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchHit;
import dev.keel.rag.Answer;
import dev.keel.store.Database;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleSupplier;

/**
 * Writes production answers into an {@link OnlineEvaluation} as if they came at chosen times: a clock the test moves,
 * a judge that reads the scores it gives from the answer's text ({@code "faithfulness=0.8;answer_relevance=0.9"}), and
 * answers with a chosen retrieval top score. A week of baseline then takes a moment, not a week.
 */
final class OnlineTimeline implements AutoCloseable {
    /** A Monday at midnight UTC; the baseline starts here and the window follows it seven days later. */
    static final Instant START = Instant.parse("2026-03-02T00:00:00Z");
    static final Instant WINDOW_START = START.plus(Duration.ofDays(7));
    /** Within the last bucket of a 60-minute window that starts at {@link #WINDOW_START}. */
    static final Instant NOW = WINDOW_START.plus(Duration.ofMinutes(59));

    /** A clock the test moves. */
    static final class MovableClock extends Clock {
        private volatile Instant now = START;

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /** Gives the scores written in the answer's text (pairs whose value is not a number are words, not scores), none for a declined answer. */
    static class ScriptedJudge implements Judge {
        @Override
        public String id() {
            return "scripted/v1";
        }

        @Override
        public String family() {
            return null;
        }

        @Override
        public Verdict judge(Input input) {
            Map<String, Double> scores = new HashMap<>();
            if (!input.declined()) {
                for (String pair : input.answer().split(";")) {
                    String[] kv = pair.split("=");
                    if (kv.length == 2 && kv[1].matches("-?[0-9.]+")) scores.put(kv[0].strip(), Double.parseDouble(kv[1]));
                }
            }
            return new Verdict(scores, Map.of());
        }
    }

    final MovableClock clock = new MovableClock();
    final MeterRegistry registry = new SimpleMeterRegistry();
    final OnlineEvaluation online;

    OnlineTimeline(String onlineYaml, Judge judge, Database db, DoubleSupplier sampling) {
        online = new OnlineEvaluation(config(onlineYaml), judge, SampleCorpus.keel().embedder(), db, registry, clock, sampling);
    }

    /** Every answer sampled. */
    OnlineTimeline(String onlineYaml, Database db) {
        this("sample_rate: 1\n" + onlineYaml, new ScriptedJudge(), db, () -> 0);
    }

    /** {@code eval.online} settings from YAML lines (each a "key: value" of that section). */
    static EvalConfig.Online config(String onlineYaml) {
        StringBuilder yaml = new StringBuilder("eval:\n  online:\n");
        for (String line : onlineYaml.strip().split("\n")) if (!line.isBlank()) yaml.append("    ").append(line.strip()).append('\n');
        if (onlineYaml.isBlank()) yaml.append("    enabled: true\n");
        return KeelConfig.parse(yaml.toString(), k -> null).eval().online();
    }

    /** An answer to {@code question} at {@code at}: answered with the scores {@code scores}, or declined when {@code scores} is null. */
    void answer(Instant at, String tenant, String question, String scores, double topScore) {
        clock.set(at);
        online.offer(tenant, question, answer(scores, topScore));
    }

    static Answer answer(String scores, double topScore) {
        ChunkRecord chunk = new ChunkRecord("t", "doc", "v1", 0, "doc.md", "Doc", List.of("Section"), "The refund window is 30 days.", "", "m", 0, null);
        List<SearchHit> sources = List.of(new SearchHit(chunk, 1.0, 0, 3.0, 0, topScore));
        return scores == null ? new Answer("I don't know: the documents do not say.", false, List.of(), sources, 0.1, "trace")
                : new Answer(scores, true, List.of(), sources, 0.9, "trace");
    }

    /**
     * One answer an hour for the seven days of the baseline, then one a minute for the window's hour, each answer's
     * scores and top score from {@code baseline} and {@code window} (given the answer's index and a seeded random source).
     */
    void week(String tenant, Sampler baseline, Sampler window) {
        Random random = new Random(11);
        for (int h = 0; h < 7 * 24; h++) baseline.answer(this, START.plus(Duration.ofMinutes(60L * h + 30)), tenant, h, random);
        for (int m = 0; m < 60; m++) window.answer(this, WINDOW_START.plus(Duration.ofMinutes(m)), tenant, m, random);
        clock.set(NOW);
        if (!online.awaitIdle(Duration.ofSeconds(60))) throw new AssertionError("samples not stored within a minute");
    }

    /** One answer a minute for the hour from {@code from}, each with {@code scores}, the questions cycling through {@link #BILLING}. */
    void hour(Instant from, String tenant, String scores) {
        for (int m = 0; m < 60; m++) answer(from.plus(Duration.ofMinutes(m)), tenant, BILLING.get(m % BILLING.size()), scores, 0.85);
        if (!online.awaitIdle(Duration.ofSeconds(60))) throw new AssertionError("samples not stored within a minute");
    }

    /** Writes the {@code i}-th answer of a period at {@code at}. */
    @FunctionalInterface
    interface Sampler {
        void answer(OnlineTimeline t, Instant at, String tenant, int i, Random random);
    }

    /** Faithfulness around {@code mean} (0–1) with spread {@code sd}, relevance 0.9, top score 0.85, questions from one topic. */
    static Sampler faithfulness(double mean, double sd) {
        return (t, at, tenant, i, random) -> t.answer(at, tenant, BILLING.get(i % BILLING.size()),
                "faithfulness=" + clamp(mean + sd * random.nextGaussian()) + ";answer_relevance=0.9", 0.85);
    }

    static final List<String> BILLING = List.of("How long do I have to request a refund?", "Can I get my money back on an annual plan?",
            "Where do I find my invoices?", "How do I change the card I pay with?", "Why was I charged twice this month?",
            "Do you offer refunds for unused seats?");

    static double clamp(double score) {
        return Math.max(0, Math.min(1, score));
    }

    OnlineEvaluation.Signal signal(String tenant, String name) {
        return online.report(tenant).signals().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    /** Alert episodes raised so far, by the counter. */
    double alertsRaised() {
        return registry.find("keel.eval.online.alerts").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    double samples(String outcome) {
        var c = registry.find("keel.eval.online.samples").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    @Override
    public void close() {
        online.close();
    }
}
