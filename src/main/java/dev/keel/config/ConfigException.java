package dev.keel.config;

/** A configuration problem, with the dotted path of the offending field and the expected form. */
public final class ConfigException extends RuntimeException {
    private final String field;

    public ConfigException(String field, String message) {
        super(field.isEmpty() ? message : field + ": " + message);
        this.field = field;
    }

    /** Dotted path of the bad field, e.g. {@code search.fusion}; empty for whole-file problems. */
    public String field() {
        return field;
    }
}
