package dev.keel.index;

/** Which retrievers run: BM25 only, vectors only, or both fused. */
public enum SearchMode { BM25, VECTOR, HYBRID }
