package dev.keel.model;

/** Token usage of one completion; {@code estimated} when the provider did not report it. */
public record Usage(long promptTokens, long completionTokens, long cachedTokens, boolean estimated) {
    public static final Usage NONE = new Usage(0, 0, 0, true);
}
