package dev.keel.embed;

import java.util.List;

/**
 * Turns text into unit-length vectors. Implementations are thread-safe. Document and query sides
 * may differ (instruction-tuned models prefix queries); vectors of one {@link #modelId()} are
 * comparable only with each other.
 */
public interface Embedder extends AutoCloseable {
    /** Model name and version, stamped on every chunk, e.g. {@code bge-small-en-v1.5-q@1.20.0-beta30}. */
    String modelId();

    int dimension();

    /** Embeds passages, in order; the result has one vector per input. */
    List<float[]> embedDocuments(List<String> texts);

    /** Embeds a search query (with the model's query instruction, if it has one). */
    float[] embedQuery(String query);

    /**
     * The parts of {@code text} this model does not read, in order: characters outside its vocabulary, words too long
     * for it, text past its window. Two texts that differ only there get the same vector, so whoever compares vectors
     * must compare these parts as text. By default none.
     */
    default List<String> unseen(String text) {
        return List.of();
    }

    /**
     * This embedder for one tenant's passages: an implementation that remembers vectors may give a view whose
     * {@link #embedDocuments} reuses what was embedded for that tenant before (and only for it), so two steps of one
     * request that embed the same text (the input guard, the semantic cache) compute it once. By default itself.
     */
    default Embedder forTenant(String tenant) {
        return this;
    }

    @Override
    default void close() {}
}
