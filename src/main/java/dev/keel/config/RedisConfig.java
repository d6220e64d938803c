package dev.keel.config;

/**
 * Shared state across replicas: rate-limit buckets, budget reservations and the exact response
 * cache live in Redis when {@code url} is set ({@code redis://[:password@]host:port[/db]}); without it
 * they live in this process. When Redis cannot be reached, budgets and rate limits each either
 * refuse requests ({@code closed}) or admit them unchecked ({@code open}).
 */
public record RedisConfig(String url, OnFailure budgets, OnFailure rateLimits, int timeoutMs) {
    /** What a limit does while Redis cannot be reached. */
    public enum OnFailure { OPEN, CLOSED }

    public static final RedisConfig DEFAULTS = new RedisConfig(null, OnFailure.CLOSED, OnFailure.OPEN, 500);

    /** True when shared state lives in Redis. */
    public boolean shared() {
        return url != null;
    }

    static RedisConfig read(ConfigNode n) {
        return new RedisConfig(n.string("url", null),
                n.enumValue("budgets_on_failure", OnFailure.class, DEFAULTS.budgets),
                n.enumValue("rate_limits_on_failure", OnFailure.class, DEFAULTS.rateLimits),
                n.integer("timeout_ms", DEFAULTS.timeoutMs, 10, 60_000));
    }
}
