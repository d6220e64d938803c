package dev.keel.engines;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * A local OpenTelemetry collector's trace endpoint for tests: OTLP over HTTP/protobuf at
 * {@code POST /v1/traces} on a free loopback port, decoding every export with the protocol's own
 * messages ({@code opentelemetry-proto}) and keeping the spans and the request headers. Answers
 * 200, or the status set by {@link #failWith(int)}. Close it to stop listening.
 */
public final class OtlpReceiver implements AutoCloseable {
    /** One received span, its ids as lowercase hex (parent empty for a root), attributes as Java values. */
    public record ReceivedSpan(String traceId, String spanId, String parentSpanId, String name, String kind, long startNanos, long endNanos,
                               String status, Map<String, Object> attributes, Map<String, Object> resource) {
        public double durationMs() {
            return (endNanos - startNanos) / 1e6;
        }
    }

    private static final HexFormat HEX = HexFormat.of();
    private final HttpServer server;
    private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();
    private final List<Map<String, List<String>>> headers = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private final Object arrived = new Object();

    public OtlpReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/traces", this::handle);
        server.start();
    }

    /** The base endpoint to configure as {@code telemetry.otlp.endpoint}. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** From now on exports are answered with {@code httpStatus} (and their spans not kept unless it is 2xx). */
    public void failWith(int httpStatus) {
        status = httpStatus;
    }

    public List<ReceivedSpan> spans() {
        return List.copyOf(spans);
    }

    /** The headers of each export request received, in order. */
    public List<Map<String, List<String>>> requestHeaders() {
        return List.copyOf(headers);
    }

    /** The spans of one trace once {@code done} holds for them; fails after {@code timeout}. */
    public List<ReceivedSpan> await(String traceId, Predicate<List<ReceivedSpan>> done, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (arrived) {
            while (true) {
                List<ReceivedSpan> ofTrace = spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
                if (done.test(ofTrace)) return ofTrace;
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new AssertionError("trace " + traceId + " not complete after " + timeout + "; received " + ofTrace);
                arrived.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            headers.add(Map.copyOf(ex.getRequestHeaders()));
            InputStream body = "gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))
                    ? new GZIPInputStream(ex.getRequestBody()) : ex.getRequestBody();
            ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body);
            int answer = status;
            if (answer / 100 == 2) keep(request);
            byte[] reply = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            ex.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            ex.sendResponseHeaders(answer, reply.length == 0 ? -1 : reply.length);
            if (reply.length > 0) ex.getResponseBody().write(reply);
        }
    }

    private void keep(ExportTraceServiceRequest request) {
        for (ResourceSpans rs : request.getResourceSpansList()) {
            Map<String, Object> resource = attributes(rs.getResource());
            for (ScopeSpans ss : rs.getScopeSpansList()) {
                for (io.opentelemetry.proto.trace.v1.Span s : ss.getSpansList()) {
                    spans.add(new ReceivedSpan(HEX.formatHex(s.getTraceId().toByteArray()), HEX.formatHex(s.getSpanId().toByteArray()),
                            HEX.formatHex(s.getParentSpanId().toByteArray()), s.getName(), s.getKind().name(), s.getStartTimeUnixNano(),
                            s.getEndTimeUnixNano(), s.getStatus().getCode().name(), attributes(s.getAttributesList()), resource));
                }
            }
        }
        synchronized (arrived) {
            arrived.notifyAll();
        }
    }

    private static Map<String, Object> attributes(Resource resource) {
        return attributes(resource.getAttributesList());
    }

    private static Map<String, Object> attributes(List<KeyValue> list) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (KeyValue kv : list) out.put(kv.getKey(), value(kv.getValue()));
        return out;
    }

    private static Object value(AnyValue v) {
        return switch (v.getValueCase()) {
            case STRING_VALUE -> v.getStringValue();
            case BOOL_VALUE -> v.getBoolValue();
            case INT_VALUE -> v.getIntValue();
            case DOUBLE_VALUE -> v.getDoubleValue();
            case ARRAY_VALUE -> v.getArrayValue().getValuesList().stream().map(OtlpReceiver::value).toList();
            default -> v.toString();
        };
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
