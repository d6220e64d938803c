package dev.keel.trace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.sdk.trace.IdGenerator;

/**
 * Hands the SDK the ids Keel already gave a span. A Keel trace is exported after the fact, but its
 * ids were fixed while it ran: the trace id is Keel's own (or the caller's) and a provider call
 * already named its span in the {@code traceparent} it sent. The SDK's span builder takes no ids,
 * so they pass through its id generator on the exporting thread.
 */
final class PresetIds implements IdGenerator {
    private static final IdGenerator RANDOM = IdGenerator.random();
    private final ThreadLocal<String> traceId = new ThreadLocal<>(), spanId = new ThreadLocal<>();

    /** Starts {@code builder}'s span with these ids (the trace id counts only when the span has no parent). */
    Span start(SpanBuilder builder, String presetTraceId, String presetSpanId) {
        traceId.set(presetTraceId);
        spanId.set(presetSpanId);
        try {
            return builder.startSpan();
        } finally {
            traceId.remove();
            spanId.remove();
        }
    }

    @Override
    public String generateSpanId() {
        String id = spanId.get();
        return id != null ? id : RANDOM.generateSpanId();
    }

    @Override
    public String generateTraceId() {
        String id = traceId.get();
        return id != null ? id : RANDOM.generateTraceId();
    }
}
