package dev.keel.trace;

import java.util.Map;

/** A finished stage: offset from the trace start and duration in milliseconds, status and attributes. */
public record SpanRecord(String name, double startMs, double durationMs, String status, Map<String, Object> attributes) {}
