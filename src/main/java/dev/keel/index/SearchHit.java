package dev.keel.index;

/**
 * A retrieved chunk with its final score and, when the retriever saw it, its BM25 and vector rank
 * (1-based; 0 = not retrieved by that side) and raw score.
 */
public record SearchHit(ChunkRecord chunk, double score, int bm25Rank, double bm25Score, int vectorRank, double vectorScore) {}
