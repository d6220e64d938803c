package dev.keel.cli;

import dev.keel.bench.AgentBench;
import dev.keel.http.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code keel bench agent}: the agent loop's own time per step, beside the model call's. */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "The agent loop's overhead per step (excluding model and tool time) against a local fake model, in process, with p50/p95"
                + " and its ratio to the model call's time in the same run.")
final class AgentBenchCommand implements Callable<Integer> {
    @Option(names = "--runs", defaultValue = "40", description = "Measured runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--steps", defaultValue = "25", description = "Model calls per run (its max_steps; default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--latency-ms", defaultValue = "5", description = "The fake model's latency, ms (default: ${DEFAULT-VALUE}).")
    int latencyMs;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (runs < 1) throw new IllegalArgumentException("--runs must be at least 1");
        if (steps < 2 || steps > 1_000) throw new IllegalArgumentException("--steps must be 2-1000");
        if (latencyMs < 0) throw new IllegalArgumentException("--latency-ms must be 0 or more");
        try (ScratchDir dir = new ScratchDir("keel-bench-agent-")) {
            AgentBench.Result r = AgentBench.run(runs, steps, latencyMs, dir.path());
            if (json) {
                System.out.println(Json.write(r));
                return 0;
            }
            System.out.printf("%d runs x %d steps, fake model latency %d ms, %d steps measured%n", r.runs(), r.stepsPerRun(), r.upstreamLatencyMs(),
                    r.measuredSteps());
            System.out.printf("loop overhead per step: p50 %.3f ms, p95 %.3f ms (model call p50 %.2f ms, tool call p50 %.3f ms); overhead / model call = %.3f%n",
                    r.overheadP50Ms(), r.overheadP95Ms(), r.modelCallP50Ms(), r.toolCallP50Ms(), r.ratio());
            return 0;
        }
    }
}
