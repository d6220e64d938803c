package dev.keel.config;

/**
 * How documents are cut into chunks, measured in tokens (cl100k).
 * {@code structural} splits on headings, then paragraphs, then sentences, and packs consecutive
 * sections shorter than {@code minTokens} together (up to {@code maxTokens}); {@code recursive} ignores
 * headings and splits on blank lines, lines, sentences, words; {@code fixed} cuts windows of
 * {@code maxTokens} with {@code overlapTokens} overlap.
 */
public record ChunkingConfig(Strategy strategy, int maxTokens, int overlapTokens, int minTokens) {
    public enum Strategy { STRUCTURAL, RECURSIVE, FIXED }

    public static final ChunkingConfig DEFAULTS = new ChunkingConfig(Strategy.STRUCTURAL, 400, 50, 16);

    public ChunkingConfig {
        if (maxTokens < 16) throw new ConfigException("ingest.chunking.max_tokens", "must be at least 16, got " + maxTokens);
        if (overlapTokens < 0 || overlapTokens >= maxTokens) {
            throw new ConfigException("ingest.chunking.overlap_tokens",
                    "must be between 0 and max_tokens - 1 (" + (maxTokens - 1) + "), got " + overlapTokens);
        }
        if (minTokens < 0 || minTokens > maxTokens) {
            throw new ConfigException("ingest.chunking.min_tokens", "must be between 0 and max_tokens (" + maxTokens + "), got " + minTokens);
        }
    }

    static ChunkingConfig read(ConfigNode n) {
        return new ChunkingConfig(
                n.enumValue("strategy", Strategy.class, DEFAULTS.strategy),
                n.integer("max_tokens", DEFAULTS.maxTokens, 16, 8192),
                n.integer("overlap_tokens", DEFAULTS.overlapTokens, 0, 8191),
                n.integer("min_tokens", DEFAULTS.minTokens, 0, 8192));
    }
}
