package dev.keel.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ProviderConfig;
import dev.keel.model.CallContext;
import dev.keel.model.Deadline;
import dev.keel.model.Jackson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What Keel does with an upstream stream after its last event: a connection whose response does not end is closed, not
 * left in the pool until its idle timeout, whether the upstream goes silent or floods. A raw socket plays the upstream,
 * so that it can see its connection close.
 */
class StreamEndTest {
    /** Well under the client's 20 s idle timeout, which is what would close a connection Keel only stopped reading. */
    private static final int CLOSED_WITHIN_MS = 5_000;

    @Test
    void anUpstreamSilentAfterDoneHasItsConnectionClosed() throws Exception {
        assertThat(afterDone(out -> { })).as("the upstream saw its connection closed").isTrue();
    }

    @Test
    void anUpstreamFloodingAfterDoneHasItsConnectionClosed() throws Exception {
        assertThat(afterDone(out -> {
            byte[] garbage = chunk("x".repeat(8 * 1024));
            for (int i = 0; i < 100_000; i++) out.write(garbage); // 800 MiB at most: a write fails once Keel has closed
        })).as("the upstream saw its connection closed").isTrue();
    }

    @Test
    void whatFollowsTheLastEventIsReadOnlyUpToItsCap() throws Exception {
        long[] served = {0};
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                served[0]++;
                return 'x';
            }

            @Override
            public int read(byte[] b, int off, int len) {
                java.util.Arrays.fill(b, off, off + len, (byte) 'x');
                served[0] += len;
                return len;
            }
        };
        assertThat(ProviderHttp.drain(endless, 64 * 1024)).as("an upstream that never stops is not read to its end").isFalse();
        assertThat(served[0]).isBetween(64L * 1024, 64L * 1024 + 256);
        assertThat(ProviderHttp.drain(new java.io.ByteArrayInputStream("\n".getBytes(StandardCharsets.US_ASCII)), 64 * 1024)).as("a newline left").isTrue();
    }

    /** Streams one delta and [DONE] from a raw-socket upstream that then does {@code after}; whether it saw Keel close. */
    private static boolean afterDone(ThrowingWriter after) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             OpenAiChatModel model = new OpenAiChatModel(new ProviderConfig("raw", ProviderConfig.Type.OPENAI,
                     URI.create("http://127.0.0.1:" + server.getLocalPort() + "/v1"), null, 5, 30, 60, 0, 30, false, false))) {
            CompletableFuture<Boolean> closed = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept()) {
                    readRequest(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
                            + "\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n"));
                    out.write(chunk("data: [DONE]\n\n"));
                    out.flush();
                    try {
                        after.write(out);
                        out.flush();
                    } catch (IOException e) {
                        return true; // a write failed: Keel closed the connection
                    }
                    s.setSoTimeout(CLOSED_WITHIN_MS);
                    try {
                        return s.getInputStream().read() == -1;
                    } catch (SocketTimeoutException e) {
                        return false;
                    } catch (IOException e) {
                        return true; // reset
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            ObjectNode request = (ObjectNode) Jackson.mapper().readTree("{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            List<String> deltas = new ArrayList<>();
            CallContext call = new CallContext(Deadline.in(Duration.ofSeconds(30)), Duration.ofSeconds(10), Duration.ofSeconds(30), null, id -> {},
                    Map.of(), nanos -> {});
            var usage = model.stream(request, call, chunk -> deltas.add(chunk.at("/choices/0/delta/content").asText()));
            assertThat(deltas).containsExactly("hi");
            assertThat(usage.completionTokens()).isEqualTo(1);
            return closed.get(CLOSED_WITHIN_MS * 3L, TimeUnit.MILLISECONDS);
        }
    }

    private interface ThrowingWriter {
        void write(OutputStream out) throws IOException;
    }

    private static byte[] chunk(String data) {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(bytes);
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** Reads one request: its headers, then Content-Length bytes of body. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b == -1) throw new IOException("request ended early");
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        in.readNBytes(length);
    }
}
