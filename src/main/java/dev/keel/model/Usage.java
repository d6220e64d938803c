package dev.keel.model;

import com.fasterxml.jackson.databind.JsonNode;

/** Token usage of one completion; {@code estimated} when the provider did not report it. */
public record Usage(long promptTokens, long completionTokens, long cachedTokens, boolean estimated) {
    public static final Usage NONE = new Usage(0, 0, 0, true);
    /** More tokens than any model reads or writes in one call (the largest context windows hold ~10 million): a count past it is not a count. */
    static final long MAX_CREDIBLE_TOKENS = 20_000_000L;

    /**
     * The usage a provider reported, or {@link #NONE} (to be estimated from the text, as when none is reported) when a
     * count is negative or past {@link #MAX_CREDIBLE_TOKENS}: a broken or hostile upstream must neither refund a budget
     * with negative tokens nor exhaust it with absurd ones. Cached tokens are bounded by the prompt's.
     */
    public static Usage reported(long promptTokens, long completionTokens, long cachedTokens) {
        if (promptTokens < 0 || completionTokens < 0 || promptTokens > MAX_CREDIBLE_TOKENS || completionTokens > MAX_CREDIBLE_TOKENS) return NONE;
        return new Usage(promptTokens, completionTokens, Math.clamp(cachedTokens, 0, promptTokens), false);
    }

    /**
     * As {@link #reported(long, long, long)}, from a provider's JSON: {@link #NONE} unless {@code prompt} and
     * {@code completion} are integers (not strings, fractions or missing); a {@code cached} that is not one counts 0.
     */
    public static Usage reported(JsonNode prompt, JsonNode completion, JsonNode cached) {
        if (!prompt.isIntegralNumber() || !completion.isIntegralNumber()) return NONE;
        return reported(prompt.asLong(), completion.asLong(), cached.isIntegralNumber() ? cached.asLong() : 0);
    }
}
