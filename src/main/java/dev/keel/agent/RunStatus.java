package dev.keel.agent;

import java.util.Locale;

/**
 * Where a run stands. {@code RUNNING} and {@code AWAITING_CONFIRMATION} are open (the run goes on, or waits for a
 * person's confirm or reject); every other status is final: a run never leaves it.
 */
public enum RunStatus {
    RUNNING, AWAITING_CONFIRMATION, COMPLETED, FAILED, LIMIT_REACHED, LOOP_DETECTED, NEEDS_HUMAN;

    /** The name in the API and the store: {@code awaiting_confirmation}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean finished() {
        return this != RUNNING && this != AWAITING_CONFIRMATION;
    }

    static RunStatus ofWire(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
