package dev.keel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.gateway.ChatGateway;
import dev.keel.store.ApiKey;
import dev.keel.trace.Traces;
import java.util.List;
import java.util.Map;

/**
 * Which of two answers to the same question is better, asked of a chat model twice with the answers swapped (the
 * candidate as B, then as A), so that a model's preference for a position cancels out: the two verdicts agree → that
 * answer wins; they disagree, or either says tie → tie. Rubric {@code prompts/eval-pairwise.v1.txt}, verdicts
 * validated against {@code prompts/eval-pairwise.schema.json}, calls billed, traced and retried as {@link JudgeModel}
 * says. Thread-safe.
 */
public final class PairwiseJudge {
    /** A winner and a one-sentence reason are under 100 tokens; twice that for verbose models. */
    private static final int VERDICT_TOKENS = 200;
    private static final String TEMPLATE = "eval-pairwise.v1", SCHEMA = "eval-pairwise.schema";
    private static final List<String> SLOTS = List.of("boundary", "question", "reference", "a", "b");

    /** The outcome for the candidate. */
    public enum Outcome { WIN, LOSS, TIE }

    /** The outcome, and each order's verdict ({@code A}, {@code B} or {@code tie}) with its reason. */
    public record Comparison(Outcome outcome, String baseFirst, String candidateFirst, String reason) {}

    /** One example of both runs: its id and the comparison. */
    public record Compared(String id, Comparison comparison) {}

    /**
     * A pairwise comparison of two runs: the examples both answered, wins, losses and ties of the candidate, its win
     * rate (ties count half) with a 95% bootstrap interval, and each comparison.
     */
    public record Report(int n, int wins, int losses, int ties, double winRate, double ciLow, double ciHigh, List<Compared> comparisons) {}

    private final JudgeModel model;

    public PairwiseJudge(ChatGateway gateway, Traces traces, String model, ApiKey key) {
        this.model = new JudgeModel(gateway, traces, model, key, TEMPLATE, SLOTS, SCHEMA, VERDICT_TOKENS);
    }

    /** Stable identity: {@code pairwise/MODEL/RUBRIC-HASH}. */
    public String id() {
        return "pairwise/" + model.model() + "/" + model.rubricHash();
    }

    /**
     * Compares the answers of {@code candidate} with those of {@code base} to the examples both runs answered (matched
     * by id, in the base run's order, at most {@code limit}), as {@code tenant}'s judge calls. Identical answers tie
     * without a call. {@code seed} seeds the bootstrap.
     */
    public Report compare(String tenant, EvalRun base, EvalRun candidate, int limit, long seed) {
        Map<String, EvalRun.ExampleResult> theirs = new java.util.HashMap<>();
        for (EvalRun.ExampleResult e : candidate.examples()) if (answered(e)) theirs.put(e.id(), e);
        List<Compared> out = new java.util.ArrayList<>();
        for (EvalRun.ExampleResult b : base.examples()) {
            if (out.size() >= limit) break;
            EvalRun.ExampleResult c = theirs.get(b.id());
            if (c == null || !answered(b)) continue;
            Comparison comparison = b.answer().strip().equals(c.answer().strip()) ? new Comparison(Outcome.TIE, "tie", "tie", "identical answers")
                    : compare(tenant, b.question(), b.referenceAnswer(), b.answer(), c.answer());
            out.add(new Compared(b.id(), comparison));
        }
        int wins = (int) out.stream().filter(x -> x.comparison().outcome() == Outcome.WIN).count();
        int losses = (int) out.stream().filter(x -> x.comparison().outcome() == Outcome.LOSS).count();
        double[] points = out.stream().mapToDouble(x -> switch (x.comparison().outcome()) {
            case WIN -> 1;
            case TIE -> 0.5;
            case LOSS -> 0;
        }).toArray();
        if (points.length == 0) return new Report(0, 0, 0, 0, 0, 0, 0, List.of());
        Statistics.Interval ci = Statistics.bootstrapMean(points, seed);
        return new Report(out.size(), wins, losses, out.size() - wins - losses, ci.mean(), ci.low(), ci.high(), List.copyOf(out));
    }

    private static boolean answered(EvalRun.ExampleResult e) {
        return e.answer() != null && !e.answer().isBlank() && !Boolean.FALSE.equals(e.answered()) && e.question() != null;
    }

    /** Compares {@code candidate} with {@code base} as answers to {@code question} ({@code reference} may be null). */
    public Comparison compare(String tenant, String question, String reference, String base, String candidate) {
        String ref = reference == null || reference.isBlank() ? LlmJudge.NO_REFERENCE : reference;
        JsonNode first = model.verdict(tenant, Map.of("question", question, "reference", ref, "a", base, "b", candidate), v -> List.of());
        JsonNode second = model.verdict(tenant, Map.of("question", question, "reference", ref, "a", candidate, "b", base), v -> List.of());
        String w1 = first.path("winner").asText(), w2 = second.path("winner").asText();
        Outcome o1 = w1.equals("B") ? Outcome.WIN : w1.equals("A") ? Outcome.LOSS : Outcome.TIE;
        Outcome o2 = w2.equals("A") ? Outcome.WIN : w2.equals("B") ? Outcome.LOSS : Outcome.TIE;
        Outcome outcome = o1 == o2 ? o1 : Outcome.TIE;
        String reason = outcome == Outcome.TIE && o1 != o2 ? "the two orders disagree (" + o1 + " then " + o2 + "): counted as a tie"
                : first.path("reason").asText();
        return new Comparison(outcome, w1, w2, reason);
    }
}
