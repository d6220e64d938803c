package dev.keel.index;

import java.util.List;

/**
 * One chunk as stored: identity (tenant, doc id, doc version, ordinal), provenance (source, title,
 * section path), the embed model that produced its vector, and its text. {@code indexText} is what
 * BM25 and the embedder see: the title and section path, then the body. Chunks read back from an
 * index carry no {@code indexText} (null), and a {@code vector} only in search hits (for rerankers).
 */
public record ChunkRecord(String tenant, String docId, String docVersion, int ordinal, String source, String title,
                          List<String> sectionPath, String body, String indexText, String embedModel,
                          long ingestedAtMillis, float[] vector) {

    /** This chunk with {@code v} as its vector. */
    public ChunkRecord withVector(float[] v) {
        return new ChunkRecord(tenant, docId, docVersion, ordinal, source, title, sectionPath, body, indexText, embedModel, ingestedAtMillis, v);
    }

    public String chunkId() {
        return docId + "#" + ordinal;
    }

    public String section() {
        return String.join(" › ", sectionPath);
    }
}
