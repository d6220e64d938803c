package dev.keel.trace;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.Map;

/**
 * A finished stage: offset from the trace start and duration in milliseconds, status and attributes.
 * {@code spanId} is its W3C span id when the trace has a trace context (null otherwise); it is for
 * OpenTelemetry export and stays out of Keel's own trace view.
 */
public record SpanRecord(String name, double startMs, double durationMs, String status, Map<String, Object> attributes,
                         @JsonIgnore String spanId) {}
