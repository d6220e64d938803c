package dev.keel.index;

import dev.keel.trace.Trace;
import java.util.List;
import java.util.Optional;

/**
 * Stores chunks with their vectors and searches them, per tenant. Implementations are thread-safe:
 * searches run concurrently with writes and never see half a document. {@link #replace} and
 * {@link #delete} stage a whole document's change atomically; {@link #commit} makes staged changes
 * durable and visible to searches together, and a crash before it leaves the previous committed state.
 * What a tenant's search returns, scores included, depends on that tenant's documents only.
 */
public interface ChunkIndex extends AutoCloseable {
    Optional<DocumentRecord> document(String tenant, String docId);

    List<DocumentRecord> documents(String tenant, int offset, int limit);

    /** Chunks of one document in ordinal order. */
    List<ChunkRecord> chunks(String tenant, String docId);

    /**
     * Chunks of one document as {@link #replace} takes them, index text and vector included: with
     * {@link #tenants} and {@link #documents} it moves a whole index into another one without re-embedding.
     */
    List<ChunkRecord> export(String tenant, String docId);

    /** Tenants that have committed documents, in order. */
    List<String> tenants();

    /** Replaces the document and all its chunks (visible and durable after {@link #commit}). */
    void replace(DocumentRecord document, List<ChunkRecord> chunks);

    /** Deletes a document and its chunks (effective after {@link #commit}); false when it did not exist. */
    boolean delete(String tenant, String docId);

    void commit();

    SearchResult search(SearchRequest request, Trace trace);

    /**
     * Inverse document frequency (BM25's formula) of already-analysed terms of the searchable text,
     * over the tenant's current chunks only (another tenant's data never moves it); a term that
     * occurs in none of them gets the highest weight.
     */
    java.util.Map<String, Double> idf(String tenant, java.util.Collection<String> terms);

    /** The terms a text is indexed as for BM25 (analysed: lower-cased, stemmed, stop words dropped), in order; what {@link #idf} takes. */
    List<String> terms(String text);

    /** Number of chunks stored, all tenants. */
    long chunkCount();

    /** Number of committed chunks of {@code tenant}; 0 tells a caller there is nothing to search before it pays for a search aid. */
    long chunkCount(String tenant);

    String embedModel();

    /**
     * What readiness reports about the engine behind the index (empty for the embedded one); never a
     * credential. Throws {@link IndexException} when the engine cannot be reached.
     */
    default java.util.Map<String, Object> health() {
        return java.util.Map.of();
    }

    @Override
    void close();
}
