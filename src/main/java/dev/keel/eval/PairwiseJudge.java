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

    private final JudgeModel model;

    public PairwiseJudge(ChatGateway gateway, Traces traces, String model, ApiKey key) {
        this.model = new JudgeModel(gateway, traces, model, key, TEMPLATE, SLOTS, SCHEMA, VERDICT_TOKENS);
    }

    /** Stable identity: {@code pairwise/MODEL/RUBRIC-HASH}. */
    public String id() {
        return "pairwise/" + model.model() + "/" + model.rubricHash();
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
