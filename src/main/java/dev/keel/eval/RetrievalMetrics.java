package dev.keel.eval;

import java.util.List;
import java.util.Map;

/**
 * Standard ranked-retrieval metrics over document ids, as trec_eval computes them: nDCG@k with
 * linear gains, Recall@k and reciprocal rank (MRR@k). Pure functions.
 */
public final class RetrievalMetrics {
    private RetrievalMetrics() {}

    public static double ndcg(List<String> ranking, Map<String, Integer> judged, int k) {
        double dcg = 0;
        for (int i = 0; i < Math.min(k, ranking.size()); i++) {
            int rel = Math.max(0, judged.getOrDefault(ranking.get(i), 0));
            dcg += rel / log2(i + 2);
        }
        List<Integer> ideal = judged.values().stream().filter(r -> r > 0).sorted((a, b) -> b - a).toList();
        double idcg = 0;
        for (int i = 0; i < Math.min(k, ideal.size()); i++) idcg += ideal.get(i) / log2(i + 2);
        return idcg == 0 ? 0 : dcg / idcg;
    }

    public static double recall(List<String> ranking, Map<String, Integer> judged, int k) {
        long relevant = judged.values().stream().filter(r -> r > 0).count();
        if (relevant == 0) return 0;
        long found = ranking.stream().limit(k).filter(d -> judged.getOrDefault(d, 0) > 0).count();
        return (double) found / relevant;
    }

    public static double reciprocalRank(List<String> ranking, Map<String, Integer> judged, int k) {
        for (int i = 0; i < Math.min(k, ranking.size()); i++) {
            if (judged.getOrDefault(ranking.get(i), 0) > 0) return 1.0 / (i + 1);
        }
        return 0;
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
