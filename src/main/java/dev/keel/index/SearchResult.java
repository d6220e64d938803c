package dev.keel.index;

import java.util.List;

/**
 * Final hits, plus (when debug was asked) the BM25, vector, fused and final lists and the terms
 * pseudo-relevance feedback added to the BM25 query (empty without feedback).
 */
public record SearchResult(List<SearchHit> hits, List<RankedList> debug, List<ExpansionTerm> expansion) {}
