package dev.keel.index;

import java.util.List;

/** Final hits, plus (when debug was asked) the BM25, vector, fused and final lists. */
public record SearchResult(List<SearchHit> hits, List<RankedList> debug) {}
