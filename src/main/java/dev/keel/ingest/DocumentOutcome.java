package dev.keel.ingest;

/** What ingest did with one document. {@code error} is set only for FAILED. */
public record DocumentOutcome(String docId, String source, Status status, int chunks, String version, String error, ErrorKind errorKind) {
    public enum Status { ADDED, UPDATED, UNCHANGED, DELETED, FAILED }

    /** Why a document failed: its type is unsupported, it is too large, or it could not be parsed. */
    public enum ErrorKind { NONE, UNSUPPORTED, TOO_LARGE, UNPARSABLE, IO }

    static DocumentOutcome failed(String docId, String source, ErrorKind kind, String error) {
        return new DocumentOutcome(docId, source, Status.FAILED, 0, null, error, kind);
    }
}
