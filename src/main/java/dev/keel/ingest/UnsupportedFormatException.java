package dev.keel.ingest;

/** A document whose type Keel does not parse; the message names the type and the supported ones. */
public final class UnsupportedFormatException extends RuntimeException {
    public UnsupportedFormatException(String what) {
        super("unsupported document type " + what + "; supported: " + DocumentFormat.supportedList());
    }
}
