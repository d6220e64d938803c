package dev.keel.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.TelemetryConfig;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OpenTelemetryExportTest {
    private static final TelemetryConfig EXPORTING = new TelemetryConfig("http://127.0.0.1:1", Map.of(), "keel-test", 1.0, 2_000);
    private static final String CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736", CALLER_SPAN = "00f067aa0ba902b7";
    private static final String CALLER = "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01";

    private final InMemorySpanExporter memory = InMemorySpanExporter.create();
    private final OpenTelemetryExport export = new OpenTelemetryExport(EXPORTING, memory);
    private final Traces traces = new Traces(export);

    @AfterEach
    void close() {
        traces.close();
    }

    private List<SpanData> exported() {
        export.flush();
        return memory.getFinishedSpanItems();
    }

    private static SpanData named(List<SpanData> spans, String name) {
        return spans.stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no span " + name + " in " + spans));
    }

    private static String attr(SpanData span, String key) {
        return String.valueOf(span.getAttributes().get(AttributeKey.stringKey(key)));
    }

    private static Long longAttr(SpanData span, String key) {
        return span.getAttributes().get(AttributeKey.longKey(key));
    }

    /** A collector stand-in that answers every export with what {@code export} returns. */
    private static SpanExporter exporter(java.util.function.Function<Collection<SpanData>, CompletableResultCode> export) {
        return new SpanExporter() {
            @Override
            public CompletableResultCode export(Collection<SpanData> spans) {
                return export.apply(spans);
            }

            @Override
            public CompletableResultCode flush() {
                return CompletableResultCode.ofSuccess();
            }

            @Override
            public CompletableResultCode shutdown() {
                return CompletableResultCode.ofSuccess();
            }
        };
    }

    @Test
    void aFinishedTraceIsARootSpanWithOneChildPerStageAtTheirRealTimes() {
        Trace trace = traces.start("POST /v1/chat/completions", "acme");
        try (Span s = trace.span("guard.input")) {
            s.attr("verdict", "allow");
        }
        try (Span s = trace.span("provider").attr("provider", "llm").attr("upstream_model", "gpt-x").attr("gen_ai.operation.name", "chat")) {
            s.attr("gen_ai.usage.input_tokens", 12L).attr("gen_ai.response.finish_reasons", List.of("stop"));
        }
        trace.attr("model", "writer").attr("tokens.prompt", 12L).attr("tokens.completion", 7L).attr("cost_usd", 0.25).attr("cache", "miss")
                .attr("http.status", 200);
        trace.finish();

        List<SpanData> spans = exported();
        assertThat(spans).hasSize(3);
        SpanData root = named(spans, "POST /v1/chat/completions");
        assertThat(root.getTraceId()).as("a trace that starts in Keel has Keel's id").isEqualTo(trace.id());
        assertThat(root.getParentSpanContext().isValid()).isFalse();
        assertThat(root.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(attr(root, "gen_ai.request.model")).isEqualTo("writer");
        assertThat(longAttr(root, "gen_ai.usage.input_tokens")).isEqualTo(12L);
        assertThat(longAttr(root, "gen_ai.usage.output_tokens")).isEqualTo(7L);
        assertThat(root.getAttributes().get(AttributeKey.doubleKey("keel.cost_usd"))).isEqualTo(0.25);
        assertThat(attr(root, "keel.cache")).isEqualTo("miss");
        assertThat(longAttr(root, "http.response.status_code")).isEqualTo(200L);
        assertThat(attr(root, "http.request.method")).isEqualTo("POST");
        assertThat(attr(root, "http.route")).isEqualTo("/v1/chat/completions");
        assertThat(attr(root, "keel.trace_id")).isEqualTo(trace.id());
        assertThat(root.getResource().getAttribute(AttributeKey.stringKey("service.name"))).isEqualTo("keel-test");

        SpanData provider = named(spans, "chat gpt-x");
        assertThat(provider.getKind()).isEqualTo(SpanKind.CLIENT);
        assertThat(provider.getParentSpanId()).isEqualTo(root.getSpanId());
        assertThat(attr(provider, "gen_ai.request.model")).isEqualTo("gpt-x");
        assertThat(attr(provider, "keel.provider")).isEqualTo("llm");
        assertThat(provider.getAttributes().get(AttributeKey.stringArrayKey("gen_ai.response.finish_reasons"))).containsExactly("stop");
        SpanData guard = named(spans, "guard.input");
        assertThat(attr(guard, "keel.verdict")).isEqualTo("allow");

        Trace.TraceView view = trace.view();
        for (SpanRecord stage : view.spans()) {
            SpanData span = stage.name().equals("provider") ? provider : guard;
            assertThat((span.getStartEpochNanos() - root.getStartEpochNanos()) / 1e6).isCloseTo(stage.startMs(), org.assertj.core.data.Offset.offset(0.01));
            assertThat((span.getEndEpochNanos() - span.getStartEpochNanos()) / 1e6).isCloseTo(stage.durationMs(), org.assertj.core.data.Offset.offset(0.01));
        }
        assertThat((root.getEndEpochNanos() - root.getStartEpochNanos()) / 1e6).isCloseTo(view.durationMs(), org.assertj.core.data.Offset.offset(0.01));
    }

    @Test
    void aCallersTraceparentMakesKeelsSpansItsChildrenAndTheProviderCallCarriesItOn() {
        Trace trace = traces.start("POST /v1/chat/completions", "acme", CALLER, "vendor=opaque");
        Map<String, String> outgoing;
        try (Span s = trace.span("provider").attr("upstream_model", "m")) {
            outgoing = s.propagationHeaders();
        }
        trace.finish();

        List<SpanData> spans = exported();
        SpanData root = named(spans, "POST /v1/chat/completions");
        SpanData provider = named(spans, "provider");
        assertThat(root.getTraceId()).isEqualTo(CALLER_TRACE);
        assertThat(root.getParentSpanId()).isEqualTo(CALLER_SPAN);
        assertThat(trace.id()).as("Keel's own id never comes from the caller").isNotEqualTo(CALLER_TRACE);
        assertThat(outgoing).containsEntry("traceparent", "00-" + CALLER_TRACE + "-" + provider.getSpanId() + "-01")
                .containsEntry("tracestate", "vendor=opaque");
    }

    @Test
    void twoRequestsWithTheSameTraceparentAreTwoKeelTracesWithDistinctSpans() {
        Trace first = traces.start("a", "acme", CALLER, null), second = traces.start("a", "rival", CALLER, null);
        first.finish();
        second.finish();
        assertThat(first.id()).isNotEqualTo(second.id());
        assertThat(traces.findJson(first.id(), "acme")).isPresent();
        assertThat(traces.findJson(second.id(), "acme")).as("another tenant's trace").isEmpty();
        assertThat(traces.findJson(CALLER_TRACE, "acme")).as("the caller's trace id is not a Keel trace id").isEmpty();
        List<SpanData> spans = exported();
        assertThat(spans).extracting(SpanData::getSpanId).doesNotHaveDuplicates().hasSize(2);
        assertThat(spans).extracting(SpanData::getTraceId).containsOnly(CALLER_TRACE);
    }

    @Test
    void tracesFinishedOnManyThreadsAtOnceKeepTheirOwnIdsAndParents() throws Exception {
        int threads = 8, perThread = 50;
        java.util.concurrent.ConcurrentHashMap<String, String> providerSpanOfTrace = new java.util.concurrent.ConcurrentHashMap<>();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(threads)) {
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        Trace trace = traces.start("t", "acme");
                        try (Span s = trace.span("provider")) {
                            String parent = s.propagationHeaders().get("traceparent");
                            providerSpanOfTrace.put(trace.id(), parent.substring(36, 52));
                        }
                        trace.finish();
                    }
                    return null;
                });
            }
            go.countDown();
        }
        List<SpanData> spans = exported();
        assertThat(spans).hasSize(2 * threads * perThread);
        assertThat(spans).extracting(SpanData::getSpanId).doesNotHaveDuplicates();
        Map<String, SpanData> roots = new java.util.HashMap<>();
        spans.stream().filter(s -> s.getName().equals("t")).forEach(s -> roots.put(s.getTraceId(), s));
        assertThat(roots).hasSize(threads * perThread);
        for (SpanData s : spans) {
            if (s.getName().equals("t")) continue;
            assertThat(s.getParentSpanId()).isEqualTo(roots.get(s.getTraceId()).getSpanId());
            assertThat(s.getSpanId()).as("the id the provider was told").isEqualTo(providerSpanOfTrace.get(s.getTraceId()));
        }
    }

    @Test
    void malformedOrHostileTraceparentsAreIgnored() {
        List<String> hostile = List.of("", "garbage", "00-" + CALLER_TRACE + "-" + CALLER_SPAN, "00-00000000000000000000000000000000-" + CALLER_SPAN + "-01",
                "00-" + CALLER_TRACE + "-0000000000000000-01", "00-" + CALLER_TRACE.toUpperCase() + "-" + CALLER_SPAN + "-01",
                "ff-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01", "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01-extra",
                "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-0g", "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01\r\nx-evil: 1",
                "00-" + "z".repeat(32) + "-" + CALLER_SPAN + "-01", "0".repeat(100_000), "00-\u0661\u0662" + CALLER_TRACE.substring(2) + "-" + CALLER_SPAN + "-01");
        for (String value : hostile) {
            Trace trace = traces.start("t", "acme", value, "k=" + "v".repeat(10_000));
            Map<String, String> outgoing;
            try (Span s = trace.span("provider")) {
                outgoing = s.propagationHeaders();
            }
            trace.finish();
            assertThat(outgoing.get("traceparent")).as(value).startsWith("00-" + trace.id() + "-");
            assertThat(outgoing).as("an oversized tracestate is dropped").doesNotContainKey("tracestate");
        }
        assertThat(exported()).filteredOn(s -> s.getParentSpanContext().isRemote()).as("no span has a caller's parent").isEmpty();
    }

    @Test
    void aCallerThatDoesNotSampleGetsNothingExportedAndItsDecisionPropagated() {
        Trace trace = traces.start("t", "acme", "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-00", null);
        Map<String, String> outgoing;
        try (Span s = trace.span("provider")) {
            outgoing = s.propagationHeaders();
        }
        trace.finish();
        assertThat(outgoing.get("traceparent")).startsWith("00-" + CALLER_TRACE + "-").endsWith("-00");
        assertThat(exported()).isEmpty();
    }

    @Test
    void aSampleRatioOfZeroExportsNoTraceThatStartsInKeel() {
        OpenTelemetryExport never = new OpenTelemetryExport(new TelemetryConfig("http://127.0.0.1:1", Map.of(), "k", 0.0, 2_000), memory);
        try (Traces none = new Traces(never)) {
            none.start("t", "acme").finish();
            none.start("t", "acme", CALLER, null).finish();
            never.flush();
            assertThat(memory.getFinishedSpanItems()).extracting(SpanData::getTraceId).as("only the sampled caller's trace").containsExactly(CALLER_TRACE);
        }
    }

    /** Keel's trace view serialises it; its text form fails. */
    record Unprintable(int n) {
        @Override
        public String toString() {
            throw new IllegalStateException("cannot be printed");
        }
    }

    @Test
    void anAttributeExportCannotConvertNeverFailsTheTraceAndIsCountedAsLost() {
        Trace trace = traces.start("t", "acme");
        try (Span s = trace.span("stage")) {
            s.attr("odd", new Unprintable(1));
        }
        trace.finish();
        assertThat(exported()).extracting(SpanData::getName).containsExactly("t");
        assertThat(traces.exportHealth()).containsEntry("spans_dropped", 1L);
    }

    @Test
    void aStageThatEndsAfterItsTraceIsExportedAsAChildOfTheRoot() {
        Trace trace = traces.start("stream", "acme");
        Span late = trace.span("guard.output");
        trace.finish();
        late.error("blocked").close();
        List<SpanData> spans = exported();
        SpanData root = named(spans, "stream");
        SpanData stage = named(spans, "guard.output");
        assertThat(stage.getParentSpanId()).isEqualTo(root.getSpanId());
        assertThat(stage.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(attr(stage, "error.type")).isEqualTo("blocked");
    }

    @Test
    void withoutExportACallersContextIsStillCarriedOnAndNothingIsSentOtherwise() {
        try (Traces off = new Traces()) {
            Trace continued = off.start("t", "acme", CALLER, null), own = off.start("t", "acme");
            try (Span a = continued.span("provider"); Span b = own.span("provider")) {
                assertThat(a.propagationHeaders().get("traceparent")).startsWith("00-" + CALLER_TRACE + "-").endsWith("-01");
                assertThat(b.propagationHeaders()).as("no context, no header: requests stay as they were").isEmpty();
            }
            assertThat(off.exportHealth()).isEmpty();
        }
    }

    @Test
    void aStalledCollectorNeverBlocksTracesAndTheOverflowIsDroppedAndCounted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        SpanExporter stalled = exporter(spans -> {
            CompletableResultCode result = new CompletableResultCode();
            Thread.ofVirtual().start(() -> {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                result.succeed();
            });
            return result;
        });
        try (Traces stuck = new Traces(new OpenTelemetryExport(EXPORTING, stalled))) {
            int traces = 2 * OpenTelemetryExport.MAX_QUEUED_SPANS / 10;
            long start = System.nanoTime();
            for (int i = 0; i < traces; i++) {
                Trace t = stuck.start("t", "acme");
                for (int s = 0; s < 9; s++) t.span("stage").close();
                t.finish();
            }
            double perTraceMs = (System.nanoTime() - start) / 1e6 / traces;
            assertThat(perTraceMs).as("finishing a trace while the collector stalls").isLessThan(5);
            assertThat(stuck.registry().get("keel.otel.spans").tag("outcome", "queue_full").functionCounter().count()).isGreaterThan(0);
            assertThat((long) stuck.exportHealth().get("spans_dropped")).isGreaterThan(0);
            release.countDown();
        }
    }

    @Test
    void aFailingCollectorCountsTheSpansItLost() {
        Traces failing = new Traces(new OpenTelemetryExport(EXPORTING, exporter(spans -> CompletableResultCode.ofFailure())));
        Trace t = failing.start("t", "acme");
        t.span("a").close();
        t.finish();
        failing.close();
        assertThat(failing.registry().get("keel.otel.spans").tag("outcome", "export_failed").functionCounter().count()).isEqualTo(2);
        assertThat(failing.exportHealth()).containsEntry("spans_dropped", 2L).containsEntry("spans_exported", 0L);
    }

    @Test
    void closingExportsWhatIsStillQueued() {
        List<SpanData> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        Traces closing = new Traces(new OpenTelemetryExport(EXPORTING, exporter(spans -> {
            received.addAll(spans);
            return CompletableResultCode.ofSuccess();
        })));
        closing.start("t", "acme").finish();
        closing.close();
        assertThat(received).hasSize(1);
    }
}
