package dev.keel.trace;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.trace.SpanContext;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Starts traces, keeps the most recent ones in memory (bounded by count and age), turns every
 * span into Prometheus metrics ({@code keel_stage_seconds{stage}}, {@code keel_traces_total}) and
 * hands finished traces to its {@link OpenTelemetryExport}. Keel's trace ids are always its own
 * random ones: a caller's {@code traceparent} sets the OpenTelemetry trace a request joins, never
 * which Keel trace it reads or writes. Thread-safe; {@link #close()} flushes and stops the export.
 */
public final class Traces implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Writes what a trace's attributes hold besides strings, numbers and booleans, as the API's JSON does. */
    private static final com.fasterxml.jackson.databind.ObjectMapper API = dev.keel.model.Jackson.api();

    /**
     * Running traces as they are; finished ones as their JSON alone. A finished trace is then one
     * array for the garbage collector to copy instead of a few dozen maps, lists and boxes, which kept
     * young-generation pauses long under gateway load (every trace outlives a young collection).
     * In the order they were last kept (started, or finished), the eldest dropped past the count or the
     * age: a response's trace id must find the latest requests. (A frequency-based cache, as before,
     * kept the first traces and turned new ones away once it was full: all seen once, none more often.)
     * Guarded by itself; each hold is a few map operations.
     */
    private final LinkedHashMap<String, Held> recent = new LinkedHashMap<>();
    private final int capacity;
    private final long ttlNanos;

    private record Finished(String tenant, byte[] json) {}

    /** A trace (running, or {@link Finished}) and when it was kept, on {@link System#nanoTime()}'s clock. */
    private record Held(Object trace, long keptNanos) {}

    /**
     * Where finished traces also go, so that other replicas can answer for them: {@code save} must not
     * block (it runs on the request's thread), {@code find} returns a trace only to its own tenant.
     */
    public interface Archive {
        void save(String id, String tenant, byte[] json);

        Optional<byte[]> find(String id, String tenant);
    }

    private volatile Archive archive;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, Timer> stageTimers = new ConcurrentHashMap<>(), requestTimers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> traceCounters = new ConcurrentHashMap<>();

    private final OpenTelemetryExport export;

    public Traces(int capacity, Duration ttl, OpenTelemetryExport export) {
        if (capacity < 1) throw new IllegalArgumentException("trace capacity must be at least 1");
        this.capacity = capacity;
        this.ttlNanos = ttl.toNanos();
        this.export = export;
        export.bindTo(registry);
    }

    public Traces(int capacity, Duration ttl) {
        this(capacity, ttl, OpenTelemetryExport.off());
    }

    public Traces(OpenTelemetryExport export) {
        this(10_000, Duration.ofHours(1), export);
    }

    public Traces() {
        this(OpenTelemetryExport.off());
    }

    public Trace start(String name, String tenant) {
        return start(name, tenant, null, null);
    }

    /**
     * A trace of a request whose caller may have sent W3C {@code traceparent} / {@code tracestate}
     * headers (null when absent; malformed ones are ignored): its spans then continue the caller's trace.
     */
    public Trace start(String name, String tenant, String traceparent, String tracestate) {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        String id = HexFormat.of().formatHex(b);
        SpanContext caller = W3cTraceContext.parse(traceparent, tracestate);
        Trace t = new Trace(id, name, tenant, this, export.begin(id, caller), caller);
        keep(t.id(), t);
        return t;
    }

    /** The export's state for readiness (empty when it is off); never its headers. */
    public java.util.Map<String, Object> exportHealth() {
        return export.health();
    }

    /** Also keeps every finished trace in {@code archive}, and asks it for the traces this process does not hold. */
    public void archiveTo(Archive archive) {
        this.archive = archive;
    }

    /** A recent trace as JSON (the API's shape of {@link Trace.TraceView}), if still held (here or in the archive) and owned by {@code tenant}. */
    public Optional<byte[]> findJson(String id, String tenant) {
        Object held = held(id);
        if (held instanceof Finished f) return f.tenant().equals(tenant) ? Optional.of(f.json()) : Optional.empty();
        if (held instanceof Trace t) return t.tenant().equals(tenant) ? Optional.of(json(t)) : Optional.empty();
        Archive shared = archive;
        return shared == null ? Optional.empty() : shared.find(id, tenant);
    }

    static byte[] json(Trace t) {
        try {
            // Through the mapper, so that the bytes build in its pooled buffers (a new buffer per trace, and growing
            // it, were ~7% of the gateway's allocation at maximum throughput).
            return API.writeValueAsBytes(new com.fasterxml.jackson.databind.JsonSerializable.Base() {
                @Override
                public void serialize(com.fasterxml.jackson.core.JsonGenerator generator, com.fasterxml.jackson.databind.SerializerProvider provider)
                        throws java.io.IOException {
                    t.writeJson(generator);
                }

                @Override
                public void serializeWithType(com.fasterxml.jackson.core.JsonGenerator generator, com.fasterxml.jackson.databind.SerializerProvider provider,
                                              com.fasterxml.jackson.databind.jsontype.TypeSerializer types) throws java.io.IOException {
                    t.writeJson(generator);
                }
            });
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("trace not serialisable", e);
        }
    }

    /** Keeps a finished trace (again, when something was recorded after it finished) in its compact form. */
    void keepFinished(Trace trace) {
        byte[] json = json(trace);
        keep(trace.id(), new Finished(trace.tenant(), json));
        Archive shared = archive;
        if (shared != null) shared.save(trace.id(), trace.tenant(), json);
    }

    /** Holds {@code trace} as the most recent, dropping the eldest past the count and those past the age. */
    private void keep(String id, Object trace) {
        long now = System.nanoTime();
        synchronized (recent) {
            recent.remove(id);
            recent.put(id, new Held(trace, now));
            for (Iterator<Held> eldest = recent.values().iterator(); eldest.hasNext(); ) {
                long keptNanos = eldest.next().keptNanos();
                if (recent.size() <= capacity && now - keptNanos <= ttlNanos) break;
                eldest.remove();
            }
        }
    }

    private Object held(String id) {
        synchronized (recent) {
            Held held = recent.get(id);
            return held == null || System.nanoTime() - held.keptNanos() > ttlNanos ? null : held.trace();
        }
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }

    /** A span that ended after its trace did (a stream's last stage): kept, and exported on its own. */
    void recordedAfterFinish(Trace trace, SpanRecord span) {
        keepFinished(trace);
        export.exportLate(trace, span);
    }

    void spanRecorded(SpanRecord span) {
        stageTimers.computeIfAbsent(span.name() + '\u0000' + span.status(), k -> Timer.builder("keel.stage")
                        .description("Duration of one pipeline stage").tag("stage", span.name()).tag("status", span.status()).register(registry))
                .record((long) (span.durationMs() * 1e6), TimeUnit.NANOSECONDS);
    }

    void finished(Trace trace) {
        String name = trace.name(), status = trace.status();
        traceCounters.computeIfAbsent(name + '\u0000' + status, k -> Counter.builder("keel.traces")
                .description("Finished traces by name and status").tag("name", name).tag("status", status).register(registry)).increment();
        requestTimers.computeIfAbsent(name, k -> Timer.builder("keel.request").description("Duration of a whole traced operation")
                .tag("name", name).register(registry)).record((long) (trace.durationMs() * 1e6), TimeUnit.NANOSECONDS);
        keepFinished(trace);
        export.export(trace);
    }

    /** Exports what is queued and stops the export; traces are still kept and metered afterwards. */
    @Override
    public void close() {
        export.close();
    }
}
