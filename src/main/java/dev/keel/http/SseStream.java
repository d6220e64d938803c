package dev.keel.http;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Server-Sent Events response written straight to the servlet stream: named events with JSON
 * data, and a {@code : heartbeat} comment every interval so proxies keep the connection open.
 * Thread-safe; a write to a client that went away marks the stream closed instead of throwing.
 */
final class SseStream implements AutoCloseable {
    private static final ScheduledExecutorService HEARTBEATS =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("keel-sse-heartbeat").daemon(true).factory());

    private final OutputStream out;
    private final ScheduledFuture<?> heartbeat;
    private volatile boolean open = true;

    SseStream(Context ctx, int heartbeatSeconds) throws IOException {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        ctx.res().setHeader("Connection", "keep-alive");
        out = ctx.res().getOutputStream();
        heartbeat = HEARTBEATS.scheduleAtFixedRate(() -> write(": heartbeat\n\n"), heartbeatSeconds, heartbeatSeconds, TimeUnit.SECONDS);
    }

    void event(String name, Object data) {
        write("event: " + name + "\ndata: " + Json.write(data) + "\n\n");
    }

    /** A comment line, which SSE clients ignore: metadata known only after the headers left. */
    void comment(String text) {
        write(": " + text + "\n\n");
    }

    boolean isOpen() {
        return open;
    }

    private synchronized void write(String frame) {
        if (!open) return;
        try {
            out.write(frame.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            open = false;
        }
    }

    @Override
    public void close() {
        heartbeat.cancel(false);
        synchronized (this) {
            open = false;
        }
    }
}
