package dev.keel.index;

import java.util.List;
import java.util.Map;

/**
 * Final hits, plus (when debug was asked) the BM25, vector, fused and final lists and the terms
 * pseudo-relevance feedback added to the BM25 query (empty without feedback), and the score a
 * reranker gave each hit it scored, by chunk id (empty when none ran; the hits keep their fused score).
 */
public record SearchResult(List<SearchHit> hits, List<RankedList> debug, List<ExpansionTerm> expansion, Map<String, Double> rerankScores) {
    public SearchResult(List<SearchHit> hits, List<RankedList> debug, List<ExpansionTerm> expansion) {
        this(hits, debug, expansion, Map.of());
    }
}
