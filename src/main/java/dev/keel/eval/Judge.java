package dev.keel.eval;

import java.util.List;
import java.util.Map;

/**
 * Scores one answer. Implementations: {@code HeuristicJudge} (offline: embedding and lexical support, deterministic)
 * and {@code LlmJudge} (any configured model, rubric inline, temperature 0, verdicts validated against a JSON
 * Schema). Thread-safe; a judge never throws for a bad answer, only for an unusable judge (a model that is down or
 * keeps returning invalid verdicts: {@link JudgeException}). Every score is in [0, 1]; a metric the judge cannot
 * score for this input (no reference answer, nothing cited) is absent from the map.
 */
public interface Judge {
    /** Metric names a judge may return. */
    String FAITHFULNESS = "faithfulness", ANSWER_RELEVANCE = "answer_relevance", CORRECTNESS = "correctness_judge",
            CITATION_ACCURACY = "citation_accuracy";

    /**
     * What is judged: the tenant whose documents these are, the question, the answer's text with its {@code [n]}
     * markers, the context passages the answer was written from (block n is {@code context.get(n - 1)}), the
     * reference answer (may be null) and whether the answerer declined.
     */
    record Input(String tenant, String question, String answer, List<Passage> context, String reference, boolean declined) {
        public Input {
            context = List.copyOf(context);
        }
    }

    /** One context passage: its document title, section path (" › "-joined, may be empty) and text. */
    record Passage(String title, String section, String text) {}

    /** Scores by metric, in [0, 1], and a short reason per metric (for reports; never PII beyond what was judged). */
    record Verdict(Map<String, Double> scores, Map<String, String> reasons) {
        public Verdict {
            scores = Map.copyOf(scores);
            reasons = Map.copyOf(reasons);
        }
    }

    /** Stable identity for calibration records and reports: {@code heuristic/v1}, {@code llm/MODEL/RUBRIC-HASH}. */
    String id();

    /** The model family that judges ({@code openai}, {@code anthropic}…), or null for a judge that is not a model. */
    String family();

    Verdict judge(Input input);

    /** A judge that cannot deliver a verdict: its model is unavailable, or its replies stay invalid after a retry. */
    final class JudgeException extends RuntimeException {
        public JudgeException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
