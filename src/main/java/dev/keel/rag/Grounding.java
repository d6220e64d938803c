package dev.keel.rag;

import java.util.List;

/**
 * How well a model's answer is grounded: {@code score} is the share of its checked sentences that
 * their cited context supports (1 when there was nothing to check), {@code unsupported} the
 * sentences it does not, and {@code invalidCitations} the cited ids that named no context block
 * (dropped from the answer's text).
 */
public record Grounding(double score, List<String> unsupported, List<Integer> invalidCitations) {
    public Grounding {
        unsupported = List.copyOf(unsupported);
        invalidCitations = List.copyOf(invalidCitations);
    }
}
