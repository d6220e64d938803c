package dev.keel.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A local OpenAI-compatible upstream for the gateway benchmark: answers every
 * {@code POST /v1/chat/completions} after a fixed latency, and optionally fails a share of calls
 * with a mix of 500, 429 (Retry-After 0) and stalls longer than the gateway's first-byte timeout.
 * Asynchronous (a timer, not a sleeping thread, per request) so that it costs the shared CPU as
 * little as possible. Loopback only.
 *
 * <p>A {@link #streaming streaming} upstream answers {@code "stream": true} requests in OpenAI's SSE framing (a role
 * delta, content deltas at a fixed interval, a final chunk with {@code finish_reason}, a usage chunk when
 * {@code stream_options.include_usage}, then {@code data: [DONE]}), written from the server's scheduler (no thread per
 * stream), and records when it began writing each frame of a request numbered {@code (request N)} in its user message,
 * in {@link System#nanoTime()} of this process, so a client in the same process can tell what a proxy added.
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
    /** Null: no streaming (every request gets the JSON answer); else the shape of every stream. */
    private final StreamShape streamShape;
    /** The frames of every stream, with and without the usage chunk (null when not streaming). */
    private final List<byte[]> framesWithUsage, framesWithoutUsage;
    /** Per numbered stream, when each of its frames began to be written (nanoTime); 0 for frames not written. */
    private final Map<Long, long[]> frameTimes = new ConcurrentHashMap<>();
    private static final Pattern REQUEST_NUMBER = Pattern.compile("\\(request (\\d+)\\)");

    /** Every stream: a role delta, {@code deltas} content deltas {@code intervalMs} apart, the final chunk, the usage chunk if asked, [DONE]. */
    record StreamShape(int deltas, int intervalMs) {
        /** The {@code i}-th content delta's text; a stream's text is these in order. */
        static String delta(int i) {
            return "tok" + i + " ";
        }

        String text() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < deltas; i++) b.append(delta(i));
            return b.toString();
        }

        /** Frames written for a stream, [DONE] included. */
        int frames(boolean usage) {
            return deltas + (usage ? 4 : 3);
        }
    }

    FakeUpstream(int latencyMs, double failureRate, int stallMs) throws Exception {
        this(latencyMs, failureRate, stallMs, null, null);
    }

    /**
     * An upstream that answers {@code "stream": true} requests with streams of {@code shape}, and others with the JSON
     * answer when such a stream would end, so that a request waits as long either way and Keel's side of the two compares.
     */
    static FakeUpstream streaming(StreamShape shape) throws Exception {
        return new FakeUpstream(shape.deltas() * shape.intervalMs(), 0, 0, null, shape);
    }

    /** An upstream whose every reply, after {@code latencyMs}, is a call of the tool {@code toolCall} (for the agent benchmark). */
    static FakeUpstream askingFor(String toolCall, int latencyMs) throws Exception {
        return new FakeUpstream(latencyMs, 0, 0, toolCall, null);
    }

    private FakeUpstream(int latencyMs, double failureRate, int stallMs, String toolCall, StreamShape streamShape) throws Exception {
        this.toolCall = toolCall;
        this.streamShape = streamShape;
        this.framesWithUsage = streamShape == null ? null : streamFrames(streamShape, true);
        this.framesWithoutUsage = streamShape == null ? null : streamFrames(streamShape, false);
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
                if (streamShape != null) {
                    Content.Source.asString(request, StandardCharsets.UTF_8, Promise.from(body -> {
                        if (body.contains("\"stream\":true")) stream(body, response, callback);
                        else answer(response, callback, latencyMs, failureRate, stallMs);
                    }, callback::failed));
                    return true;
                }
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

    private void stream(String body, Response response, Callback callback) {
        List<byte[]> frames = body.contains("\"include_usage\":true") ? framesWithUsage : framesWithoutUsage;
        Matcher number = REQUEST_NUMBER.matcher(body);
        long[] times = new long[frames.size()];
        if (number.find()) frameTimes.put(Long.parseLong(number.group(1)), times);
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        new Callback() {
            private int next;

            /** Writes the next frame; called again once it is written (and the interval passed, between content deltas). */
            void writeNext() {
                int i = next++;
                times[i] = System.nanoTime();
                response.write(i == frames.size() - 1, ByteBuffer.wrap(frames.get(i)), this);
            }

            @Override
            public void succeeded() {
                if (next == frames.size()) callback.succeeded();
                else if (next > 1 && next <= streamShape.deltas() && streamShape.intervalMs() > 0) {
                    server.getScheduler().schedule(this::writeNext, streamShape.intervalMs(), TimeUnit.MILLISECONDS);
                } else writeNext();
            }

            @Override
            public void failed(Throwable x) {
                callback.failed(x);
            }
        }.writeNext();
    }

    /** The SSE frames of one stream of {@code shape}, as OpenAI writes them. */
    private static List<byte[]> streamFrames(StreamShape shape, boolean usage) {
        String head = "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench-upstream\",\"choices\":";
        List<String> frames = new ArrayList<>();
        frames.add(head + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}");
        for (int i = 0; i < shape.deltas(); i++) {
            frames.add(head + "[{\"index\":0,\"delta\":{\"content\":\"" + StreamShape.delta(i) + "\"},\"finish_reason\":null}]}");
        }
        frames.add(head + "[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}");
        if (usage) frames.add(head + "[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":" + shape.deltas() + ",\"total_tokens\":" + (12 + shape.deltas()) + "}}");
        frames.add("data: [DONE]");
        return frames.stream().map(f -> (f + "\n\n").getBytes(StandardCharsets.UTF_8)).toList();
    }

    /** When each frame of stream {@code number} began to be written (nanoTime, 0: not written), or null if no such stream came. */
    long[] frameTimes(long number) {
        return frameTimes.get(number);
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
