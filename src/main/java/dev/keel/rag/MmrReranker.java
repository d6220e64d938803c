package dev.keel.rag;

import dev.keel.embed.Vectors;
import dev.keel.index.SearchHit;
import java.util.ArrayList;
import java.util.List;

/**
 * Maximal Marginal Relevance: repeatedly picks the candidate maximising λ·relevance − (1−λ)·max
 * similarity to those already picked, so near-duplicate chunks leave the top. Relevance is the fused
 * rank mapped to (0, 1], so both terms share a scale; similarity is the dot product of the chunks'
 * unit vectors. A candidate without a vector is never redundant. Keel's only MMR. Pure and thread-safe.
 */
final class MmrReranker implements Reranker {
    private final double lambda;

    /** {@code lambda}: 1 = relevance only, 0 = diversity only. */
    MmrReranker(double lambda) {
        if (!(lambda >= 0 && lambda <= 1)) throw new IllegalArgumentException("lambda must be in [0, 1]: " + lambda);
        this.lambda = lambda;
    }

    @Override
    public List<Ranked> rerank(String query, List<SearchHit> candidates, int limit) {
        int n = candidates.size();
        boolean[] taken = new boolean[n];
        List<Ranked> picked = new ArrayList<>();
        while (picked.size() < Math.min(limit, n)) {
            int best = -1;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < n; c++) {
                if (taken[c]) continue;
                double redundancy = 0;
                float[] cv = candidates.get(c).chunk().vector();
                if (cv != null) {
                    for (Ranked p : picked) {
                        float[] pv = candidates.get(p.index()).chunk().vector();
                        if (pv != null) redundancy = Math.max(redundancy, Vectors.dot(cv, pv));
                    }
                }
                double score = lambda * (1.0 - (double) c / n) - (1 - lambda) * redundancy;
                if (score > bestScore) {
                    bestScore = score;
                    best = c;
                }
            }
            taken[best] = true;
            picked.add(new Ranked(best, bestScore));
        }
        return picked;
    }
}
