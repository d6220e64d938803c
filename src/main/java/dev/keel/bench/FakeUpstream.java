package dev.keel.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local OpenAI-compatible upstream for the gateway benchmark: answers every
 * {@code /v1/chat/completions} after a fixed latency, and optionally fails a share of calls with a
 * mix of 500, 429 (Retry-After 0) and stalls longer than the gateway's first-byte timeout.
 * Loopback only.
 */
final class FakeUpstream implements AutoCloseable {
    private static final byte[] BODY = ("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"bench-upstream\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1,\"total_tokens\":13}}").getBytes(StandardCharsets.UTF_8);

    private final HttpServer server;
    private final AtomicLong calls = new AtomicLong();

    FakeUpstream(int latencyMs, double failureRate, int stallMs) throws IOException {
        System.setProperty("sun.net.httpserver.nodelay", "true");
        System.setProperty("sun.net.httpserver.maxIdleConnections", "4096");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/chat/completions", ex -> {
            calls.incrementAndGet();
            try (ex) {
                ex.getRequestBody().readAllBytes();
                double roll = ThreadLocalRandom.current().nextDouble();
                if (roll < failureRate / 3) {
                    reply(ex, 500, "{\"error\":{\"message\":\"injected\"}}".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                if (roll < 2 * failureRate / 3) {
                    ex.getResponseHeaders().set("Retry-After", "0");
                    reply(ex, 429, "{\"error\":{\"message\":\"injected\"}}".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                Thread.sleep(roll < failureRate ? stallMs : latencyMs);
                reply(ex, 200, BODY);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
    }

    private static void reply(com.sun.net.httpserver.HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    long calls() {
        return calls.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
