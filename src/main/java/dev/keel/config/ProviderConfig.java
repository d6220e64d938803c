package dev.keel.config;

import java.net.URI;
import java.util.Locale;

/**
 * One upstream LLM provider: its wire protocol, base URL, API key (from the environment, never
 * logged or shown), timeouts, retries, and how long its circuit breaker stays open.
 */
public record ProviderConfig(String name, Type type, URI baseUrl, String apiKey, int connectTimeoutSeconds,
                             int firstByteTimeoutSeconds, int totalTimeoutSeconds, int maxRetries, int breakerOpenSeconds) {
    /** Wire protocols; {@code EXTRACTIVE} is the offline answerer over the tenant's documents (no base URL). */
    public enum Type { OPENAI, ANTHROPIC, EXTRACTIVE }

    /** The offline extractive provider, as registered when no providers are configured. */
    public static ProviderConfig extractive(String name) {
        return new ProviderConfig(name, Type.EXTRACTIVE, null, null, 5, 30, 120, 0, 30);
    }

    public ProviderConfig {
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) throw new ConfigException("providers", "provider names are 1-64 letters, digits, '.', '_' or '-': '" + name + "'");
    }

    /** The key never appears in toString (logs, errors). */
    @Override
    public String toString() {
        return "ProviderConfig[" + name + ", " + type.name().toLowerCase(Locale.ROOT) + ", " + baseUrl + "]";
    }

    static ProviderConfig read(String name, ConfigNode n) {
        Type type = n.enumValue("type", Type.class, null);
        if (type == null) throw new ConfigException(n.path("type"), "required: one of [openai, anthropic, extractive]");
        if (type == Type.EXTRACTIVE) return extractive(name); // local: no URL, key, timeouts or retries to set
        String url = n.string("base_url", null);
        if (url == null) throw new ConfigException(n.path("base_url"), "required, e.g. https://api.openai.com/v1");
        URI base;
        try {
            base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            if (base.getScheme() == null || !(base.getScheme().equals("http") || base.getScheme().equals("https")) || base.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigException(n.path("base_url"), "expected an http(s) URL, got '" + url + "'");
        }
        return new ProviderConfig(name, type, base, n.string("api_key", null),
                n.integer("connect_timeout_seconds", 5, 1, 300),
                n.integer("first_byte_timeout_seconds", 30, 1, 3600),
                n.integer("total_timeout_seconds", 120, 1, 3600),
                n.integer("max_retries", 2, 0, 10),
                n.integer("breaker_open_seconds", 30, 1, 3600));
    }
}
