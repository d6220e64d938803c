package dev.keel.trace;

import dev.keel.config.TelemetryConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanLimits;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * OpenTelemetry export of Keel's traces (the OTel Java SDK, OTLP over HTTP/protobuf). A finished
 * trace becomes a root span (the caller's span as its parent when it sent a {@code traceparent})
 * and one child span per recorded stage, with their real start times and durations; attributes
 * follow the GenAI semantic conventions where they apply ({@link GenAiAttributes}) and carry no
 * text a user sent. Export never blocks or fails a request: spans go to a batch processor with a
 * bounded queue; when the queue is full or the collector fails, spans are dropped and counted in
 * {@code keel_otel_spans_total{outcome}}. When off ({@link #off()}) nothing is exported, but a
 * caller's trace context is still continued and propagated. Thread-safe; {@link #close()} flushes
 * and shuts the SDK down.
 */
public final class OpenTelemetryExport implements AutoCloseable {
    /** Spans waiting for export at most: about 8 MB at ~1 KB a span, a few seconds of a busy replica's stages. */
    static final int MAX_QUEUED_SPANS = 8192;
    /** Spans reach the collector within this delay; under load batches fill and go sooner. */
    private static final Duration EXPORT_DELAY = Duration.ofSeconds(1);
    private static final int BATCH_SIZE = 512;
    /** Attribute values are counts, names and decisions; anything longer is cut rather than shipped. */
    private static final int MAX_ATTRIBUTE_CHARS = 1024;
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(10);
    private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
    private static final AttributeKey<String> SERVICE_INSTANCE = AttributeKey.stringKey("service.instance.id");
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OpenTelemetryExport.class);

    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final Sampler rootSampler;
    private final PresetIds ids = new PresetIds();
    private final String collector;
    private final AtomicLong queued = new AtomicLong();
    private final LongAdder exported = new LongAdder(), failed = new LongAdder(), queueFull = new LongAdder();

    private OpenTelemetryExport() {
        provider = null;
        tracer = null;
        rootSampler = null;
        collector = null;
    }

    /** Export through {@code exporter} (the OTLP exporter, or an in-memory one in tests). */
    OpenTelemetryExport(TelemetryConfig config, SpanExporter exporter) {
        rootSampler = Sampler.traceIdRatioBased(config.sampleRatio());
        collector = config.exporting() ? config.tracesUri().getHost() + ":" + port(config) : "in-process";
        BatchSpanProcessor batches = BatchSpanProcessor.builder(new Counting(exporter)).setMaxQueueSize(MAX_QUEUED_SPANS)
                .setMaxExportBatchSize(BATCH_SIZE).setScheduleDelay(EXPORT_DELAY).setExporterTimeout(Duration.ofMillis(config.timeoutMs())).build();
        provider = SdkTracerProvider.builder().setIdGenerator(ids).setSampler(Sampler.parentBased(rootSampler))
                .setSpanLimits(SpanLimits.builder().setMaxAttributeValueLength(MAX_ATTRIBUTE_CHARS).build())
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(SERVICE_NAME, config.serviceName(),
                        SERVICE_INSTANCE, UUID.randomUUID().toString()))))
                .addSpanProcessor(batches).build();
        tracer = provider.get("dev.keel");
    }

    /** No export; callers' trace contexts are still continued. */
    public static OpenTelemetryExport off() {
        return new OpenTelemetryExport();
    }

    /** Export over OTLP/HTTP as {@code config} says, or {@link #off()} when it sets no endpoint. */
    public static OpenTelemetryExport create(TelemetryConfig config) {
        if (!config.exporting()) return off();
        OtlpHttpSpanExporterBuilder otlp = OtlpHttpSpanExporter.builder().setEndpoint(config.tracesUri().toString())
                .setTimeout(Duration.ofMillis(config.timeoutMs())).setConnectTimeout(Duration.ofMillis(config.timeoutMs()));
        config.headers().forEach(otlp::addHeader);
        return new OpenTelemetryExport(config, otlp.build());
    }

    private static int port(TelemetryConfig config) {
        int port = config.tracesUri().getPort();
        return port > 0 ? port : config.tracesUri().getScheme().equals("https") ? 443 : 80;
    }

    boolean exporting() {
        return tracer != null;
    }

    /**
     * The W3C context of a new trace with Keel id {@code keelId}: the caller's trace (and its sampling
     * decision) when {@code caller} is valid, else a trace whose OpenTelemetry id is the Keel id when
     * exporting, else none.
     */
    SpanContext begin(String keelId, SpanContext caller) {
        if (caller.isValid()) {
            return SpanContext.create(caller.getTraceId(), W3cTraceContext.newSpanId(), caller.getTraceFlags(), caller.getTraceState());
        }
        if (!exporting()) return SpanContext.getInvalid();
        boolean sampled = rootSampler.shouldSample(Context.root(), keelId, "", SpanKind.SERVER, Attributes.empty(), List.of()).getDecision()
                == SamplingDecision.RECORD_AND_SAMPLE;
        return SpanContext.create(keelId, W3cTraceContext.newSpanId(), sampled ? io.opentelemetry.api.trace.TraceFlags.getSampled()
                : io.opentelemetry.api.trace.TraceFlags.getDefault(), io.opentelemetry.api.trace.TraceState.getDefault());
    }

    /**
     * Exports a finished trace: its root span and the stages recorded so far. Runs on the request's
     * thread, so whatever fails here is counted and logged at debug level, never thrown.
     */
    void export(Trace trace) {
        if (!exporting() || !trace.context().isSampled()) return;
        Trace.TraceView view = trace.view();
        int total = 1 + view.spans().size(), handed = 0;
        if (!admit(total)) return;
        try {
            long start = epochNanos(view.started());
            Context parent = trace.parent().isValid() ? Context.root().with(io.opentelemetry.api.trace.Span.wrap(trace.parent())) : Context.root();
            boolean server = GenAiAttributes.isHttp(view.attributes());
            SpanBuilder root = tracer.spanBuilder(view.name()).setParent(parent).setSpanKind(server ? SpanKind.SERVER : SpanKind.INTERNAL)
                    .setStartTimestamp(start, TimeUnit.NANOSECONDS).setAllAttributes(GenAiAttributes.ofTrace(view));
            io.opentelemetry.api.trace.Span span = ids.start(root, trace.context().getTraceId(), trace.context().getSpanId());
            if (view.status().equals("error")) span.setStatus(StatusCode.ERROR);
            span.end(start + nanos(view.durationMs()), TimeUnit.NANOSECONDS);
            handed++;
            Context inRoot = Context.root().with(span);
            for (SpanRecord stage : view.spans()) {
                exportStage(inRoot, trace.context().getTraceId(), start, stage);
                handed++;
            }
        } catch (RuntimeException e) {
            notHanded(total - handed, e);
        }
    }

    /** Exports a stage recorded after its trace was exported, as a child of the trace's root span; never throws. */
    void exportLate(Trace trace, SpanRecord stage) {
        if (!exporting() || !trace.context().isSampled() || !admit(1)) return;
        try {
            exportStage(Context.root().with(io.opentelemetry.api.trace.Span.wrap(trace.context())), trace.context().getTraceId(),
                    epochNanos(trace.started()), stage);
        } catch (RuntimeException e) {
            notHanded(1, e);
        }
    }

    /** Spans that never reached the queue: their room is given back and they count as failed. */
    private void notHanded(int spans, RuntimeException cause) {
        queued.addAndGet(-spans);
        failed.add(spans);
        LOG.debug("could not hand {} spans to OpenTelemetry export", spans, cause);
    }

    private void exportStage(Context parent, String traceId, long traceStart, SpanRecord stage) {
        long start = traceStart + nanos(stage.startMs());
        SpanBuilder b = tracer.spanBuilder(GenAiAttributes.spanName(stage)).setParent(parent).setSpanKind(GenAiAttributes.isProviderCall(stage)
                ? SpanKind.CLIENT : SpanKind.INTERNAL).setStartTimestamp(start, TimeUnit.NANOSECONDS).setAllAttributes(GenAiAttributes.ofStage(stage));
        io.opentelemetry.api.trace.Span span = ids.start(b, traceId, stage.spanId() != null ? stage.spanId() : W3cTraceContext.newSpanId());
        if (stage.status().equals("error")) span.setStatus(StatusCode.ERROR);
        span.end(start + nanos(stage.durationMs()), TimeUnit.NANOSECONDS);
    }

    /** Takes room for {@code spans} in the bounded queue, or counts them as dropped when there is none. */
    private boolean admit(int spans) {
        if (queued.addAndGet(spans) > MAX_QUEUED_SPANS) {
            queued.addAndGet(-spans);
            queueFull.add(spans);
            return false;
        }
        return true;
    }

    private static long epochNanos(Instant t) {
        return TimeUnit.SECONDS.toNanos(t.getEpochSecond()) + t.getNano();
    }

    private static long nanos(double millis) {
        return Math.round(millis * 1e6);
    }

    /** Registers {@code keel_otel_spans_total{outcome=exported|export_failed|queue_full}} when exporting. */
    void bindTo(MeterRegistry registry) {
        if (!exporting()) return;
        Map.of("exported", exported, "export_failed", failed, "queue_full", queueFull).forEach((outcome, count) -> FunctionCounter
                .builder("keel.otel.spans", count, LongAdder::sum).description("Spans handed to OpenTelemetry export, by outcome")
                .tag("outcome", outcome).register(registry));
    }

    /** For readiness: where spans go and how many went or were dropped; empty when off. Never the headers. */
    Map<String, Object> health() {
        if (!exporting()) return Map.of();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("otlp", collector);
        out.put("spans_exported", exported.sum());
        out.put("spans_dropped", failed.sum() + queueFull.sum());
        return out;
    }

    /** Waits until the spans handed over so far were exported or failed (tests; {@link #close()} does it too). */
    void flush() {
        if (exporting()) provider.forceFlush().join(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (exporting()) provider.shutdown().join(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The exporter with the queue's accounting: a span leaves the queue when its batch is exported. */
    private final class Counting implements SpanExporter {
        private final SpanExporter delegate;

        Counting(SpanExporter delegate) {
            this.delegate = delegate;
        }

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            int n = spans.size();
            queued.addAndGet(-n);
            CompletableResultCode result;
            try {
                result = delegate.export(spans);
            } catch (RuntimeException e) {
                failed.add(n);
                return CompletableResultCode.ofFailure();
            }
            result.whenComplete(() -> (result.isSuccess() ? exported : failed).add(n));
            return result;
        }

        @Override
        public CompletableResultCode flush() {
            return delegate.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return delegate.shutdown();
        }
    }
}
