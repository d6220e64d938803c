package dev.keel.store;

/** A failure of the metadata store, with a message fit for an operator. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
