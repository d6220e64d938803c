package dev.keel.guard;

/**
 * One layer's finding about a text, for traces and the check API: the layer ({@code pattern},
 * {@code exemplar}, {@code classifier}, {@code pii}, {@code topic}, {@code canary}…), the category it
 * found ({@code instruction_override}, {@code EMAIL_ADDRESS}…) and its score in [0, 1]. Never holds
 * text from the request.
 */
public record GuardSignal(String layer, String category, double score) {}
