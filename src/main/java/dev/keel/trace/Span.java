package dev.keel.trace;

import java.util.LinkedHashMap;
import java.util.Map;

/** A running stage of a trace. Not thread-safe: one span belongs to the thread that opened it. */
public final class Span implements AutoCloseable {
    private final Trace trace;
    private final String name;
    private final long startNanos;
    private final Map<String, Object> attributes = new LinkedHashMap<>();
    private String status = "ok";
    private boolean closed;

    Span(Trace trace, String name, long startNanos) {
        this.trace = trace;
        this.name = name;
        this.startNanos = startNanos;
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

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        long end = System.nanoTime();
        trace.record(new SpanRecord(name, (startNanos - trace.startNanos()) / 1e6, (end - startNanos) / 1e6, status, Map.copyOf(attributes)));
    }
}
