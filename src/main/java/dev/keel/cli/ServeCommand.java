package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.http.HttpServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code keel serve}: the HTTP API and console until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Serve the HTTP API and console (Ctrl-C to stop).")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    ServerOptions listen;

    @Override
    public Integer call() throws InterruptedException {
        try (Keel keel = Keel.open(listen.apply(common.loadConfig()), common.dataDir())) {
            serve(keel);
        }
        return 0;
    }

    /** How long a stopping process waits for Keel to close before the JVM halts regardless. */
    private static final java.time.Duration SHUTDOWN_WAIT = java.time.Duration.ofSeconds(30);

    static void serve(Keel keel) throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        // Before the port opens, so that /health/ready never answers while the first checked request would wait for this.
        if (keel.config().guard().enabled()) keel.guard().prepare();
        try (HttpServer server = new HttpServer(keel)) {
            int bound = server.start();
            // Ctrl-C or SIGTERM: this thread closes the server, then its caller closes Keel; the hook waits for that,
            // since the JVM halts as soon as its hooks return (a SIGTERM lost the ledger's last rows, GracefulStopTest).
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stop.countDown();
                keel.awaitClosed(SHUTDOWN_WAIT);
            }, "keel-shutdown"));
            System.err.printf("keel: serving on http://%s:%d (console: /console/, API: /v1/…) — Ctrl-C to stop%n",
                    keel.config().server().host(), bound);
            stop.await();
        }
    }
}
