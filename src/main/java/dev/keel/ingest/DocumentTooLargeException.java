package dev.keel.ingest;

/** A document over one of the ingest limits; the message names the limit and its config key. */
final class DocumentTooLargeException extends RuntimeException {
    private DocumentTooLargeException(String message) {
        super(message);
    }

    static DocumentTooLargeException sections(int limit) {
        return new DocumentTooLargeException("the document has more than " + limit + " sections (headings); the limit is ingest.max_sections_per_document");
    }

    static DocumentTooLargeException text(long maxChars, int maxChunks) {
        return new DocumentTooLargeException("the document's text is longer than " + maxChars + " characters, more than " + maxChunks
                + " chunks hold; the limit is ingest.max_chunks_per_document");
    }

    /** Tika's reason, e.g. "Suspected zip bomb: 100 levels of XML element nesting". */
    static DocumentTooLargeException bomb(String reason) {
        return new DocumentTooLargeException("refused: " + reason.replace("Suspected zip bomb", "suspected decompression bomb"));
    }

    static DocumentTooLargeException part() {
        return new DocumentTooLargeException("refused: a part of the document is too large once decompressed");
    }

    static DocumentTooLargeException chunks(int limit) {
        return new DocumentTooLargeException("the document needs more than " + limit + " chunks; the limit is ingest.max_chunks_per_document");
    }
}
