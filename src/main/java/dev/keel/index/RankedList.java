package dev.keel.index;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** A ranked list for the debug view: chunk ids with rank and score. */
public record RankedList(String name, List<Entry> entries) {
    /**
     * One hit; {@code parts} splits a BM25 score into the shares that add up to it (title, body,
     * and with feedback, prf), empty in the other lists.
     */
    public record Entry(int rank, String chunkId, double score, @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Double> parts) {
        public Entry(int rank, String chunkId, double score) {
            this(rank, chunkId, score, Map.of());
        }
    }
}
