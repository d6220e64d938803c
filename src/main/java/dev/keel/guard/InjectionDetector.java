package dev.keel.guard;

import java.util.List;

/**
 * Scores how likely a text is a prompt injection or jailbreak, in [0, 1], with each layer's signal.
 * Thread-safe; never throws on any input (hostile text is its normal input); bounded in time by the
 * text's length.
 */
interface InjectionDetector {
    Assessment assess(String text);

    /**
     * As {@link #assess}, for a text of {@code tenant}: an embedding of it may be the one made for the same text of that
     * tenant a moment before (by this detector or another step of the request; see {@code Embedder#forTenant}), and never
     * another tenant's. By default the same as {@link #assess}.
     */
    default Assessment assess(String text, String tenant) {
        return assess(text);
    }

    /**
     * As {@link #assess}, without the layers whose cost does not scale with the text (an embedding): for texts
     * beyond what one request may have scored in full. By default the same as {@link #assess}.
     */
    default Assessment assessCheaply(String text) {
        return assess(text);
    }

    /** Computes now what the first assessment would otherwise compute on its way (by default nothing). Idempotent. */
    default void prepare() {}

    /** The combined score and the layers' signals behind it. */
    record Assessment(double score, List<GuardSignal> signals) {
        static final Assessment NONE = new Assessment(0, List.of());
    }
}
