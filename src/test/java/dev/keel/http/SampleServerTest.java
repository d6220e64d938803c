package dev.keel.http;

import dev.keel.SampleCorpus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** An HTTP server over the shared sample-corpus Keel, one per test class, at {@link #base}. */
abstract class SampleServerTest {
    static HttpServer server;
    static String base;

    @BeforeAll
    static void startServer() {
        server = new HttpServer(SampleCorpus.keel());
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }
}
