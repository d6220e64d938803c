package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConcurrencyLimitTest {
    private static final String BODY = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    /** One model "m" served by {@code upstream}, at most {@code limit} requests in progress. */
    private static KeelConfig limitedTo(int limit, FakeLlmServer upstream) {
        return KeelConfig.parse("""
                server: {port: 0, max_concurrent_requests: %d}
                providers:
                  up: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  m: {targets: [{provider: up, model: up}]}
                """.formatted(limit, upstream.baseUrl()), k -> null);
    }

    @Test
    void requestsPastTheLimitAreRefusedAtOnceAndThePermitComesBack(@TempDir Path dir) throws Exception {
        CountDownLatch arrived = new CountDownLatch(1), release = new CountDownLatch(1);
        try (FakeLlmServer upstream = new FakeLlmServer()) {
            upstream.then((ex, req) -> {
                arrived.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                FakeLlmServer.send(ex, 200, Map.of(), FakeLlmServer.completion("up", "done"));
            }, FakeLlmServer.ok("second"));
            KeelConfig config = limitedTo(1, upstream);
            try (Keel keel = Keel.open(config, dir); HttpServer server = new HttpServer(keel)) {
                String base = "http://127.0.0.1:" + server.start();
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest chat = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
                CompletableFuture<HttpResponse<String>> first = http.sendAsync(chat, HttpResponse.BodyHandlers.ofString());
                assertThat(arrived.await(30, TimeUnit.SECONDS)).isTrue();

                HttpResponse<String> refused = http.send(chat, HttpResponse.BodyHandlers.ofString());
                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
                assertThat(refused.body()).contains("max_concurrent_requests");
                assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health/live")).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                        .as("health stays outside the limit").isEqualTo(200);

                release.countDown();
                assertThat(first.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
                assertThat(statusOnceThePermitIsBack(http, chat)).as("the permit came back").isEqualTo(200);
            }
        }
    }

    @Test
    void clientsSendingTheirBodiesSlowlyHoldNoSlot(@TempDir Path dir) throws Exception {
        try (FakeLlmServer upstream = new FakeLlmServer()) {
            KeelConfig config = limitedTo(2, upstream);
            try (Keel keel = Keel.open(config, dir); HttpServer server = new HttpServer(keel)) {
                int port = server.start();
                java.util.List<java.net.Socket> slow = new java.util.ArrayList<>();
                try {
                    for (int i = 0; i < 4; i++) {
                        java.net.Socket s = new java.net.Socket("127.0.0.1", port);
                        s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                + "Content-Length: 1000\r\n\r\n{").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                        s.getOutputStream().flush();
                        slow.add(s);
                    }
                    HttpRequest chat = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
                    assertThat(HttpClient.newHttpClient().send(chat, HttpResponse.BodyHandlers.ofString()).statusCode())
                            .as("four half-sent bodies against a limit of two").isEqualTo(200);
                } finally {
                    for (java.net.Socket s : slow) s.close();
                }
            }
        }
    }

    /**
     * The permit is released after the response is written, so a client may read the answer and ask again a
     * moment before it is back: retry a 503 until a deadline.
     */
    private static int statusOnceThePermitIsBack(HttpClient http, HttpRequest request) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int status = http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
        while (status == 503 && System.nanoTime() < deadline) {
            Thread.sleep(5);
            status = http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
        }
        return status;
    }
}
