package dev.keel.index;

import java.util.List;

/** A ranked list for the debug view: chunk ids with rank and score. */
public record RankedList(String name, List<Entry> entries) {
    public record Entry(int rank, String chunkId, double score) {}
}
