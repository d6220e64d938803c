package dev.keel.config;

/**
 * HTTP server settings. {@code maxBodyBytes} bounds every request body, including uploads.
 * {@code adminKey} (default: the KEEL_ADMIN_KEY environment variable) guards {@code /admin}; it is
 * never logged or shown. {@code maxConcurrentRequests} bounds the {@code /v1} requests in progress; past
 * it, requests are refused at once (503, Retry-After) rather than queued without bound.
 */
public record ServerConfig(String host, int port, long maxBodyBytes, int heartbeatSeconds, String adminKey, int maxConcurrentRequests) {
    public static final ServerConfig DEFAULTS = new ServerConfig("127.0.0.1", 8080, 25L * 1024 * 1024, 15, null, 4096);

    @Override
    public String toString() {
        return "ServerConfig[" + host + ":" + port + ", maxBodyBytes=" + maxBodyBytes + ", adminKey=" + (adminKey == null ? "unset" : "set") + "]";
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
                blankToNull(n.string("admin_key", n.env("KEEL_ADMIN_KEY"))),
                n.integer("max_concurrent_requests", DEFAULTS.maxConcurrentRequests, 1, 1_000_000));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, maxBodyBytes, heartbeatSeconds, adminKey, maxConcurrentRequests);
    }

    public ServerConfig withHost(String newHost) {
        return new ServerConfig(newHost, port, maxBodyBytes, heartbeatSeconds, adminKey, maxConcurrentRequests);
    }
}
