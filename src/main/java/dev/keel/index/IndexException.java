package dev.keel.index;

/** The index cannot be opened or written; the message tells the operator what to do. */
public final class IndexException extends RuntimeException {
    public IndexException(String message, Throwable cause) {
        super(message, cause);
    }

    public IndexException(String message) {
        super(message);
    }
}
