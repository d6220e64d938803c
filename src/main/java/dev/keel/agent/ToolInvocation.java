package dev.keel.agent;

import dev.keel.gateway.ChatGateway;
import dev.keel.model.Deadline;
import dev.keel.trace.Trace;

/**
 * One call of a tool inside a run: whose it is ({@code caller}: tenant and key, for tools that read the corpus or
 * call models), which run and step, the idempotency key derived from (run, step, call) that a write passes on, the
 * deadline of the call, and the trace it records spans in. Immutable.
 */
public record ToolInvocation(ChatGateway.Caller caller, String runId, int step, String idempotencyKey, Deadline deadline, Trace trace) {
    public String tenant() {
        return caller.tenant();
    }
}
