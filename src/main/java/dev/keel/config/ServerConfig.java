package dev.keel.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * HTTP server settings. {@code maxBodyBytes} bounds every request body, including uploads.
 * {@code adminKey} (default: the KEEL_ADMIN_KEY environment variable) guards {@code /admin}; it is
 * never logged or shown. {@code maxConcurrentRequests} bounds the {@code /v1} requests in progress; past
 * it, requests are refused at once (503, Retry-After) rather than queued without bound.
 * {@code allowedHosts} are the names, besides localhost and IP addresses, that clients may reach the server
 * by (the {@code Host} header); {@code corsOrigins} the web origins, besides the server's own, whose pages
 * may call the API; both are lower-case. {@code metricsToken} (default: KEEL_METRICS_TOKEN), when set,
 * is the bearer token for {@code /metrics} and the details of {@code /health/ready}; never logged or shown.
 */
public record ServerConfig(String host, int port, long maxBodyBytes, int heartbeatSeconds, String adminKey, int maxConcurrentRequests,
                           List<String> allowedHosts, List<String> corsOrigins, String metricsToken) {
    public static final ServerConfig DEFAULTS = new ServerConfig("127.0.0.1", 8080, 25L * 1024 * 1024, 15, null, 4096, List.of(), List.of(), null);

    /** Short tokens can be guessed by a scraper-shaped brute force; 16 characters is a floor, not advice. */
    /** Bearer secrets (admin key, metrics token) shorter than this are guessable. */
    static final int MIN_SECRET_CHARS = 16;
    private static final String LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
    private static final Pattern HOST_NAME = Pattern.compile(LABEL + "(\\." + LABEL + ")*");
    private static final Pattern ORIGIN = Pattern.compile("https?://(" + HOST_NAME.pattern() + "|\\[[0-9a-f:.]+])(:[0-9]{1,5})?");

    public ServerConfig {
        allowedHosts = List.copyOf(allowedHosts);
        corsOrigins = List.copyOf(corsOrigins);
    }

    @Override
    public String toString() {
        return "ServerConfig[" + host + ":" + port + ", maxBodyBytes=" + maxBodyBytes + ", adminKey=" + (adminKey == null ? "unset" : "set")
                + ", allowedHosts=" + allowedHosts + ", corsOrigins=" + corsOrigins + ", metricsToken=" + (metricsToken == null ? "unset" : "set") + "]";
    }

    /** True when the server listens only on this machine. */
    public boolean loopbackOnly() {
        return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1") || host.startsWith("127.");
    }

    static ServerConfig read(ConfigNode n) {
        return new ServerConfig(
                n.string("host", DEFAULTS.host),
                n.integer("port", DEFAULTS.port, 0, 65535),
                n.longValue("max_body_bytes", DEFAULTS.maxBodyBytes, 1024, Long.MAX_VALUE),
                n.integer("heartbeat_seconds", DEFAULTS.heartbeatSeconds, 1, 3600),
                secret(n, "admin_key", "KEEL_ADMIN_KEY"),
                n.integer("max_concurrent_requests", DEFAULTS.maxConcurrentRequests, 1, 1_000_000),
                matching(n, "allowed_hosts", HOST_NAME, "a host name such as keel.example.com (no scheme, port or path)"),
                matching(n, "cors_origins", ORIGIN, "an origin such as https://app.example.com (scheme, host and optional port; no path)"),
                secret(n, "metrics_token", "KEEL_METRICS_TOKEN"));
    }

    /** An optional bearer secret from keel.yaml, else the environment; refused when short enough to guess. */
    private static String secret(ConfigNode n, String key, String envVar) {
        String value = blankToNull(n.string(key, n.env(envVar)));
        if (value != null && value.length() < MIN_SECRET_CHARS) {
            throw new ConfigException(n.path(key), "expected at least " + MIN_SECRET_CHARS + " characters (a random secret; " + envVar + " is read too)");
        }
        return value;
    }

    private static List<String> matching(ConfigNode n, String key, Pattern form, String expected) {
        List<String> out = new ArrayList<>();
        for (String value : n.strings(key)) {
            String v = value.toLowerCase(Locale.ROOT);
            if (v.equals("*")) throw new ConfigException(n.path(key), "'*' is not allowed: list each one, a wildcard would open the server to every web page");
            if (!form.matcher(v).matches()) throw new ConfigException(n.path(key), "expected " + expected + ", got '" + value + "'");
            out.add(v);
        }
        return out;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, maxBodyBytes, heartbeatSeconds, adminKey, maxConcurrentRequests, allowedHosts, corsOrigins, metricsToken);
    }

    public ServerConfig withHost(String newHost) {
        return new ServerConfig(newHost, port, maxBodyBytes, heartbeatSeconds, adminKey, maxConcurrentRequests, allowedHosts, corsOrigins, metricsToken);
    }
}
