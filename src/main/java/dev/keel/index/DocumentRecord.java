package dev.keel.index;

import java.util.Map;

/**
 * A document's catalogue entry: its version (content hash), provenance and size, and how many of its
 * chunks the injection scan flagged ({@link #NOT_SCANNED} when its chunks were not scanned).
 */
public record DocumentRecord(String tenant, String docId, String version, String source, String title, String contentType,
                             long bytes, int chunkCount, long ingestedAtMillis, long modifiedAtMillis, Map<String, String> metadata,
                             int flaggedChunks) {
    /** {@link #flaggedChunks} of a document written with the scan off or by a Keel without it. */
    public static final int NOT_SCANNED = -1;

    /** A document whose chunks the injection scan has not seen. */
    public DocumentRecord(String tenant, String docId, String version, String source, String title, String contentType, long bytes, int chunkCount,
                          long ingestedAtMillis, long modifiedAtMillis, Map<String, String> metadata) {
        this(tenant, docId, version, source, title, contentType, bytes, chunkCount, ingestedAtMillis, modifiedAtMillis, metadata, NOT_SCANNED);
    }

    public boolean scanned() {
        return flaggedChunks != NOT_SCANNED;
    }
}
