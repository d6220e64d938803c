package dev.keel.engines;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waits for a condition, polling, instead of sleeping a guessed time: replicas see each other's writes eventually, not at a known instant. */
public final class Await {
    private static final long POLL_NANOS = 10_000_000L;

    private Await() {}

    /** Returns once {@code condition} holds; fails naming {@code what} after {@code timeout}. */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + timeout + ": " + what);
            LockSupport.parkNanos(POLL_NANOS);
        }
    }
}
