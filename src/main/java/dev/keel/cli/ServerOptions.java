package dev.keel.cli;

import dev.keel.config.KeelConfig;
import picocli.CommandLine.Option;

/** Where the commands that serve the API listen: {@code --port} and {@code --host} over keel.yaml's {@code server}. */
final class ServerOptions {
    @Option(names = "--port", description = "Port (default: server.port, 8080).")
    Integer port;

    @Option(names = "--host", description = "Interface to bind (default: server.host, 127.0.0.1).")
    String host;

    KeelConfig apply(KeelConfig config) {
        if (port != null) config = config.withServer(config.server().withPort(port));
        if (host != null) config = config.withServer(config.server().withHost(host));
        return config;
    }
}
