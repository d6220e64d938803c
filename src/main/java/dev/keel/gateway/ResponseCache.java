package dev.keel.gateway;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Where cached responses live: an exact table (tenant, key) → entry, and per (tenant, scope) the
 * vectors of cached last user messages for nearest-neighbour lookup. Implementations are
 * thread-safe; concurrent puts of one key leave one whole entry, never a mix. Every method is
 * scoped by tenant: nothing stored for one tenant is ever returned, compared or counted for
 * another, whatever the keys, scopes or vectors. Never returns an entry past its time to live;
 * may forget any entry at any time (capacity), so callers treat absence as a miss. Stores bytes,
 * not objects, so that a shared implementation (Redis) can replace the in-process one
 * ({@link CaffeineResponseCache}) without touching callers. Deciding what may be cached, and
 * checking that an entry's documents are still current, is {@link GatewayCache}'s job.
 */
public interface ResponseCache {
    /** A document an entry was built from, at the version (content hash) it had then. */
    record DocumentVersion(String docId, String version) {}

    /**
     * A stored response: the body as the client received it, what producing it cost in USD, the
     * documents it was built from (empty for chat), and the hashes of its question's content words in
     * order ({@link WordOrder}; empty when it has none). The arrays are never modified after storing.
     */
    record Entry(byte[] body, double costUsd, List<DocumentVersion> documents, int[] questionWords) {
        public Entry {
            documents = List.copyOf(documents);
        }
    }

    /** An entry found by similarity: its exact key, the entry, and the cosine of the two messages. */
    record Similar(String key, Entry entry, double similarity) {}

    /** The live entry stored under exactly this tenant and key. */
    Optional<Entry> exact(String tenant, String key);

    /**
     * Of the live entries of this tenant and scope that {@code comparable} accepts, the one whose vector
     * is nearest to {@code vector} by cosine, if that cosine is at least {@code threshold}. {@code vector}
     * (unit length) is only computed when the scope holds something to compare.
     */
    Optional<Similar> nearest(String tenant, String scope, Supplier<float[]> vector, double threshold, Predicate<Entry> comparable);

    /** Stores an entry for exact lookup, replacing any under the same tenant and key. */
    void putExact(String tenant, String key, Entry entry);

    /** Stores an entry for nearest lookup in a scope; {@code key} is its exact key, for {@link #remove}. */
    void putSimilar(String tenant, String scope, String key, float[] vector, Entry entry);

    /** Forgets the entry under this tenant and key, in both tables. */
    void remove(String tenant, String key);
}
