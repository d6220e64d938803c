package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.trace.Trace;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.EofException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link HttpServer#serve}, the steps {@link HotRoute} runs around its route, with one concurrency slot: whatever a
 * route throws, the slot is given back and the trace ends; how failures that are not the server's are answered.
 */
class ServePipelineTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Keel keel;
    private static HttpServer server;

    @BeforeAll
    static void open() throws IOException {
        keel = Keel.open(KeelConfig.parse("server: {port: 0, max_concurrent_requests: 1}\n", k -> null), Files.createTempDirectory("keel-serve-"));
        server = new HttpServer(keel);
    }

    @AfterAll
    static void close() {
        server.close();
        keel.close();
    }

    /** An exchange held in memory: a JSON POST of {@code {}}. */
    static final class Recorded implements Exchange {
        final Map<String, Object> attributes = new HashMap<>();
        final Map<String, String> responseHeaders = new HashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        int status = 200;

        @Override public String method() { return "POST"; }
        @Override public String path() { return "/v1/chat/completions"; }
        @Override public String header(String name) { return name.equalsIgnoreCase("Content-Type") ? "application/json" : null; }
        @Override public List<String> headers(String name) { return header(name) == null ? List.of() : List.of(header(name)); }
        @Override public long declaredLength() { return 2; }
        @Override public byte[] body() { return "{}".getBytes(StandardCharsets.UTF_8); }
        @SuppressWarnings("unchecked") @Override public <T> T attribute(String name) { return (T) attributes.get(name); }
        @Override public void attribute(String name, Object value) { attributes.put(name, value); }
        @Override public int status() { return status; }
        @Override public void status(int s) { status = s; }
        @Override public void header(String name, String value) { responseHeaders.put(name.toLowerCase(), value); }
        @Override public void contentType(String type) { header("Content-Type", type); }
        @Override public OutputStream output() { return body; }
        @Override public void send(int s, String type, byte[] content) { status = s; body.writeBytes(content); }
        @Override public void error(int s, byte[] json) { status = s; body.reset(); body.writeBytes(json); }
        @Override public org.eclipse.jetty.server.Request jettyRequest() { return null; }

        JsonNode error() throws IOException {
            return JSON.readTree(body.toByteArray()).get("error");
        }

        Trace trace() {
            return HttpServer.trace(this);
        }
    }

    private static Recorded served(HttpServer.Route route) {
        Recorded exchange = new Recorded();
        server.serve(exchange, "POST /v1/chat/completions", route);
        return exchange;
    }

    private static void aRequestStillGetsTheSlot() {
        Recorded next = served(e -> e.send(200, "application/json", "{}".getBytes(StandardCharsets.UTF_8)));
        assertThat(next.status).as("the only slot was given back").isEqualTo(200);
    }

    @Test
    void aDeclaredBodyLengthIsNotAllocatedBeforeItsBytesArrive() {
        assertThat(HotRoute.JettyExchange.initialCapacity(25L * 1024 * 1024)).as("a 25 MiB declaration").isEqualTo(16 * 1024);
        assertThat(HotRoute.JettyExchange.initialCapacity(-1)).as("no declaration").isEqualTo(16 * 1024);
        assertThat(HotRoute.JettyExchange.initialCapacity(300)).as("a small body, exactly").isEqualTo(300);
        assertThat(HotRoute.JettyExchange.initialCapacity(0)).isZero();
    }

    @Test
    void aStackOverflowIsA500InTheErrorShapeAndTheSlotIsGivenBack() throws Exception {
        for (int i = 0; i < 2; i++) {
            Recorded failed = served(e -> {
                throw new StackOverflowError();
            });
            assertThat(failed.status).isEqualTo(500);
            assertThat(failed.error().get("message").asText()).contains(failed.trace().id()).doesNotContain("StackOverflow");
            assertThat(failed.trace().attribute("http.status")).as("the trace ended").isEqualTo(500);
        }
        aRequestStillGetsTheSlot();
    }

    @Test
    void anyOtherErrorGoesOnToJettyButTheSlotIsGivenBack() {
        Recorded[] exchange = {new Recorded()};
        assertThatThrownBy(() -> server.serve(exchange[0], "POST /v1/chat/completions", e -> {
            throw new AssertionError("boom");
        })).isInstanceOf(AssertionError.class);
        assertThat(exchange[0].trace().attribute("http.status")).as("the trace ended").isNotNull();
        aRequestStillGetsTheSlot();
    }

    @Test
    void aBodyThatStopsArrivingUntilTheIdleTimeoutIs408() throws Exception {
        Recorded timedOut = served(e -> {
            throw new UncheckedIOException(new IOException(new TimeoutException("Idle timeout expired: 30000/30000 ms")));
        });
        assertThat(timedOut.status).isEqualTo(408);
        assertThat(timedOut.error().get("code").asText()).isEqualTo("request_timeout");
        assertThat(timedOut.error().get("message").asText()).doesNotContain("30000");
        aRequestStillGetsTheSlot();
    }

    @Test
    void aClientThatWentAwayIsNotTheServersError() throws Exception {
        Recorded gone = served(e -> {
            throw new IOException(new EofException("Broken pipe"));
        });
        assertThat(gone.status).isLessThan(500);
        assertThat(gone.trace().attribute(Trace.CLIENT_DISCONNECTED)).isEqualTo(true);
        aRequestStillGetsTheSlot();
    }
}
