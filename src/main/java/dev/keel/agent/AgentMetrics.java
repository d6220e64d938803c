package dev.keel.agent;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The agents' Micrometer meters: runs by the status they stopped or paused in ({@code keel.agent.runs}), model calls
 * ({@code keel.agent.steps}) and tool calls by tool and outcome ({@code keel.agent.tool.calls}). Never a task,
 * argument or result. Thread-safe.
 */
final class AgentMetrics {
    private final MeterRegistry registry;

    AgentMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void recorded(RunEvent event, RunStatus after) {
        if (event.type() == RunEvent.Type.MODEL_CALL) registry.counter("keel.agent.steps").increment();
        if (event.type() == RunEvent.Type.CONFIRMATION || after.finished()) {
            Counter.builder("keel.agent.runs").tag("status", after.wire()).register(registry).increment();
        }
    }

    void toolCall(String tool, String outcome) {
        Counter.builder("keel.agent.tool.calls").tag("tool", tool).tag("outcome", outcome).register(registry).increment();
    }
}
