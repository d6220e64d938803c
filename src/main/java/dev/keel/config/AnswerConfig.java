package dev.keel.config;

/**
 * Extractive answering: how many retrieved chunks are read, how many sentences are returned,
 * and the support score below which Keel says the documents don't answer.
 */
public record AnswerConfig(int contextChunks, int maxSentences, double minSupport) {
    public static final AnswerConfig DEFAULTS = new AnswerConfig(5, 3, 0.60);

    static AnswerConfig read(ConfigNode n) {
        return new AnswerConfig(
                n.integer("context_chunks", DEFAULTS.contextChunks, 1, 50),
                n.integer("max_sentences", DEFAULTS.maxSentences, 1, 10),
                n.decimal("min_support", DEFAULTS.minSupport, 0, 1));
    }
}
