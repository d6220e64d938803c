package dev.keel.config;

/** HTTP server settings. {@code maxBodyBytes} bounds every request body, including uploads. */
public record ServerConfig(String host, int port, long maxBodyBytes, int heartbeatSeconds) {
    public static final ServerConfig DEFAULTS = new ServerConfig("127.0.0.1", 8080, 25L * 1024 * 1024, 15);

    static ServerConfig read(ConfigNode n) {
        return new ServerConfig(
                n.string("host", DEFAULTS.host),
                n.integer("port", DEFAULTS.port, 0, 65535),
                n.longValue("max_body_bytes", DEFAULTS.maxBodyBytes, 1024, Long.MAX_VALUE),
                n.integer("heartbeat_seconds", DEFAULTS.heartbeatSeconds, 1, 3600));
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, maxBodyBytes, heartbeatSeconds);
    }

    public ServerConfig withHost(String newHost) {
        return new ServerConfig(newHost, port, maxBodyBytes, heartbeatSeconds);
    }
}
