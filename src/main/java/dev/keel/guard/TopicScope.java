package dev.keel.guard;

import dev.keel.config.GuardConfig;
import dev.keel.embed.Embedder;
import dev.keel.embed.Vectors;
import java.util.ArrayList;
import java.util.List;

/**
 * The topic allow-list: a request is in scope when its embedding is at least {@code threshold}
 * similar (cosine) to one allowed topic's description. Topic vectors are computed once, on first
 * use, and kept. Thread-safe; never throws on any text; an empty allow-list lets everything pass
 * without embedding anything.
 */
final class TopicScope {
    /** No allow-list: every request is in scope. */
    static final TopicScope NONE = new TopicScope(new GuardConfig.Topics(List.of(), 0), null);
    /**
     * Characters of a request compared with the topics: the model reads at most 512 tokens anyway,
     * and tokenising a huge text only to drop most of it would cost time for nothing.
     */
    static final int MAX_CHARS = 4_000;

    /** Where a request landed: the closest topic and its similarity, and whether that is enough. */
    record Fit(GuardConfig.Topic closest, double similarity, boolean inScope) {}

    private final GuardConfig.Topics topics;
    private final Embedder embedder;
    private volatile List<float[]> vectors;

    TopicScope(GuardConfig.Topics topics, Embedder embedder) {
        this.topics = topics;
        this.embedder = embedder;
    }

    /** The scope of {@code other} topics: this one (and its computed vectors) when they are the same. */
    TopicScope with(GuardConfig.Topics other) {
        return other.equals(topics) ? this : new TopicScope(other, embedder);
    }

    boolean active() {
        return !topics.allow().isEmpty();
    }

    /** How well {@code text} fits the allowed topics; only called when {@link #active()}. */
    Fit fit(String text) {
        String asked = text.length() <= MAX_CHARS ? text : text.substring(0, Character.isHighSurrogate(text.charAt(MAX_CHARS - 1))
                ? MAX_CHARS - 1 : MAX_CHARS);
        float[] q = embedder.embedQuery(asked);
        List<float[]> t = topicVectors();
        int best = 0;
        double bestSimilarity = -1;
        for (int i = 0; i < t.size(); i++) {
            double s = Vectors.dot(q, t.get(i));
            if (s > bestSimilarity) {
                bestSimilarity = s;
                best = i;
            }
        }
        return new Fit(topics.allow().get(best), bestSimilarity, bestSimilarity >= topics.threshold());
    }

    /** The refusal of an out-of-scope request: what the assistant is for, as the next step. */
    String refusal() {
        List<String> names = topics.allow().stream().map(GuardConfig.Topic::name).toList();
        String list = names.size() == 1 ? names.get(0)
                : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
        return "Sorry, this assistant only helps with " + list + ", and your request does not look like it is about "
                + (names.size() == 1 ? "that" : "any of these") + ". Please ask a question about " + list + ".";
    }

    private List<float[]> topicVectors() {
        List<float[]> v = vectors;
        if (v != null) return v;
        synchronized (this) {
            if (vectors == null) {
                List<String> texts = new ArrayList<>();
                for (GuardConfig.Topic t : topics.allow()) texts.add(t.name() + ": " + t.description());
                vectors = List.copyOf(embedder.embedDocuments(texts));
            }
            return vectors;
        }
    }
}
