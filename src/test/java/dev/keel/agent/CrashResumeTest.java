package dev.keel.agent;

import static dev.keel.gateway.FakeLlmServer.ok;
import static dev.keel.gateway.FakeLlmServer.stall;
import static dev.keel.gateway.FakeLlmServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.keel.engines.Await;
import dev.keel.engines.KeelProcess;
import dev.keel.gateway.FakeLlmServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run survives {@code kill -9} of the server: after a restart on the same data directory it resumes from its event
 * log without repeating a completed write, and a write cut off mid-call is sent again only with the same
 * Idempotency-Key. The write tool is a declared HTTP tool against a local ticket API that counts what it receives.
 */
class CrashResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Duration RESUMED = Duration.ofSeconds(60);
    private static final Pattern RUN_ID = Pattern.compile("\"run_id\"\\s*:\\s*\"(run_[0-9a-f]+)\"");

    @TempDir
    Path dir;
    private FakeLlmServer llm;
    private TicketApi tickets;
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        llm = new FakeLlmServer();
        tickets = new TicketApi();
    }

    @AfterEach
    void stop() {
        release.countDown();
        tickets.close();
        llm.close();
    }

    @Test
    void aRunKilledWhileTheModelThinksResumesAfterRestartWithoutRepeatingItsWrite() throws Exception {
        llm.then(toolCall("create_ticket", "{\"subject\":\"printer on fire\"}"), stall(release, 120), ok("Ticket created."));
        Path config = config(false);
        String runId = killMidRun(config, "the second model call to be in flight", () -> llm.received.size() == 2);
        assertThat(tickets.posts).hasSize(1);
        release.countDown();
        try (KeelProcess second = KeelProcess.start(config, dir.resolve("data"), Map.of())) {
            JsonNode run = awaitFinished(second, runId);
            assertThat(run.path("status").asText()).isEqualTo("completed");
            assertThat(run.path("output").asText()).isEqualTo("Ticket created.");
            assertThat(tickets.posts).hasSize(1);
            assertThat(types(run)).contains("resumed").containsOnlyOnce("tool_result");
            // The resumed model call saw the tool's result from the log, not a second execution.
            JsonNode resumedMessages = llm.received.get(llm.received.size() - 1).body().path("messages");
            assertThat(resumedMessages.toString()).contains("tool_call_id").contains("TCK-1");
        }
    }

    @Test
    void anIdempotentWriteCutOffByTheCrashIsSentAgainWithTheSameKeyAndTakesEffectOnce() throws Exception {
        llm.then(toolCall("create_ticket", "{\"subject\":\"badge reader\"}"), ok("Ticket created."));
        tickets.holdFirst = true;
        Path config = config(true);
        String runId = killMidRun(config, "the write to reach the ticket API", () -> tickets.posts.size() == 1);
        try (KeelProcess second = KeelProcess.start(config, dir.resolve("data"), Map.of())) {
            JsonNode run = awaitFinished(second, runId);
            assertThat(run.path("status").asText()).isEqualTo("completed");
            assertThat(tickets.posts).hasSize(2);
            assertThat(tickets.posts.get(0)).isNotBlank().isEqualTo(tickets.posts.get(1));
            assertThat(tickets.created).hasSize(1);
        }
    }

    @Test
    void aNonIdempotentWriteCutOffByTheCrashGoesToAPersonInsteadOfRunningTwice() throws Exception {
        llm.then(toolCall("create_ticket", "{\"subject\":\"coffee machine\"}"), ok("Ticket created."));
        tickets.holdFirst = true;
        Path config = config(false);
        String runId = killMidRun(config, "the write to reach the ticket API", () -> tickets.posts.size() == 1);
        try (KeelProcess second = KeelProcess.start(config, dir.resolve("data"), Map.of())) {
            JsonNode run = awaitFinished(second, runId);
            assertThat(run.path("status").asText()).isEqualTo("needs_human");
            assertThat(run.path("reason").asText()).contains("may or may not have happened");
            assertThat(tickets.posts).hasSize(1);
            assertThat(llm.received).hasSize(1);
        }
    }

    private Path config(boolean idempotent) throws IOException {
        Path config = dir.resolve("keel.yaml");
        Files.writeString(config, """
                server: {port: 0}
                providers:
                  fake: {type: openai, base_url: %s, max_retries: 0}
                models:
                  agent-model:
                    targets:
                      - {provider: fake, model: upstream-agent}
                agents:
                  http_tools:
                    - name: create_ticket
                      description: Opens a support ticket
                      method: POST
                      url: %s/tickets
                      parameters: {type: object, properties: {subject: {type: string}}, required: [subject]}
                      idempotent: %s
                  definitions:
                    desk:
                      model: agent-model
                      tools: [create_ticket]
                      confirm: []
                """.formatted(llm.baseUrl(), tickets.baseUrl(), idempotent));
        return config;
    }

    /** Serves Keel, starts a run, {@code kill -9}s the server once {@code killWhen} holds, and returns the run's id. */
    private String killMidRun(Path config, String waitingFor, java.util.function.BooleanSupplier killWhen) throws Exception {
        KeelProcess first = KeelProcess.start(config, dir.resolve("data"), Map.of());
        try {
            String runId = startStreaming(first);
            Await.until(RESUMED, waitingFor, killWhen);
            return runId;
        } finally {
            first.kill();
        }
    }

    /** Starts a streamed run and returns its id, read from the first event, while the run goes on. */
    private static String startStreaming(KeelProcess keel) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(keel.baseUrl() + "/v1/agents/desk/runs"))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"task\":\"open a ticket\",\"stream\":true}")).build();
        StringBuilder seen = new StringBuilder();
        java.util.concurrent.CompletableFuture<String> id = new java.util.concurrent.CompletableFuture<>();
        HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofLines()).thenAccept(r -> r.body().forEach(line -> {
            seen.append(line);
            Matcher m = RUN_ID.matcher(line);
            if (m.find()) id.complete(m.group(1));
        }));
        try {
            return id.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("no run id in the stream; got: " + seen, e);
        }
    }

    private static JsonNode awaitFinished(KeelProcess keel, String runId) throws Exception {
        JsonNode[] last = new JsonNode[1];
        Await.until(RESUMED, "run " + runId + " to finish after the restart", () -> {
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(keel.baseUrl() + "/v1/runs/" + runId)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                last[0] = JSON.readTree(r.body());
                String status = last[0].path("status").asText();
                return r.statusCode() == 200 && !status.equals("running");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        return last[0];
    }

    private static List<String> types(JsonNode run) {
        List<String> out = new java.util.ArrayList<>();
        run.path("events").forEach(e -> out.add(e.path("type").asText()));
        return out;
    }

    /** The team's ticket API: records each POST's Idempotency-Key and creates one ticket per key. */
    private static final class TicketApi implements AutoCloseable {
        final List<String> posts = new CopyOnWriteArrayList<>();
        final Set<String> created = ConcurrentHashMap.newKeySet();
        volatile boolean holdFirst;
        private final CountDownLatch never = new CountDownLatch(1);
        private final HttpServer server;

        TicketApi() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/tickets", ex -> {
                ex.getRequestBody().readAllBytes();
                String key = String.valueOf(ex.getRequestHeaders().getFirst("Idempotency-Key"));
                posts.add(key);
                if (holdFirst && posts.size() == 1) {
                    try {
                        never.await(120, TimeUnit.SECONDS); // the server is killed while this write is in flight
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    ex.close();
                    return;
                }
                created.add(key);
                byte[] body = "{\"id\":\"TCK-1\",\"status\":\"open\"}".getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("content-type", "application/json");
                ex.sendResponseHeaders(201, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            server.start();
        }

        String baseUrl() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            never.countDown();
            server.stop(0);
        }
    }
}
