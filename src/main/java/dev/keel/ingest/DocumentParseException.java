package dev.keel.ingest;

/** A document that cannot be parsed or holds no text; the message names the file and the reason. */
public final class DocumentParseException extends RuntimeException {
    public DocumentParseException(String message, Throwable cause) {
        super(message, cause);
    }

    public DocumentParseException(String message) {
        super(message);
    }
}
