package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.keel.Keel;
import dev.keel.agent.RunStatus;
import dev.keel.agent.RunView;
import dev.keel.agent.Tool;
import dev.keel.agent.ToolInvocation;
import dev.keel.agent.ToolOutcome;
import dev.keel.agent.ToolSpec;
import dev.keel.config.AgentConfig.SideEffect;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.model.Jackson;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The agent loop's own cost per step: runs of an agent whose model (a local fake upstream with a fixed latency)
 * always asks for a tool that returns at once, each run stopped by its step limit. A step's loop overhead is the time
 * from the end of one model call to the start of the next, less the tool call's own time: checking the call, the
 * event log's appends (two database transactions per tool call plus one per model call), building the next request.
 * Model-call time (the gateway included) is reported beside it, from the same run. In process; warm-up runs are
 * discarded.
 */
public final class AgentBench {
    /** Per-step figures in ms; {@code ratio}: overhead p50 over model-call p50. */
    public record Result(int runs, int stepsPerRun, int upstreamLatencyMs, int measuredSteps, double overheadP50Ms, double overheadP95Ms,
                         double modelCallP50Ms, double toolCallP50Ms, double ratio) {}

    /** Runs whose steps are not measured: the JIT compiles the loop's paths meanwhile. */
    private static final int WARM_UP_RUNS = 5;

    private AgentBench() {}

    public static Result run(int runs, int steps, int latencyMs, Path work) throws Exception {
        try (FakeUpstream upstream = FakeUpstream.askingFor("echo", latencyMs)) {
            String yaml = """
                    providers:
                      bench: {type: openai, base_url: "%s", max_retries: 0}
                    models:
                      bench-model: {targets: [{provider: bench, model: bench-upstream}]}
                    agents:
                      definitions:
                        bench:
                          model: bench-model
                          tools: [echo]
                          limits: {max_steps: %d}
                    """.formatted(upstream.baseUrl(), steps);
            try (Keel keel = Keel.open(KeelConfig.parse(yaml, k -> null), work, List.of(new Echo()))) {
                List<Double> overhead = new ArrayList<>(), model = new ArrayList<>(), tool = new ArrayList<>();
                for (int i = 0; i < WARM_UP_RUNS + runs; i++) {
                    RunView run = keel.agents().start("bench", "echo until the step limit", new ChatGateway.Caller("bench", null), e -> {});
                    if (run.status() != RunStatus.LIMIT_REACHED) throw new IllegalStateException("a bench run ended " + run.status().wire() + ": " + run.reason());
                    if (i >= WARM_UP_RUNS) measure(keel, run, overhead, model, tool);
                }
                double o50 = p(overhead, 50), m50 = p(model, 50);
                return new Result(runs, steps, latencyMs, overhead.size(), o50, p(overhead, 95), m50, p(tool, 50), m50 > 0 ? o50 / m50 : 0);
            }
        }
    }

    private static void measure(Keel keel, RunView run, List<Double> overhead, List<Double> model, List<Double> tool) throws Exception {
        JsonNode trace = Jackson.api().readTree(keel.traces().findJson(run.traceId(), run.tenant()).orElseThrow());
        List<JsonNode> calls = new ArrayList<>(), tools = new ArrayList<>();
        for (JsonNode span : trace.path("spans")) {
            if (span.path("name").asText().equals("agent.model_call")) calls.add(span);
            if (span.path("name").asText().equals("agent.tool")) tools.add(span);
        }
        Comparator<JsonNode> byStart = Comparator.comparingDouble(s -> s.path("start_ms").asDouble());
        calls.sort(byStart);
        tools.sort(byStart);
        calls.forEach(c -> model.add(c.path("duration_ms").asDouble()));
        tools.forEach(t -> tool.add(t.path("duration_ms").asDouble()));
        for (int k = 0; k + 1 < calls.size() && k < tools.size(); k++) {
            double end = calls.get(k).path("start_ms").asDouble() + calls.get(k).path("duration_ms").asDouble();
            overhead.add(calls.get(k + 1).path("start_ms").asDouble() - end - tools.get(k).path("duration_ms").asDouble());
        }
    }

    private static double p(List<Double> samples, double percentile) {
        return Measurements.percentile(samples.stream().mapToDouble(Double::doubleValue).toArray(), percentile);
    }

    /** A read tool that returns its arguments at once. */
    private static final class Echo implements Tool {
        private final ToolSpec spec = new ToolSpec("echo", "returns its arguments", JsonNodeFactory.instance.objectNode().put("type", "object"), null,
                SideEffect.READ, true, Duration.ofSeconds(5), Set.of());

        @Override
        public ToolSpec spec() {
            return spec;
        }

        @Override
        public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) {
            return ToolOutcome.success(arguments);
        }
    }
}
