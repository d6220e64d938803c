package dev.keel.guard;

/**
 * One detected PII entity or secret: its type (a Presidio entity name such as {@code EMAIL_ADDRESS},
 * or {@code SECRET}) and its span in the scanned text in UTF-16 code units, end exclusive. Never
 * carries the value itself, so it may be logged and traced.
 */
public record PiiEntity(String type, int start, int end) {
    public PiiEntity {
        if (start < 0 || end < start) throw new IllegalArgumentException("bad span " + start + ".." + end);
    }
}
