package dev.keel.config;

/**
 * OpenTelemetry export of traces over OTLP, off unless {@code otlpEndpoint} is set
 * (e.g. {@code http://collector:4318}). Spans carry the GenAI semantic conventions; the built-in
 * trace view works either way.
 */
public record TelemetryConfig(String otlpEndpoint, String serviceName) {
    public static final TelemetryConfig DEFAULTS = new TelemetryConfig(null, "keel");

    /** True when traces are exported. */
    public boolean exporting() {
        return otlpEndpoint != null;
    }

    static TelemetryConfig read(ConfigNode n) {
        ConfigNode otlp = n.child("otlp");
        return new TelemetryConfig(otlp.string("endpoint", null), n.string("service_name", DEFAULTS.serviceName));
    }
}
