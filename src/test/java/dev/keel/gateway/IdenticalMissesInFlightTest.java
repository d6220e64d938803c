package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Identical deterministic chat requests in flight together: the first asks the provider, the others
 * wait for its stored response instead of paying for the same completion again; if the first fails,
 * the others ask the provider themselves. Its own server, so that the provider may be slow.
 */
class IdenticalMissesInFlightTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static FakeLlmServer upstream;
    private static Keel keel;
    private static HttpServer server;
    private static String base;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        upstream = new FakeLlmServer();
        String yaml = """
                server: {port: 0}
                providers:
                  slow: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  slow:
                    targets:
                      - {provider: slow, model: upstream-slow}
                """.formatted(upstream.baseUrl());
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-flight-"));
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
        upstream.reset();
    }

    /** Answers with {@code status} and a completion of {@code content} once {@code release} opens. */
    private static FakeLlmServer.Behavior afterRelease(CountDownLatch release, int status, String content) {
        return (ex, req) -> {
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            FakeLlmServer.send(ex, status, Map.of(), status == 200 ? FakeLlmServer.completion("upstream-slow", content) : "{\"error\":{\"message\":\"boom\"}}");
        };
    }

    /** Sends {@code n} identical requests at once, for a fresh tenant. */
    private List<CompletableFuture<HttpResponse<String>>> sendTogether(int n, String question) {
        String tenant = "flight-" + UUID.randomUUID().toString().substring(0, 8);
        String body = JSON.createObjectNode().put("model", "slow").put("temperature", 0).set("messages",
                JSON.createArrayNode().add(JSON.createObjectNode().put("role", "user").put("content", question))).toString();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                    .header("X-Keel-Tenant", tenant).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        return calls;
    }

    private static double waiting() {
        return keel.traces().registry().get("keel.cache.waiting").gauge().value();
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            LockSupport.parkNanos(5_000_000);
        }
    }

    @Test
    void identicalMissesInFlightTogetherReachTheProviderOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        upstream.then(afterRelease(release, 200, "One answer for all."));
        List<CompletableFuture<HttpResponse<String>>> calls = sendTogether(6, "What is the shared answer?");
        await(() -> upstream.received.size() == 1 && waiting() == 5, "one request is upstream and five wait for it");
        release.countDown();
        List<String> served = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.get(60, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).at("/choices/0/message/content").asText()).isEqualTo("One answer for all.");
            served.add(r.headers().firstValue("x-keel-cache").orElseThrow());
        }
        assertThat(served).containsExactlyInAnyOrder("miss", "hit-exact", "hit-exact", "hit-exact", "hit-exact", "hit-exact");
        assertThat(upstream.received).hasSize(1);
        assertThat(waiting()).isZero();
    }

    @Test
    void whenTheFirstFailsTheWaitingRequestsAskTheProviderThemselves() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        upstream.then(afterRelease(release, 500, null), FakeLlmServer.ok("Second try."));
        List<CompletableFuture<HttpResponse<String>>> calls = sendTogether(3, "Will the first one fail?");
        await(() -> upstream.received.size() == 1 && waiting() == 2, "one request is upstream and two wait for it");
        release.countDown();
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> c : calls) statuses.add(c.get(60, TimeUnit.SECONDS).statusCode());
        assertThat(statuses).containsExactlyInAnyOrder(502, 200, 200);
        // Woken together, the two may each call (3 in all) or one may wait for the other's new call (2): both are right.
        assertThat(upstream.received).hasSizeBetween(2, 3);
        assertThat(waiting()).isZero();
    }
}
