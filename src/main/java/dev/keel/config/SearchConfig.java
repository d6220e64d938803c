package dev.keel.config;

/**
 * Retrieval settings. Hybrid search takes {@code candidates} hits from BM25 and from the vector
 * index and fuses them with Reciprocal Rank Fusion ({@code rrfK}) or weighted fusion of
 * min-max-normalised scores ({@code alpha} weights the vector side). {@code mmr} and
 * {@code mmrLambda} are deprecated aliases, read into {@link RerankConfig}; the index ignores them.
 */
public record SearchConfig(Fusion fusion, int rrfK, double alpha, int candidates, int topK, boolean mmr, double mmrLambda) {
    public enum Fusion { RRF, WEIGHTED }

    public static final SearchConfig DEFAULTS = new SearchConfig(Fusion.RRF, 60, 0.5, 50, 10, false, 0.7);

    static SearchConfig read(ConfigNode n) {
        return new SearchConfig(
                n.enumValue("fusion", Fusion.class, DEFAULTS.fusion),
                n.integer("rrf_k", DEFAULTS.rrfK, 1, 10_000),
                n.decimal("alpha", DEFAULTS.alpha, 0, 1),
                n.integer("candidates", DEFAULTS.candidates, 1, 10_000),
                n.integer("top_k", DEFAULTS.topK, 1, 1_000),
                n.bool("mmr", DEFAULTS.mmr),
                n.decimal("mmr_lambda", DEFAULTS.mmrLambda, 0, 1));
    }
}
