package dev.keel.trace;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.trace.IdGenerator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * W3C Trace Context in and out, through OpenTelemetry's own propagator: a malformed, oversized or
 * all-zero {@code traceparent} (or {@code tracestate}) is ignored, never an error.
 */
final class W3cTraceContext {
    static final String TRACEPARENT = "traceparent", TRACESTATE = "tracestate";
    private static final W3CTraceContextPropagator PROPAGATOR = W3CTraceContextPropagator.getInstance();
    private static final IdGenerator IDS = IdGenerator.random();

    private static final TextMapGetter<Map<String, String>> GETTER = (carrier, key) -> carrier == null ? null : carrier.get(key);

    private W3cTraceContext() {}

    /** The caller's span from its headers, or an invalid context when absent or malformed. */
    static SpanContext parse(String traceparent, String tracestate) {
        if (traceparent == null) return SpanContext.getInvalid();
        Map<String, String> carrier = new LinkedHashMap<>();
        carrier.put(TRACEPARENT, traceparent);
        if (tracestate != null) carrier.put(TRACESTATE, tracestate);
        try {
            return io.opentelemetry.api.trace.Span.fromContext(PROPAGATOR.extract(Context.root(), carrier, GETTER)).getSpanContext();
        } catch (RuntimeException e) {
            return SpanContext.getInvalid(); // the propagator means never to throw; a caller's header must not fail a request if it does
        }
    }

    /** The headers that make span {@code spanId} of {@code trace} the parent of an outgoing call. */
    static Map<String, String> headers(SpanContext trace, String spanId) {
        Map<String, String> out = new LinkedHashMap<>();
        SpanContext span = SpanContext.create(trace.getTraceId(), spanId, trace.getTraceFlags(), trace.getTraceState());
        PROPAGATOR.inject(Context.root().with(io.opentelemetry.api.trace.Span.wrap(span)), out, Map::put);
        return Map.copyOf(out);
    }

    /** A random, non-zero span id (16 lowercase hex digits). */
    static String newSpanId() {
        return IDS.generateSpanId();
    }
}
