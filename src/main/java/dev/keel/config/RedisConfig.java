package dev.keel.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Optional;

/**
 * Shared state across replicas: rate-limit buckets, budget reservations and the exact response
 * cache live in Redis when {@code url} is set ({@code redis://[:password@]host:port[/db]}, or
 * {@code rediss://} for TLS); without it they live in this process. When Redis cannot be reached,
 * budgets and rate limits each either refuse requests ({@code closed}) or admit them unchecked
 * ({@code open}). Every Redis call gives up after {@code timeoutMs}. A budget reservation held by a
 * replica that dies is released after {@code reservationLeaseSeconds}, which must outlast the
 * longest request. The URL's password never leaves this record: {@link #address()} is what logs,
 * errors and readiness show.
 */
public record RedisConfig(String url, OnFailure budgets, OnFailure rateLimits, int timeoutMs, int reservationLeaseSeconds) {
    /** What a limit does while Redis cannot be reached. */
    public enum OnFailure { OPEN, CLOSED }

    /**
     * Long enough for the slowest request the default providers allow (300 s total timeout, with
     * retries and a fallback) to settle before its reservation is taken back.
     */
    static final int DEFAULT_LEASE_SECONDS = 900;

    private static final int MAX_PORT = 65_535;

    public static final RedisConfig DEFAULTS = new RedisConfig(null, OnFailure.CLOSED, OnFailure.OPEN, 500, DEFAULT_LEASE_SECONDS);

    /** True when shared state lives in Redis. */
    public boolean shared() {
        return url != null;
    }

    /** The URL without its credentials ({@code redis://host:port/db}): what may be shown. */
    public String address() {
        if (url == null) return null;
        URI u = URI.create(url);
        String db = u.getPath() == null || u.getPath().isEmpty() ? "" : u.getPath();
        return u.getScheme() + "://" + u.getHost() + ":" + (u.getPort() < 0 ? 6379 : u.getPort()) + db;
    }

    /**
     * A warning when a reservation can lapse while its request still runs: an upstream call of a model
     * may take each target's {@code total_timeout_seconds} × attempts ({@code max_retries} + 1), one
     * target after another, bounded by {@code callDeadline} (an extension for a second call renews the
     * lease). Names both numbers; empty without Redis or when the lease is long enough.
     */
    public Optional<String> leaseWarning(GatewayConfig gateway, Duration callDeadline) {
        if (!shared()) return Optional.empty();
        long worst = 0;
        String slowest = null;
        for (ModelConfig model : gateway.models().values()) {
            long seconds = 0;
            for (ModelConfig.Target t : model.targets()) {
                ProviderConfig p = gateway.providers().get(t.provider());
                if (p != null) seconds += (long) p.totalTimeoutSeconds() * (p.maxRetries() + 1);
            }
            seconds = Math.min(seconds, callDeadline.toSeconds());
            if (seconds > worst) {
                worst = seconds;
                slowest = model.name();
            }
        }
        if (worst <= reservationLeaseSeconds) return Optional.empty();
        return Optional.of("redis.reservation_lease_seconds is " + reservationLeaseSeconds + " s, shorter than the " + worst + " s a request to model '"
                + slowest + "' may take (providers' total_timeout_seconds × attempts over its targets): its budget reservation can lapse while it"
                + " runs, and concurrent requests may then pass the budget; set it to at least " + worst);
    }

    static RedisConfig read(ConfigNode n) {
        String url = n.string("url", null);
        if (url != null) url = validUrl(n, url);
        return new RedisConfig(url,
                n.enumValue("budgets_on_failure", OnFailure.class, DEFAULTS.budgets),
                n.enumValue("rate_limits_on_failure", OnFailure.class, DEFAULTS.rateLimits),
                n.integer("timeout_ms", DEFAULTS.timeoutMs, 10, 60_000),
                n.integer("reservation_lease_seconds", DEFAULTS.reservationLeaseSeconds, 1, 24 * 3600));
    }

    /** Checks the form of the URL; the message never repeats it, since it may hold a password. */
    private static String validUrl(ConfigNode n, String url) {
        String expected = "expected redis://[:password@]host[:port][/db] or rediss://…";
        try {
            URI u = new URI(url.strip());
            boolean scheme = "redis".equals(u.getScheme()) || "rediss".equals(u.getScheme());
            String path = u.getPath() == null ? "" : u.getPath();
            if (!scheme || u.getHost() == null || u.getPort() == 0 || u.getPort() > MAX_PORT || !(path.isEmpty() || path.matches("/\\d{1,2}"))
                    || u.getQuery() != null) {
                throw new ConfigException(n.path("url"), expected);
            }
            return u.toString();
        } catch (URISyntaxException e) {
            throw new ConfigException(n.path("url"), expected);
        }
    }
}
