package dev.keel.index;

import java.util.List;

/**
 * One chunk as stored: identity (tenant, doc id, doc version, ordinal), provenance (source, title,
 * section path), the embed model that produced its vector, and its text. {@code indexText} is what
 * BM25 and the embedder see: the title and section path, then the body. Chunks read back from an
 * index carry no {@code indexText} (null), and a {@code vector} only in search hits (for rerankers).
 * {@code injection} is what the ingest scan for instructions aimed at a model found in it.
 */
public record ChunkRecord(String tenant, String docId, String docVersion, int ordinal, String source, String title,
                          List<String> sectionPath, String body, String indexText, String embedModel,
                          long ingestedAtMillis, float[] vector, InjectionFlag injection) {

    /** A chunk the injection scan has not seen. */
    public ChunkRecord(String tenant, String docId, String docVersion, int ordinal, String source, String title, List<String> sectionPath,
                       String body, String indexText, String embedModel, long ingestedAtMillis, float[] vector) {
        this(tenant, docId, docVersion, ordinal, source, title, sectionPath, body, indexText, embedModel, ingestedAtMillis, vector,
                InjectionFlag.NOT_SCANNED);
    }

    /** This chunk with {@code v} as its vector. */
    public ChunkRecord withVector(float[] v) {
        return new ChunkRecord(tenant, docId, docVersion, ordinal, source, title, sectionPath, body, indexText, embedModel, ingestedAtMillis, v,
                injection);
    }

    /** This chunk with {@code text} as its body (what an answer may quote of it). */
    public ChunkRecord withBody(String text) {
        return new ChunkRecord(tenant, docId, docVersion, ordinal, source, title, sectionPath, text, indexText, embedModel, ingestedAtMillis, vector,
                injection);
    }

    /**
     * Checks that this chunk may be written as part of {@code doc} into an index of {@code indexModel}.
     *
     * @throws IllegalArgumentException when it belongs to another document
     * @throws IndexException when another embedding model made its vector
     */
    void requireWritable(DocumentRecord doc, String indexModel) {
        if (!tenant.equals(doc.tenant()) || !docId.equals(doc.docId())) {
            throw new IllegalArgumentException("chunk " + chunkId() + " does not belong to document " + doc.docId());
        }
        if (!embedModel.equals(indexModel)) throw new IndexException("chunk embedded with " + embedModel + " cannot enter an index of " + indexModel);
    }

    public String chunkId() {
        return docId + "#" + ordinal;
    }

    public String section() {
        return String.join(" › ", sectionPath);
    }

    /** What BM25 and the embedder see: title and section path first, so an orphaned chunk says where it is from. */
    public static String indexText(String title, List<String> section, String body) {
        return titleText(title, section) + "\n\n" + body;
    }

    /** A chunk's title as BM25's title field holds it: its document's title, then its section path. */
    public static String titleText(String title, List<String> section) {
        StringBuilder sb = new StringBuilder(title);
        for (String s : section) sb.append(" › ").append(s);
        return sb.toString();
    }
}
