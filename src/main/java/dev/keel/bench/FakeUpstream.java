package dev.keel.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A local OpenAI-compatible upstream for the gateway benchmark: answers every
 * {@code POST /v1/chat/completions} after a fixed latency, and optionally fails a share of calls
 * with a mix of 500, 429 (Retry-After 0) and stalls longer than the gateway's first-byte timeout.
 * Asynchronous (a timer, not a sleeping thread, per request) so that it costs the shared CPU as
 * little as possible. Loopback only.
 */
final class FakeUpstream implements AutoCloseable {
    private static final byte[] BODY = ("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"bench-upstream\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1,\"total_tokens\":13}}").getBytes(StandardCharsets.UTF_8);
    private static final byte[] ERROR = "{\"error\":{\"message\":\"injected\"}}".getBytes(StandardCharsets.UTF_8);

    /** Null: every reply is the text "ok"; else every reply asks for this tool, with arguments {"n": <call number>} so no two calls repeat. */
    private final String toolCall;
    private final Server server;
    private final ServerConnector connector;
    private final LongAdder calls = new LongAdder();

    FakeUpstream(int latencyMs, double failureRate, int stallMs) throws Exception {
        this(latencyMs, failureRate, stallMs, null);
    }

    /** An upstream whose every reply, after {@code latencyMs}, is a call of the tool {@code toolCall} (for the agent benchmark). */
    static FakeUpstream askingFor(String toolCall, int latencyMs) throws Exception {
        return new FakeUpstream(latencyMs, 0, 0, toolCall);
    }

    private FakeUpstream(int latencyMs, double failureRate, int stallMs, String toolCall) throws Exception {
        this.toolCall = toolCall;
        QueuedThreadPool threads = new QueuedThreadPool(32, 2);
        threads.setName("fake-upstream");
        threads.setDaemon(true);
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setAcceptQueueSize(4096);
        connector.setIdleTimeout(120_000);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                if (!"/v1/chat/completions".equals(request.getHttpURI().getPath())) {
                    Response.writeError(request, response, callback, 404);
                    return true;
                }
                calls.increment();
                Content.Source.consumeAll(request, Callback.from(() -> answer(response, callback, latencyMs, failureRate, stallMs), callback::failed));
                return true;
            }
        });
        server.start();
    }

    private void answer(Response response, Callback callback, int latencyMs, double failureRate, int stallMs) {
        double roll = ThreadLocalRandom.current().nextDouble();
        if (roll < failureRate / 3) {
            write(response, callback, 500, ERROR);
        } else if (roll < 2 * failureRate / 3) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "0");
            write(response, callback, 429, ERROR);
        } else {
            byte[] body = toolCall == null ? BODY : toolCallBody(calls.sum());
            server.getScheduler().schedule(() -> write(response, callback, 200, body), roll < failureRate ? stallMs : latencyMs, TimeUnit.MILLISECONDS);
        }
    }

    private byte[] toolCallBody(long n) {
        return ("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"bench-upstream\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_" + n + "\",\"type\":\"function\",\"function\":"
                + "{\"name\":\"" + toolCall + "\",\"arguments\":\"{\\\"n\\\":" + n + "}\"}}]},\"finish_reason\":\"tool_calls\"}],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":8,\"total_tokens\":20}}").getBytes(StandardCharsets.UTF_8);
    }

    private static void write(Response response, Callback callback, int status, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + connector.getLocalPort() + "/v1";
    }

    long calls() {
        return calls.sum();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
