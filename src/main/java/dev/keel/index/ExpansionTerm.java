package dev.keel.index;

/**
 * A term pseudo-relevance feedback added to a BM25 query, analysed (as {@link ChunkIndex#terms}
 * returns it), with its share of the relevance model (the shares of one query's terms sum to 1).
 */
public record ExpansionTerm(String term, double weight) {}
