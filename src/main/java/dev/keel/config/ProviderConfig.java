package dev.keel.config;

import java.net.URI;
import java.util.Locale;

/**
 * One upstream LLM provider: its wire protocol, base URL, API key (from the environment, never
 * logged or shown), timeouts, retries, and how long its circuit breaker stays open. Providers
 * declared in keel.yaml and those registered from the environment share one set of defaults
 * ({@link #of}). A provider marked {@code private} (self-hosted, or under a data agreement) is the
 * only kind a request carrying an entity under the guard's {@code private} policy may reach.
 * {@code openAiReasoningModels}: requests for OpenAI's reasoning models (o1, o3, o4, gpt-5) are sent in their dialect
 * ({@code max_completion_tokens}, no sampling settings); by default for OpenAI's own API only, since another server
 * may serve a model of that name that reads requests as sent.
 */
public record ProviderConfig(String name, Type type, URI baseUrl, String apiKey, int connectTimeoutSeconds,
                             int firstByteTimeoutSeconds, int totalTimeoutSeconds, int maxRetries, int breakerOpenSeconds,
                             boolean privateProvider, boolean openAiReasoningModels) {
    /** Wire protocols; {@code EXTRACTIVE} is the offline answerer over the tenant's documents (no base URL). */
    public enum Type { OPENAI, ANTHROPIC, EXTRACTIVE }

    static final int DEFAULT_CONNECT_TIMEOUT_SECONDS = 5;
    /** A non-streamed reply's first byte is the whole generation: long answers from large models take a minute. */
    static final int DEFAULT_FIRST_BYTE_TIMEOUT_SECONDS = 60;
    static final int DEFAULT_TOTAL_TIMEOUT_SECONDS = 300;
    static final int DEFAULT_MAX_RETRIES = 2;
    static final int DEFAULT_BREAKER_OPEN_SECONDS = 30;

    /** A provider with the default timeouts, retries and breaker. */
    public static ProviderConfig of(String name, Type type, URI baseUrl, String apiKey) {
        return new ProviderConfig(name, type, baseUrl, apiKey, DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_FIRST_BYTE_TIMEOUT_SECONDS,
                DEFAULT_TOTAL_TIMEOUT_SECONDS, DEFAULT_MAX_RETRIES, DEFAULT_BREAKER_OPEN_SECONDS, false, openAiItself(baseUrl));
    }

    /**
     * A provider's base URL read from {@code field} (a config path or an environment variable): http(s), a host, no
     * trailing slash, and no query or fragment, which the endpoint's path would be appended after (a {@code ?k=1} base
     * sent {@code POST /v1?k=1/chat/completions}).
     */
    public static URI baseUrl(String field, String url) {
        URI base = ConfigNode.httpUrl(field, url);
        if (base.getRawQuery() != null || base.getRawFragment() != null) {
            throw new ConfigException(field, "a provider's base URL takes no query or fragment, got '" + url + "'");
        }
        return base;
    }

    /** Whether {@code baseUrl} is OpenAI's own API. */
    static boolean openAiItself(URI baseUrl) {
        return baseUrl != null && "api.openai.com".equalsIgnoreCase(baseUrl.getHost());
    }

    /** The offline extractive provider: local, so nothing to retry, and private (it quotes the caller's own documents). */
    public static ProviderConfig extractive(String name) {
        ProviderConfig p = of(name, Type.EXTRACTIVE, null, null);
        return new ProviderConfig(name, p.type, null, null, p.connectTimeoutSeconds, p.firstByteTimeoutSeconds, p.totalTimeoutSeconds, 0,
                p.breakerOpenSeconds, true, false);
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
        URI base = baseUrl(n.path("base_url"), url);
        return new ProviderConfig(name, type, base, n.string("api_key", null),
                n.integer("connect_timeout_seconds", DEFAULT_CONNECT_TIMEOUT_SECONDS, 1, 300),
                n.integer("first_byte_timeout_seconds", DEFAULT_FIRST_BYTE_TIMEOUT_SECONDS, 1, 3600),
                n.integer("total_timeout_seconds", DEFAULT_TOTAL_TIMEOUT_SECONDS, 1, 3600),
                n.integer("max_retries", DEFAULT_MAX_RETRIES, 0, 10),
                n.integer("breaker_open_seconds", DEFAULT_BREAKER_OPEN_SECONDS, 1, 3600),
                n.bool("private", false),
                n.bool("openai_reasoning_models", openAiItself(base)));
    }
}
