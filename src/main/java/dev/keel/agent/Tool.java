package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One tool an agent may call. Implementations are thread-safe and stateless between calls; they receive arguments
 * already validated against {@link ToolSpec#parameters()}, honour the invocation's deadline (the agent loop also
 * interrupts a call that overruns {@link ToolSpec#timeout()}), and never throw for an expected failure: they return a
 * {@link ToolOutcome.Failure} whose message is short and readable by a model. A write tool must perform its effect at
 * most once per {@link ToolInvocation#idempotencyKey()}, or pass the key to the system that does (an
 * {@code Idempotency-Key} header): the loop may call it again with the same key after a crash.
 */
public interface Tool {
    /** What the tool is: name, schemas, side effect, timeout, scopes. Constant over the tool's life. */
    ToolSpec spec();

    /** Runs the tool once. An unexpected exception is reported to the model as a failure of this tool, never its text. */
    ToolOutcome call(JsonNode arguments, ToolInvocation invocation) throws InterruptedException;

    /**
     * What a person reads before confirming a write ("update the email of customer 42 to a@b.example"); the default
     * names the tool and its arguments.
     */
    default String summarize(JsonNode arguments) {
        return spec().name() + " " + arguments;
    }
}
