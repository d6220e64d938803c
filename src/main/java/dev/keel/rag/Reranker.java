package dev.keel.rag;

import dev.keel.index.SearchHit;
import java.util.List;

/**
 * Reorders the fused candidates of one retrieval. Implementations are thread-safe and stateless per
 * call. A reranker answers with positions into the list it was given, so it can drop and reorder
 * candidates but never add one: what it ranks is already filtered to the caller's tenant and filters,
 * and {@link Rerankers} rejects positions out of range or repeated. It bounds its own time (a remote
 * one by its configured timeout), never retries, and never logs or traces the query or document text.
 * A failure is a {@link Failure} with a reason from a closed set; the caller then keeps the fused
 * order. {@link #close()} releases what the reranker holds (connections, a native model).
 */
public interface Reranker extends AutoCloseable {
    /** One candidate's new place: its position in the given list and the reranker's score (higher is better). */
    record Ranked(int index, double score) {}

    /** Why a reranking did not happen; the values are metric labels, so the set is closed. */
    enum Reason { TIMEOUT, UNAVAILABLE, REJECTED, MALFORMED, INVALID_INDEXES, ERROR }

    /** A reranking that failed; the message says why without quoting the query or the documents. */
    final class Failure extends RuntimeException {
        private final Reason reason;

        public Failure(Reason reason, String message) {
            super(message);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    /**
     * The best {@code limit} candidates for {@code query}, best first; candidates carry their chunk
     * vectors when the index returned them.
     */
    List<Ranked> rerank(String query, List<SearchHit> candidates, int limit);

    @Override
    default void close() {}
}
