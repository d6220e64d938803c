package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Streams through Keel as a client reads them, with the output guard off (it holds back a window of
 * text on purpose): each delta is forwarded as it comes, a client that leaves frees the upstream
 * stream and pays for what was generated, and many streams at once each get their own text.
 */
class StreamsThroughKeelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Long enough for a loaded CI machine, short enough that a stream buffered by Keel fails the test instead of hanging it. */
    private static final long PATIENCE_SECONDS = 20;
    private static GatewayFixture fixture;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        fixture = new GatewayFixture("guard: {enabled: false}\n");
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @BeforeEach
    void reset() {
        fixture.reset();
    }

    @Test
    void eachDeltaReachesTheClientBeforeTheUpstreamSendsTheNext() throws Exception {
        CountDownLatch clientHasFirst = new CountDownLatch(1);
        AtomicBoolean upstreamWaitedForTheClient = new AtomicBoolean();
        fixture.primary.then((ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            write(out, delta("first "));
            try {
                upstreamWaitedForTheClient.set(clientHasFirst.await(PATIENCE_SECONDS, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            write(out, delta("second"));
            write(out, "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}");
            write(out, "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],"
                    + "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}");
            write(out, "[DONE]");
        });
        List<String> data = new ArrayList<>();
        try (BufferedReader in = reader(stream("chunk-by-chunk"))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: ")) continue;
                data.add(line.substring(6));
                if (line.contains("first ")) clientHasFirst.countDown();
            }
        }
        assertThat(upstreamWaitedForTheClient).as("the client had delta 1 while the upstream held delta 2").isTrue();
        assertThat(text(data)).isEqualTo("first second");
        assertThat(data.getLast()).isEqualTo("[DONE]");
        assertThat(data.stream().filter(d -> d.contains("\"usage\"")).count()).as("one usage chunk").isEqualTo(1);
        JsonNode row = awaitUsage("chunk-by-chunk", r -> r.path("requests").asInt() == 1);
        assertThat(row.path("completion_tokens").asInt()).as("billed once, at the provider's usage").isEqualTo(2);
    }

    @Test
    void withNothingToCheckEachUpstreamChunkReachesTheClientAsSentUnderThePublicModelName() throws Exception {
        List<String> sent = List.of(
                "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"system_fingerprint\":\"fp\","
                        + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}",
                delta("one"),
                "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}");
        fixture.primary.then((ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            for (String chunk : sent) write(out, chunk);
            write(out, "[DONE]");
        });
        List<JsonNode> received = new ArrayList<>();
        try (BufferedReader in = reader(stream("as-sent"))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("data: {")) received.add(JSON.readTree(line.substring(6)));
            }
        }
        assertThat(received).as("one chunk out per chunk in, the empty first delta included").hasSize(sent.size());
        for (int i = 0; i < sent.size(); i++) {
            com.fasterxml.jackson.databind.node.ObjectNode expected = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(sent.get(i));
            expected.put("model", received.get(i).path("model").asText());
            assertThat(received.get(i)).isEqualTo(expected);
            assertThat(received.get(i).path("model").asText()).as("the public model name, not the upstream's").isNotEqualTo("m");
        }
    }

    @Test
    void aClientThatLeavesMidStreamFreesTheUpstreamStreamAndPaysForWhatWasGenerated() throws Exception {
        CountDownLatch upstreamAborted = new CountDownLatch(1);
        fixture.primary.then(FakeLlmServer.endlessStream(upstreamAborted));
        try (BufferedReader in = reader(stream("leaver"))) {
            int deltas = 0;
            for (String line; deltas < 3 && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) deltas++;
        }
        assertThat(upstreamAborted.await(PATIENCE_SECONDS, TimeUnit.SECONDS)).as("the upstream saw its stream cancelled").isTrue();
        JsonNode row = awaitUsage("leaver", r -> r.path("requests").asInt() == 1);
        assertThat(row.path("completion_tokens").asInt()).as("the text generated before the client left, estimated").isPositive();
        assertThat(row.path("estimated_usage_requests").asInt()).isEqualTo(1);
        assertThat(row.path("cost_usd").asDouble()).isPositive();
    }

    @Test
    void aStreamThatEndsWithDoneLeavesItsUpstreamConnectionForTheNextRequest() throws Exception {
        List<Integer> keelPorts = new java.util.concurrent.CopyOnWriteArrayList<>();
        FakeLlmServer.Behavior stream = FakeLlmServer.stream(List.of("one ", "two"), -1);
        fixture.primary.then((ex, req) -> {
            keelPorts.add(ex.getRemoteAddress().getPort());
            stream.respond(ex, req);
        });
        for (int i = 0; i < 3; i++) {
            try (InputStream in = stream("reuse")) {
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).endsWith("data: [DONE]\n\n");
            }
        }
        assertThat(keelPorts).as("the port Keel called from, per stream: one pooled connection").hasSize(3).containsOnly(keelPorts.getFirst());
    }

    @Test
    void anOpenAiStreamWhoseResponseEndsAMomentAfterDoneKeepsItsConnection() throws Exception {
        assertOnePooledConnection(fixture.primary, "fast", FakeLlmServer.stream(List.of("one ", "two"), -1));
    }

    @Test
    void anAnthropicStreamWhoseResponseEndsAMomentAfterMessageStopKeepsItsConnection() throws Exception {
        assertOnePooledConnection(fixture.anthropic, "claude-chat", FakeLlmServer.anthropicStream(List.of("one ", "two")));
    }

    /** Three streams from an upstream whose response ends well after its last event all go over one connection. */
    private void assertOnePooledConnection(FakeLlmServer upstream, String model, FakeLlmServer.Behavior stream) throws Exception {
        List<Integer> keelPorts = new java.util.concurrent.CopyOnWriteArrayList<>();
        upstream.then((ex, req) -> {
            keelPorts.add(ex.getRemoteAddress().getPort());
            stream.respond(ex, req);
            // The response's end (the chunked body's last chunk, written when the exchange closes) reaches Keel well
            // after the last event, as it can across a network: a Keel that returned at that event would still hold
            // this connection when the client's next request came, and open another.
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = http.send(streamRequest(model, "late-end", "Say something"), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).endsWith("data: [DONE]\n\n");
        }
        assertThat(keelPorts).as("the port Keel called from, per stream: one pooled connection").hasSize(3).containsOnly(keelPorts.getFirst());
    }

    @Test
    void anUpstreamThatHoldsItsResponseOpenAfterDoneIsCutAndTheClientsStreamStillEnds() throws Exception {
        CountDownLatch clientDone = new CountDownLatch(1);
        AtomicBoolean upstreamStillHolding = new AtomicBoolean(true);
        FakeLlmServer.Behavior stream = FakeLlmServer.stream(List.of("held ", "open"), -1);
        fixture.primary.then((ex, req) -> {
            stream.respond(ex, req);
            try {
                if (!clientDone.await(PATIENCE_SECONDS, TimeUnit.SECONDS)) upstreamStillHolding.set(false);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        String body;
        try (InputStream in = stream("held-open")) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        boolean heldThroughout = upstreamStillHolding.get();
        clientDone.countDown();
        assertThat(heldThroughout).as("the client's stream ended while the upstream still held its response open").isTrue();
        assertThat(text(body.lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList())).isEqualTo("held open");
        assertThat(body).endsWith("data: [DONE]\n\n");
        assertThat(awaitUsage("held-open", r -> r.path("requests").asInt() == 1).path("completion_tokens").asInt())
                .as("billed at the provider's usage").isEqualTo(2);
    }

    @Test
    void anUpstreamLineThatNeverEndsIsRefusedInsteadOfBuffered() throws Exception {
        CountDownLatch upstreamCutOff = new CountDownLatch(1);
        fixture.primary.then((ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            byte[] piece = new byte[64 * 1024];
            java.util.Arrays.fill(piece, (byte) 'x');
            try {
                out.write("data: ".getBytes(StandardCharsets.UTF_8));
                for (int i = 0; i < 1024; i++) {
                    out.write(piece);
                    out.flush();
                }
            } catch (IOException e) {
                upstreamCutOff.countDown();
            }
        });
        HttpResponse<String> r = http.send(streamRequest("endless-line", "Say something"), HttpResponse.BodyHandlers.ofString());
        assertThat(upstreamCutOff.await(PATIENCE_SECONDS, TimeUnit.SECONDS)).as("Keel hung up on a 64 MiB line").isTrue();
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("malformed_response");
    }

    @Test
    void manyConcurrentStreamsEachCompleteWithTheirOwnTextAndAreBilledOnceEach() throws Exception {
        int streams = 64;
        fixture.primary.then(FakeLlmServer.streamFrom(req -> "reply to " + req.at("/messages/0/content").asText()));
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            replies.add(http.sendAsync(streamRequest("crowd", "caller " + i), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < streams; i++) {
            HttpResponse<String> r = replies.get(i).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
            assertThat(text(data)).isEqualTo("reply to caller " + i);
            assertThat(data.getLast()).isEqualTo("[DONE]");
        }
        awaitUsage("crowd", r -> r.path("requests").asInt() == streams);
    }

    private static String delta(String content) {
        return "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
                + content + "\"},\"finish_reason\":null}]}";
    }

    private static void write(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String text(List<String> data) throws IOException {
        StringBuilder text = new StringBuilder();
        for (String d : data) {
            if (d.equals("[DONE]")) continue;
            JsonNode content = JSON.readTree(d).at("/choices/0/delta/content");
            if (content.isTextual()) text.append(content.asText());
        }
        return text.toString();
    }

    private HttpRequest streamRequest(String tenant, String message) {
        return streamRequest("fast", tenant, message);
    }

    private HttpRequest streamRequest(String model, String tenant, String message) {
        String body = "{\"model\":\"" + model + "\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\""
                + message + "\"}]}";
        return HttpRequest.newBuilder(URI.create(fixture.base + "/v1/chat/completions")).header("Content-Type", "application/json")
                .header("X-Keel-Tenant", tenant).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private InputStream stream(String tenant) throws Exception {
        HttpResponse<InputStream> r = http.send(streamRequest(tenant, "Say something"), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static BufferedReader reader(InputStream in) {
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }

    /** The tenant's usage row once {@code ready} holds of it (the ledger row of a stream is written as it ends). */
    private JsonNode awaitUsage(String tenant, java.util.function.Predicate<JsonNode> ready) throws Exception {
        JsonNode[] row = {null};
        BooleanSupplier written = () -> {
            try {
                JsonNode rows = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(fixture.base + "/v1/usage?group_by=model"))
                        .header("X-Keel-Tenant", tenant).build(), HttpResponse.BodyHandlers.ofString()).body()).path("data");
                row[0] = rows.path(0);
                return rows.size() == 1 && ready.test(row[0]);
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        };
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
        while (!written.getAsBoolean()) {
            assertThat(System.nanoTime()).as("usage of " + tenant + " within " + PATIENCE_SECONDS + " s: " + row[0]).isLessThan(deadline);
            Thread.onSpinWait();
        }
        return row[0];
    }
}
