package dev.keel.trace;

import io.opentelemetry.api.trace.SpanContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One request's trace: an id, a name, attributes and the spans of its stages. Thread-safe: stages
 * running in parallel (BM25 and kNN) record into the same trace. Attributes hold sizes, counts,
 * hashes and decisions, never raw user text. Its W3C trace context ({@link #context()}) is what
 * OpenTelemetry export and outgoing calls use; Keel's own {@link #id()} is always Keel's, never a caller's.
 */
public final class Trace {
    /** Attribute set when the client went away before its response was complete. */
    public static final String CLIENT_DISCONNECTED = "client.disconnected";
    /** Attribute set when Keel ended a stream before its upstream did (its value says why): what was sent is not whole. */
    public static final String STREAM_CUT = "stream.cut";
    private final String id;
    private volatile String name;
    private volatile String tenant;
    private final Instant started = Instant.now();
    private final long startNanos = System.nanoTime();
    private final List<SpanRecord> spans = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Object> attributes = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Traces owner;
    private final SpanContext context, parent;
    private volatile double durationMs = -1;
    private volatile String status = "ok";
    private final java.util.concurrent.atomic.AtomicLong upstreamNanos = new java.util.concurrent.atomic.AtomicLong();

    Trace(String id, String name, String tenant, Traces owner, SpanContext context, SpanContext parent) {
        this.id = id;
        this.name = name;
        this.tenant = tenant;
        this.owner = owner;
        this.context = context;
        this.parent = parent;
    }

    public String id() {
        return id;
    }

    /** Names the trace once its operation is known (e.g. the matched route), before it finishes. */
    public void rename(String newName) {
        this.name = newName;
    }

    /** Binds the trace to the tenant established by authentication. */
    public void assignTenant(String newTenant) {
        this.tenant = newTenant;
    }

    public String tenant() {
        return tenant;
    }

    /** Opens a span; close it (try-with-resources) to record its duration. */
    public Span span(String spanName) {
        return new Span(this, spanName, System.nanoTime(), context.isValid() ? W3cTraceContext.newSpanId() : null);
    }

    public Trace attr(String key, Object value) {
        attributes.put(key, value);
        if (durationMs >= 0) owner.keepFinished(this);
        return this;
    }

    /** Drops an attribute that no longer holds. */
    public void remove(String key) {
        attributes.remove(key);
        if (durationMs >= 0) owner.keepFinished(this);
    }

    public void fail(String errorType) {
        status = "error";
        attributes.put("error.type", errorType);
        if (durationMs >= 0) owner.keepFinished(this);
    }

    /** Ends the trace; later spans are still recorded but the duration is fixed. Idempotent. */
    public void finish() {
        if (durationMs < 0) {
            durationMs = (System.nanoTime() - startNanos) / 1e6;
            owner.finished(this);
        }
    }

    public double elapsedMs() {
        return (System.nanoTime() - startNanos) / 1e6;
    }

    void record(SpanRecord span) {
        spans.add(span);
        owner.spanRecorded(span);
        if (durationMs >= 0) owner.recordedAfterFinish(this, span);
    }

    long startNanos() {
        return startNanos;
    }

    Instant started() {
        return started;
    }

    /**
     * The trace's W3C context: its OpenTelemetry trace id, the span id of its root span, the sampling
     * flag and the caller's tracestate; invalid when neither export nor a caller gave it one.
     */
    SpanContext context() {
        return context;
    }

    /** The caller's span this trace continues, or an invalid context when it started here. */
    SpanContext parent() {
        return parent;
    }

    /** An attribute's current value, or null. */
    public Object attribute(String key) {
        return attributes.get(key);
    }

    /** Adds the upstream's own time in one exchange (request's last byte sent to response's last byte received). */
    public void addUpstreamTime(long nanos) {
        upstreamNanos.addAndGet(nanos);
    }

    /** The upstreams' own time in every exchange so far, in nanoseconds; Keel's client work around them is not in it. */
    public long upstreamNanos() {
        return upstreamNanos.get();
    }

    /** Total duration of the recorded spans with this name, in milliseconds. */
    public double spanMillis(String spanName) {
        double total = 0;
        synchronized (spans) {
            for (SpanRecord s : spans) if (s.name().equals(spanName)) total += s.durationMs();
        }
        return total;
    }

    String name() {
        return name;
    }

    String status() {
        return status;
    }

    double durationMs() {
        return durationMs;
    }

    /** An immutable copy suitable for JSON. */
    public TraceView view() {
        List<SpanRecord> copy;
        synchronized (spans) {
            copy = List.copyOf(spans);
        }
        Map<String, Object> attrs;
        synchronized (attributes) {
            attrs = Map.copyOf(new LinkedHashMap<>(attributes));
        }
        return new TraceView(id, name, tenant, started, durationMs < 0 ? elapsedMs() : durationMs, status, attrs, copy);
    }

    /**
     * Writes the trace as the API's JSON of its {@link #view()} (snake_case fields, the start as ISO-8601), straight from
     * its state: building the view and serialising it through data binding cost ~5% of a proxied request's CPU at
     * maximum throughput (JFR), twice what this does. Values other than strings, numbers and booleans are written by
     * {@code generator}'s codec, as the view's would be.
     */
    void writeJson(com.fasterxml.jackson.core.JsonGenerator generator) throws java.io.IOException {
        generator.writeStartObject();
        generator.writeStringField("id", id);
        generator.writeStringField("name", name);
        generator.writeStringField("tenant", tenant);
        generator.writeStringField("started", started.toString());
        generator.writeNumberField("duration_ms", durationMs < 0 ? elapsedMs() : durationMs);
        generator.writeStringField("status", status);
        generator.writeFieldName("attributes");
        synchronized (attributes) {
            writeMap(generator, attributes);
        }
        generator.writeArrayFieldStart("spans");
        synchronized (spans) {
            for (SpanRecord span : spans) {
                generator.writeStartObject();
                generator.writeStringField("name", span.name());
                generator.writeNumberField("start_ms", span.startMs());
                generator.writeNumberField("duration_ms", span.durationMs());
                generator.writeStringField("status", span.status());
                generator.writeFieldName("attributes");
                writeMap(generator, span.attributes());
                generator.writeEndObject();
            }
        }
        generator.writeEndArray();
        generator.writeEndObject();
    }

    private static void writeMap(com.fasterxml.jackson.core.JsonGenerator generator, Map<String, Object> map) throws java.io.IOException {
        if (map == null) {
            generator.writeNull();
            return;
        }
        generator.writeStartObject();
        for (Map.Entry<String, Object> e : map.entrySet()) {
            generator.writeFieldName(e.getKey());
            switch (e.getValue()) {
                case String v -> generator.writeString(v);
                case Long v -> generator.writeNumber(v);
                case Integer v -> generator.writeNumber(v);
                case Double v -> generator.writeNumber(v);
                case Boolean v -> generator.writeBoolean(v);
                case null -> generator.writeNull();
                default -> generator.writeObject(e.getValue());
            }
        }
        generator.writeEndObject();
    }

    /** Snapshot of a trace. */
    public record TraceView(String id, String name, String tenant, Instant started, double durationMs, String status,
                            Map<String, Object> attributes, List<SpanRecord> spans) {}
}
