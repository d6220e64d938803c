package dev.keel.trace;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A running stage of a trace. Not thread-safe: one span belongs to the thread that opened it. When
 * its trace has a W3C trace context the span has a span id from the start, so that a call it makes
 * can name it as the parent ({@link #propagationHeaders()}).
 */
public final class Span implements AutoCloseable {
    private final Trace trace;
    private final String name;
    private final long startNanos;
    private final String spanId;
    private final Map<String, Object> attributes = new LinkedHashMap<>();
    private String status = "ok";
    private boolean closed;

    Span(Trace trace, String name, long startNanos, String spanId) {
        this.trace = trace;
        this.name = name;
        this.startNanos = startNanos;
        this.spanId = spanId;
    }

    public Span attr(String key, Object value) {
        attributes.put(key, value);
        return this;
    }

    public Span error(String errorType) {
        status = "error";
        attributes.put("error.type", errorType);
        return this;
    }

    /**
     * The W3C {@code traceparent} (and {@code tracestate}, if the caller sent one) naming this span as
     * the parent of an outgoing call; empty when the trace has no trace context (no export and no caller's).
     */
    public Map<String, String> propagationHeaders() {
        return spanId == null ? Map.of() : W3cTraceContext.headers(trace.context(), spanId);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        long end = System.nanoTime();
        trace.record(new SpanRecord(name, (startNanos - trace.startNanos()) / 1e6, (end - startNanos) / 1e6, status, Map.copyOf(attributes), spanId));
    }
}
