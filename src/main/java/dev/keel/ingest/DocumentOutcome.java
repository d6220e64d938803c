package dev.keel.ingest;

/**
 * What ingest did with one document. {@code error} is set only for FAILED; {@code flaggedChunks} is
 * how many of its chunks the injection scan flagged (0 when none were, or the scan is off).
 */
public record DocumentOutcome(String docId, String source, Status status, int chunks, String version, String error, ErrorKind errorKind,
                              int flaggedChunks) {
    public enum Status { ADDED, UPDATED, UNCHANGED, DELETED, FAILED }

    /** Why a document failed: its type is unsupported, it is too large, or it could not be parsed. */
    public enum ErrorKind { NONE, UNSUPPORTED, TOO_LARGE, UNPARSABLE, IO }

    static DocumentOutcome failed(String docId, String source, ErrorKind kind, String error) {
        return new DocumentOutcome(docId, source, Status.FAILED, 0, null, error, kind, 0);
    }
}
