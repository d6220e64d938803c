package dev.keel.trace;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which traces {@link Traces} keeps for lookup: the most recent ones, by count and age, each only for its tenant. */
class TracesTest {
    @Test
    void aTracesJsonIsItsViewAsTheApiWritesIt() throws Exception {
        Traces traces = new Traces(100, Duration.ofHours(1));
        Trace t = traces.start("POST /v1/chat/completions", "t");
        t.attr("tokens.prompt", 12L).attr("count", 3).attr("cost.usd", 0.0012).attr("cached", true).attr("model", "fast \"quoted\" ü")
                .attr("targets", List.of("a", "b")).attr("nan", Double.NaN).attr("float", 1.5f);
        try (Span s = t.span("provider")) {
            s.attr("attempt", 1).attr("provider", "primary").attr("latency", 0.25);
        }
        try (Span s = t.span("guard")) {
            s.error("timeout");
        }
        com.fasterxml.jackson.databind.ObjectMapper api = dev.keel.model.Jackson.api();
        var running = (com.fasterxml.jackson.databind.node.ObjectNode) api.readTree(Traces.json(t));
        var runningView = (com.fasterxml.jackson.databind.node.ObjectNode) api.readTree(api.writeValueAsBytes(t.view()));
        assertThat(running.remove("duration_ms").asDouble()).as("a running trace's duration so far").isPositive().isLessThanOrEqualTo(runningView.remove("duration_ms").asDouble());
        assertThat(running).as("running").isEqualTo(runningView);
        t.finish();
        assertThat(api.readTree(traces.findJson(t.id(), "t").orElseThrow())).as("finished").isEqualTo(api.readTree(api.writeValueAsBytes(t.view())));
        assertThat(api.readTree(traces.findJson(t.id(), "t").orElseThrow()).path("spans")).hasSize(2);
    }

    @Test
    void onceFullItKeepsTheMostRecentTracesNotTheOldest() {
        Traces traces = new Traces(100, Duration.ofHours(1));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            Trace t = traces.start("POST /v1/chat/completions", "t");
            t.finish();
            ids.add(t.id());
        }
        List<String> lastHundred = ids.subList(ids.size() - 100, ids.size());
        assertThat(lastHundred.stream().filter(id -> traces.findJson(id, "t").isEmpty()).toList()).as("recent traces lost").isEmpty();
        assertThat(ids.subList(0, 4_900).stream().filter(id -> traces.findJson(id, "t").isPresent()).count()).as("older traces still held")
                .isZero();
    }

    @Test
    void requestsStartingAndFinishingTracesAtOnceKeepTheBound() throws Exception {
        Traces traces = new Traces(100, Duration.ofHours(1));
        List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(8)) {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        Trace t = traces.start("POST /v1/chat/completions", "t");
                        ids.add(t.id());
                        t.finish();
                    }
                }));
            }
            for (var d : done) d.get();
        }
        assertThat(ids.stream().filter(id -> traces.findJson(id, "t").isPresent()).count()).isEqualTo(100);
    }

    @Test
    void aTraceIsFoundOnlyByItsOwnTenant() {
        Traces traces = new Traces(10, Duration.ofHours(1));
        Trace running = traces.start("run", "a");
        assertThat(traces.findJson(running.id(), "a")).isPresent();
        assertThat(traces.findJson(running.id(), "b")).isEmpty();
        running.finish();
        assertThat(traces.findJson(running.id(), "a")).isPresent();
        assertThat(traces.findJson(running.id(), "b")).isEmpty();
    }

    @Test
    void aTraceThatOutlivesTheOthersIsKeptWhenItFinishes() {
        Traces traces = new Traces(10, Duration.ofHours(1));
        Trace longRun = traces.start("agent run", "a");
        for (int i = 0; i < 50; i++) traces.start("short", "a").finish();
        longRun.finish();
        assertThat(traces.findJson(longRun.id(), "a")).as("a long run's trace, finished last, is among the most recent").isPresent();
    }

    @Test
    void tracesOlderThanTheirAgeAreNotFound() {
        Traces traces = new Traces(10, Duration.ofNanos(1));
        Trace t = traces.start("old", "a");
        t.finish();
        assertThat(traces.findJson(t.id(), "a")).isEmpty();
    }
}
