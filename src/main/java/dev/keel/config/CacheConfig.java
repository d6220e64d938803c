package dev.keel.config;

/**
 * Response caches of the gateway and of answers. The exact cache serves a repeat of the same
 * deterministic request; the semantic cache serves a request whose last user message means the same
 * (embedding cosine at least {@code threshold}) as a cached one, all else equal. Each cache has its
 * own switch, time to live and entry count; {@code maxEntryBytes} bounds one stored response, so the
 * memory the caches can hold is at most about (exact + semantic entries) × max entry bytes.
 */
public record CacheConfig(Exact exact, Semantic semantic, int maxEntryBytes) {
    /** The exact cache: a hit needs the same tenant, model, prompt template and normalised request. */
    public record Exact(boolean enabled, int ttlSeconds, int maxEntries) {}

    /** The semantic cache: nearest cached last user message in the same scope, by cosine. */
    public record Semantic(boolean enabled, double threshold, int ttlSeconds, int maxEntries) {}

    public static final CacheConfig DEFAULTS = new CacheConfig(new Exact(true, 3600, 10_000), new Semantic(true, 0.95, 3600, 10_000), 16_384);

    /** The lowest threshold accepted: below it unrelated questions of one topic start to match. */
    private static final double MIN_THRESHOLD = 0.8;

    static CacheConfig read(ConfigNode n) {
        ConfigNode e = n.child("exact"), s = n.child("semantic");
        return new CacheConfig(
                new Exact(e.bool("enabled", DEFAULTS.exact.enabled), e.integer("ttl_seconds", DEFAULTS.exact.ttlSeconds, 1, 30 * 24 * 3600),
                        e.integer("max_entries", DEFAULTS.exact.maxEntries, 1, 10_000_000)),
                new Semantic(s.bool("enabled", DEFAULTS.semantic.enabled), s.decimal("threshold", DEFAULTS.semantic.threshold, MIN_THRESHOLD, 1),
                        s.integer("ttl_seconds", DEFAULTS.semantic.ttlSeconds, 1, 30 * 24 * 3600),
                        s.integer("max_entries", DEFAULTS.semantic.maxEntries, 1, 10_000_000)),
                n.integer("max_entry_bytes", DEFAULTS.maxEntryBytes, 256, 16 * 1024 * 1024));
    }
}
