package dev.keel.gateway;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A warning that is logged at most once per interval, with how many times it happened since it was
 * last logged: under load a failing dependency would otherwise log once per request. The first
 * occurrence is logged at once. Thread-safe; occurrences between two logged lines are counted, never
 * lost from the count.
 */
final class ThrottledWarning {
    private final Logger log;
    private final String message;
    private final long intervalNanos;
    private final AtomicLong occurrences = new AtomicLong();
    private final AtomicLong nextLogNanos;

    /** {@code message} is an SLF4J pattern; the count and interval are appended. */
    ThrottledWarning(Logger log, String message, Duration interval) {
        this.log = log;
        this.message = message;
        this.intervalNanos = interval.toNanos();
        this.nextLogNanos = new AtomicLong(System.nanoTime());
    }

    /** Counts one occurrence and logs it, with the count so far, when the interval since the last line has passed. */
    void warn(Object... arguments) {
        occurrences.incrementAndGet();
        long now = System.nanoTime(), due = nextLogNanos.get();
        if (now - due < 0 || !nextLogNanos.compareAndSet(due, now + intervalNanos)) return;
        Object[] withCount = java.util.Arrays.copyOf(arguments, arguments.length + 2);
        withCount[arguments.length] = occurrences.getAndSet(0);
        withCount[arguments.length + 1] = intervalNanos / 1_000_000_000;
        log.warn(message + " ({} time(s) since this was last logged; logged at most every {} s)", withCount);
    }
}
