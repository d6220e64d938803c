package dev.keel.eval;

import dev.keel.index.ChunkRecord;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Standard ranked-retrieval metrics over document ids, as trec_eval computes them: nDCG@k with
 * linear gains, Recall@k and reciprocal rank (MRR@k); Precision@k and hit rate@k; and RAGAS's context
 * precision over the blocks an answer was given. A ranking is a list of distinct ids, best first; {@code judged}
 * maps relevant ids to their grade (≤ 0: not relevant). Pure functions.
 */
public final class RetrievalMetrics {
    /** Prefix of an id that stands for a document no entry names: a NUL, which no dataset entry read from JSON text carries by accident. */
    private static final String NOT_RELEVANT = "\u0000doc:";

    private RetrievalMetrics() {}

    /**
     * Retrieved chunks as a ranking of distinct ids: a chunk that a {@code relevant} entry names stands for that
     * entry, any other for its document; the first occurrence keeps its rank (a document's second chunk adds nothing).
     */
    public static List<String> ranking(List<ChunkRecord> chunks, List<String> relevant) {
        LinkedHashSet<String> ids = new LinkedHashSet<>();
        for (ChunkRecord c : chunks) {
            String entry = RelevantIds.match(relevant, c);
            ids.add(entry != null ? entry : NOT_RELEVANT + c.docId());
        }
        return List.copyOf(ids);
    }

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
        return (double) found(ranking, judged, k) / relevant;
    }

    /** The share of the first {@code k} ids that are relevant; fewer than {@code k} retrieved divide by what was retrieved (none: 0). */
    public static double precision(List<String> ranking, Map<String, Integer> judged, int k) {
        int considered = Math.min(k, ranking.size());
        return considered == 0 ? 0 : (double) found(ranking, judged, k) / considered;
    }

    /** 1 when a relevant id is among the first {@code k}, else 0. */
    public static double hitRate(List<String> ranking, Map<String, Integer> judged, int k) {
        return found(ranking, judged, k) > 0 ? 1 : 0;
    }

    public static double reciprocalRank(List<String> ranking, Map<String, Integer> judged, int k) {
        for (int i = 0; i < Math.min(k, ranking.size()); i++) {
            if (judged.getOrDefault(ranking.get(i), 0) > 0) return 1.0 / (i + 1);
        }
        return 0;
    }

    /**
     * RAGAS context precision: over the context blocks in the order given, the mean of precision@i at each relevant
     * block i (so relevant blocks ranked first score higher); 0 when no block is relevant.
     */
    public static double contextPrecision(List<Boolean> blockRelevant) {
        double sum = 0;
        int relevant = 0;
        for (int i = 0; i < blockRelevant.size(); i++) {
            if (!blockRelevant.get(i)) continue;
            relevant++;
            sum += (double) relevant / (i + 1);
        }
        return relevant == 0 ? 0 : sum / relevant;
    }

    private static long found(List<String> ranking, Map<String, Integer> judged, int k) {
        return ranking.stream().limit(k).filter(d -> judged.getOrDefault(d, 0) > 0).count();
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
