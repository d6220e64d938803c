package dev.keel.index;

import dev.keel.config.SearchConfig;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Rank fusion of the BM25 and vector lists, shared by every index. Pure functions (but for the span they record). */
final class Fusion {
    private Fusion() {}

    /** A hit of one retriever: {@code doc} names it within one search (a Lucene doc number, or a number the index gives it), best first. */
    record Scored(int doc, float score) {}

    /** The request's mode applied: one list alone, or both fused as the settings say; records the "fuse" span. */
    static List<Fused> fuse(SearchRequest req, List<Scored> lexical, List<Scored> semantic, Trace trace) {
        try (Span span = trace.span("fuse")) {
            List<Fused> fused = switch (req.mode()) {
                case BM25 -> single(lexical, true);
                case VECTOR -> single(semantic, false);
                case HYBRID -> req.settings().fusion() == SearchConfig.Fusion.RRF
                        ? rrf(lexical, semantic, req.settings().rrfK())
                        : weighted(lexical, semantic, req.settings().alpha());
            };
            span.attr("fusion", req.mode() == SearchMode.HYBRID ? req.settings().fusion().name().toLowerCase() : "none")
                    .attr("candidates", fused.size());
            return fused;
        }
    }

    record Fused(int doc, double score, int bm25Rank, double bm25Score, int vectorRank, double vectorScore) {}

    static List<Fused> single(List<Scored> list, boolean lexical) {
        List<Fused> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Scored s = list.get(i);
            out.add(lexical ? new Fused(s.doc(), s.score(), i + 1, s.score(), 0, 0) : new Fused(s.doc(), s.score(), 0, 0, i + 1, s.score()));
        }
        return out;
    }

    /** Reciprocal Rank Fusion: score = Σ 1 / (k + rank). Ties keep BM25 order first. */
    static List<Fused> rrf(List<Scored> bm25, List<Scored> vector, int k) {
        Map<Integer, double[]> acc = collect(bm25, vector);
        List<Fused> out = new ArrayList<>(acc.size());
        for (Map.Entry<Integer, double[]> e : acc.entrySet()) {
            double[] a = e.getValue();
            double score = (a[0] > 0 ? 1.0 / (k + a[0]) : 0) + (a[2] > 0 ? 1.0 / (k + a[2]) : 0);
            out.add(new Fused(e.getKey(), score, (int) a[0], a[1], (int) a[2], a[3]));
        }
        out.sort(Comparator.comparingDouble(Fused::score).reversed());
        return out;
    }

    /** Weighted fusion of min-max-normalised scores: alpha × vector + (1 − alpha) × BM25. */
    static List<Fused> weighted(List<Scored> bm25, List<Scored> vector, double alpha) {
        Map<Integer, double[]> acc = collect(bm25, vector);
        double[] lex = range(bm25), sem = range(vector);
        List<Fused> out = new ArrayList<>(acc.size());
        for (Map.Entry<Integer, double[]> e : acc.entrySet()) {
            double[] a = e.getValue();
            double l = a[0] > 0 ? normalise(a[1], lex) : 0;
            double v = a[2] > 0 ? normalise(a[3], sem) : 0;
            out.add(new Fused(e.getKey(), alpha * v + (1 - alpha) * l, (int) a[0], a[1], (int) a[2], a[3]));
        }
        out.sort(Comparator.comparingDouble(Fused::score).reversed());
        return out;
    }

    private static Map<Integer, double[]> collect(List<Scored> bm25, List<Scored> vector) {
        Map<Integer, double[]> acc = new LinkedHashMap<>();
        for (int i = 0; i < bm25.size(); i++) {
            double[] a = acc.computeIfAbsent(bm25.get(i).doc(), d -> new double[4]);
            a[0] = i + 1;
            a[1] = bm25.get(i).score();
        }
        for (int i = 0; i < vector.size(); i++) {
            double[] a = acc.computeIfAbsent(vector.get(i).doc(), d -> new double[4]);
            a[2] = i + 1;
            a[3] = vector.get(i).score();
        }
        return acc;
    }

    private static double[] range(List<Scored> list) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (Scored s : list) {
            min = Math.min(min, s.score());
            max = Math.max(max, s.score());
        }
        return new double[] {min, max};
    }

    private static double normalise(double score, double[] range) {
        return range[1] > range[0] ? (score - range[0]) / (range[1] - range[0]) : 1.0;
    }
}
