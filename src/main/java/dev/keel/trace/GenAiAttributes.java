package dev.keel.trace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import java.util.Collection;
import java.util.Map;

/**
 * Keel's trace and span attributes as OpenTelemetry attributes: the ones a semantic convention
 * names (GenAI: {@code gen_ai.request.model}, {@code gen_ai.usage.input_tokens}…; HTTP; {@code error.type})
 * under its name, the rest under {@code keel.}. Keel's attributes hold counts, ids and decisions,
 * never a user's text, so nothing here adds any.
 */
final class GenAiAttributes {
    static final String PROVIDER_STAGE = "provider";
    static final String OPERATION = "gen_ai.operation.name";
    private static final String HTTP_STATUS = "http.status", SEMCONV_PREFIX = "gen_ai.", KEEL_PREFIX = "keel.";
    /** Keel's names on a trace for what the conventions name otherwise. */
    private static final Map<String, String> TRACE_NAMES = Map.of(
            "model", "gen_ai.request.model",
            "tokens.prompt", "gen_ai.usage.input_tokens",
            "tokens.completion", "gen_ai.usage.output_tokens",
            HTTP_STATUS, "http.response.status_code",
            "error.type", "error.type");
    /** Keel's names on a stage for what the conventions name otherwise. */
    private static final Map<String, String> STAGE_NAMES = Map.of(
            "upstream_model", "gen_ai.request.model",
            "upstream_status", "http.response.status_code",
            "error.type", "error.type");

    private GenAiAttributes() {}

    /** Whether the trace is an HTTP request's (the server records its status on every one). */
    static boolean isHttp(Map<String, Object> traceAttributes) {
        return traceAttributes.containsKey(HTTP_STATUS);
    }

    /** Whether the stage is a call to a model provider (a client span in OpenTelemetry's terms). */
    static boolean isProviderCall(SpanRecord stage) {
        return stage.name().equals(PROVIDER_STAGE);
    }

    /** A provider call is named "{operation} {model}" as the GenAI conventions ask; other stages keep Keel's name. */
    static String spanName(SpanRecord stage) {
        Object operation = stage.attributes().get(OPERATION), model = stage.attributes().get("upstream_model");
        return isProviderCall(stage) && operation != null && model != null ? operation + " " + model : stage.name();
    }

    static Attributes ofTrace(Trace.TraceView trace) {
        AttributesBuilder b = Attributes.builder().put("keel.trace_id", trace.id()).put("keel.tenant", trace.tenant());
        if (isHttp(trace.attributes())) {
            int space = trace.name().indexOf(' ');
            if (space > 0) b.put("http.request.method", trace.name().substring(0, space)).put("http.route", trace.name().substring(space + 1));
        }
        trace.attributes().forEach((key, value) -> put(b, TRACE_NAMES.getOrDefault(key, name(key)), value));
        return b.build();
    }

    static Attributes ofStage(SpanRecord stage) {
        AttributesBuilder b = Attributes.builder().put("keel.stage", stage.name());
        stage.attributes().forEach((key, value) -> put(b, STAGE_NAMES.getOrDefault(key, name(key)), value));
        return b.build();
    }

    private static String name(String keelKey) {
        return keelKey.startsWith(SEMCONV_PREFIX) ? keelKey : KEEL_PREFIX + keelKey;
    }

    private static void put(AttributesBuilder b, String key, Object value) {
        switch (value) {
            case null -> { }
            case String s -> b.put(key, s);
            case Boolean x -> b.put(key, x);
            case Double d -> b.put(key, d);
            case Float f -> b.put(key, f.doubleValue());
            case Number n -> b.put(key, n.longValue());
            case Collection<?> c -> b.put(AttributeKey.stringArrayKey(key), c.stream().map(String::valueOf).toList());
            default -> b.put(key, String.valueOf(value));
        }
    }
}
