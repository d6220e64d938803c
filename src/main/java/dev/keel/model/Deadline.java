package dev.keel.model;

import java.time.Duration;

/** The latest instant a request may still use, shared by its retries and fallbacks. */
public record Deadline(long nanos) {
    public static Deadline in(Duration d) {
        return new Deadline(System.nanoTime() + d.toNanos());
    }

    public Duration remaining() {
        return Duration.ofNanos(Math.max(0, nanos - System.nanoTime()));
    }

    public boolean expired() {
        return System.nanoTime() >= nanos;
    }
}
