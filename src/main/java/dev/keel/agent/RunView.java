package dev.keel.agent;

import java.util.List;

/**
 * What a caller sees of a run: its id, tenant, agent and {@link RunStatus}, why it stopped ({@code reason}, null while
 * it runs or when it completed), its {@code output} (the final text, when completed), the call waiting for a person
 * (null unless awaiting confirmation), model calls made ({@code steps}), tokens and USD they were billed, the id of
 * its latest trace, and its events in order. Immutable.
 */
public record RunView(String id, String tenant, String agent, RunStatus status, String reason, String output, Pending pending, int steps,
                      long tokens, double costUsd, String traceId, List<RunEvent> events) {
    public RunView {
        events = List.copyOf(events);
    }

    /** The call waiting for confirmation: its tool and the summary a person reads before confirming. */
    public record Pending(String tool, String summary) {}
}
