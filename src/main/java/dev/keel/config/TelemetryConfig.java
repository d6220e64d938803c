package dev.keel.config;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * OpenTelemetry export of traces over OTLP/HTTP (protobuf), off unless {@code otlpEndpoint} is set (not blank)
 * (e.g. {@code http://collector:4318}; {@code /v1/traces} is appended unless the path already ends
 * with it). Spans carry the GenAI semantic conventions; the built-in trace view works either way.
 * {@code headers} go with every export (collector auth, from {@code ${ENV}}); they never appear in
 * {@link #toString()}, logs or readiness. {@code sampleRatio} samples traces that start in Keel; a
 * caller's W3C {@code traceparent} decides for its own traces. {@code timeoutMs} bounds one export.
 */
public record TelemetryConfig(String otlpEndpoint, Map<String, String> headers, String serviceName, double sampleRatio, int timeoutMs) {
    public static final TelemetryConfig DEFAULTS = new TelemetryConfig(null, Map.of(), "keel", 1.0, 10_000);
    /** RFC 9110 token characters: what a header name may hold. */
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}");
    /** Visible ASCII, spaces and tabs: no CR or LF that would split a header. */
    private static final Pattern HEADER_VALUE = Pattern.compile("[\\x20-\\x7e\\t]{0,4096}");
    private static final String TRACES_PATH = "/v1/traces";

    public TelemetryConfig {
        headers = Map.copyOf(headers);
    }

    /** True when traces are exported. */
    public boolean exporting() {
        return otlpEndpoint != null;
    }

    /** Where spans are POSTed: the endpoint with {@code /v1/traces} appended unless it is already there. */
    public URI tracesUri() {
        String base = otlpEndpoint.endsWith("/") ? otlpEndpoint.substring(0, otlpEndpoint.length() - 1) : otlpEndpoint;
        return URI.create(base.endsWith(TRACES_PATH) ? base : base + TRACES_PATH);
    }

    /** The header names only: their values are credentials. */
    @Override
    public String toString() {
        return "TelemetryConfig[otlpEndpoint=" + otlpEndpoint + ", headers=" + headers.keySet() + ", serviceName=" + serviceName
                + ", sampleRatio=" + sampleRatio + ", timeoutMs=" + timeoutMs + "]";
    }

    static TelemetryConfig read(ConfigNode n) {
        ConfigNode otlp = n.child("otlp");
        String endpoint = endpoint(otlp);
        ConfigNode headerNode = otlp.child("headers");
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : headerNode.keys()) {
            if (!HEADER_NAME.matcher(name).matches()) throw new ConfigException(headerNode.path(name), "not a valid HTTP header name");
            String value = headerNode.string(name, "");
            // The value is a secret: the message names the field, never what it holds.
            if (!HEADER_VALUE.matcher(value).matches()) throw new ConfigException(headerNode.path(name), "header value has control characters or is too long");
            headers.put(name, value);
        }
        String service = n.string("service_name", DEFAULTS.serviceName);
        if (service.isBlank()) throw new ConfigException(n.path("service_name"), "must not be blank");
        return new TelemetryConfig(endpoint, headers, service, n.decimal("sample_ratio", DEFAULTS.sampleRatio, 0, 1),
                otlp.integer("timeout_ms", DEFAULTS.timeoutMs, 100, 60_000));
    }

    /**
     * An http(s) URL with no credentials, query or fragment: credentials belong in headers, which are never logged.
     * Blank means off, so that {@code ${OTEL_EXPORTER_OTLP_ENDPOINT:-}} turns export on only where the variable is set.
     */
    private static String endpoint(ConfigNode otlp) {
        String raw = otlp.string("endpoint", null);
        if (raw == null || raw.isBlank()) return null;
        URI uri = otlp.httpUrl("endpoint");
        if (uri == null) return null;
        if (uri.getRawUserInfo() != null) {
            throw new ConfigException(otlp.path("endpoint"), "must not carry credentials; send them in telemetry.otlp.headers (e.g. from ${ENV})");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) throw new ConfigException(otlp.path("endpoint"), "must not have a query or fragment");
        return uri.toString();
    }
}
