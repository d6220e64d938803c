package dev.keel.rag;

/** A numbered reference from an answer to the chunk that supports it. */
public record Citation(int n, String docId, String source, String title, String section, int chunk) {}
