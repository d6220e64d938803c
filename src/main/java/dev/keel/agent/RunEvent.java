package dev.keel.agent;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * One entry of a run's append-only log: its position {@code seq} (0 for the plan, then consecutive), its
 * {@link Type}, a JSON {@code payload}, the tokens and USD its model call was billed (0 for other events), and when
 * it was appended (epoch ms). A run's state is what replaying its events in order yields. Immutable (the payload is
 * not copied: do not change it).
 */
public record RunEvent(int seq, Type type, ObjectNode payload, long tokens, double costUsd, long atMillis) {
    /** What happened. */
    public enum Type {
        /** The run began: task, agent, model, prompt hash, tools offered, and the system prompt it runs with. */
        PLAN,
        /** A model call returned: the assistant message (text and tool calls) and its usage. */
        MODEL_CALL,
        /** A tool call is about to run (logged before it runs, so a resume knows it may have happened). */
        TOOL_CALL,
        /** A tool call's result or failure as the model reads it (or why it was not run). */
        TOOL_RESULT,
        /** A call waits for a person: the tool and the summary they read. */
        CONFIRMATION,
        /** A person confirmed or rejected the waiting call. */
        DECISION,
        /** The run was picked up again after its process stopped: time until now does not count against its limit. */
        RESUMED,
        /** A hard limit ended the run. */
        LIMIT,
        /** The no-progress detector ended the run. */
        LOOP,
        /** The run was handed over to a person. */
        ESCALATION,
        /** The run failed (a model call failed, the model sent invalid arguments twice…). */
        ERROR,
        /** The model answered without a tool call: the run completed with this output. */
        FINAL;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Type ofWire(String wire) {
            return valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }
}
