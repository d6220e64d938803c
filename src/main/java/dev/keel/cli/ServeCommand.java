package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keel serve}: the HTTP API and console until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Serve the HTTP API and console (Ctrl-C to stop).")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--port", description = "Port (default: server.port, 8080).")
    Integer port;

    @Option(names = "--host", description = "Interface to bind (default: server.host, 127.0.0.1).")
    String host;

    @Override
    public Integer call() throws InterruptedException {
        KeelConfig config = common.loadConfig();
        if (port != null) config = config.withServer(config.server().withPort(port));
        if (host != null) config = config.withServer(config.server().withHost(host));
        try (Keel keel = Keel.open(config, common.dataDir())) {
            serve(keel);
        }
        return 0;
    }

    static void serve(Keel keel) throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        try (HttpServer server = new HttpServer(keel)) {
            int bound = server.start();
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            System.err.printf("keel: serving on http://%s:%d (console: /console/, API: /v1/…) — Ctrl-C to stop%n",
                    keel.config().server().host(), bound);
            stop.await();
        }
    }
}
