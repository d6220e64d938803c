package dev.keel.store;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Writes items off the caller's thread: one background thread takes what was added, lets a burst
 * gather, and hands it to {@code write} as one batch. A failed batch is logged and dropped (the
 * request that produced it has long been answered); so is an item added while {@code capacity} items
 * wait (a store that stopped answering must not take the process's memory with it). {@link #flush()} waits until everything added
 * before it was handed over; closing flushes. Thread-safe.
 */
final class BatchWriter<T> implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BatchWriter.class);
    /** Group commit: a burst gathers instead of waking the writer and committing once per item. */
    static final java.time.Duration DEFAULT_LINGER = java.time.Duration.ofMillis(20);
    private static final int MAX_BATCH = 5_000;
    private static final int FLUSH_TIMEOUT_SECONDS = 30;

    private final String what;
    private final Class<T> type;
    private final Consumer<List<T>> write;
    private final BlockingQueue<Object> queue;
    private final Thread writer;
    private final long lingerNanos;
    /** Flushes whose latch is queued and not yet counted down: while any waits, a burst does not linger. */
    private final java.util.concurrent.atomic.AtomicInteger flushesWaiting = new java.util.concurrent.atomic.AtomicInteger();

    BatchWriter(String what, Class<T> type, int capacity, Consumer<List<T>> write) {
        this(what, type, capacity, DEFAULT_LINGER, write);
    }

    /** A writer that lets a burst gather for {@code linger} after its first item; {@link #flush()} cuts the wait short. */
    BatchWriter(String what, Class<T> type, int capacity, java.time.Duration linger, Consumer<List<T>> write) {
        this.what = what;
        this.type = type;
        this.write = write;
        this.lingerNanos = linger.toNanos();
        this.queue = new LinkedBlockingQueue<>(capacity);
        this.writer = Thread.ofPlatform().name("keel-" + what).daemon(true).start(this::drain);
    }

    /** Queues an item; false when {@code capacity} items already wait (the item is dropped). */
    boolean add(T item) {
        return queue.offer(item);
    }

    /** Blocks until every item added before this call was written (or its batch failed). */
    void flush() {
        CountDownLatch done = new CountDownLatch(1);
        try {
            flushesWaiting.incrementAndGet();
            try {
                queue.put(done);
            } catch (InterruptedException e) {
                flushesWaiting.decrementAndGet();
                throw e;
            }
            LockSupport.unpark(writer); // a burst still gathering goes now, not at the end of its linger
            if (!done.await(FLUSH_TIMEOUT_SECONDS, TimeUnit.SECONDS)) throw new StoreException(what + " flush timed out", null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void drain() {
        List<Object> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            if (type.isInstance(batch.get(0))) lingerAfter(System.nanoTime());
            queue.drainTo(batch, MAX_BATCH - 1);
            List<T> items = new ArrayList<>();
            for (Object o : batch) if (type.isInstance(o)) items.add(type.cast(o));
            if (!items.isEmpty()) {
                try {
                    write.accept(items);
                } catch (RuntimeException e) {
                    LOG.error("{}: {} entries could not be stored: {}", what, items.size(), e.getMessage());
                }
            }
            for (Object o : batch) {
                if (o instanceof CountDownLatch l) {
                    flushesWaiting.decrementAndGet();
                    l.countDown();
                }
            }
            batch.clear();
        }
    }

    /** Parks until the linger from {@code start} is over or a flush is waiting (a stray wake-up parks again). */
    private void lingerAfter(long start) {
        for (long left = lingerNanos; left > 0 && flushesWaiting.get() == 0; left = lingerNanos - (System.nanoTime() - start)) {
            LockSupport.parkNanos(left);
        }
    }

    @Override
    public void close() {
        flush();
        writer.interrupt();
    }
}
