package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DocumentLocksTest {
    private final DocumentLocks locks = new DocumentLocks();

    /** Starts a thread that takes the lock, says so, and holds it until {@code release}. */
    private Thread holder(String tenant, String docId, CountDownLatch acquired, CountDownLatch release) {
        return Thread.ofVirtual().start(() -> {
            try (DocumentLocks.Held held = locks.lock(tenant, List.of(docId))) {
                acquired.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Test
    void aSecondWriterOfTheSameDocumentWaitsUntilTheFirstIsDone() throws Exception {
        CountDownLatch firstIn = new CountDownLatch(1), releaseFirst = new CountDownLatch(1);
        CountDownLatch secondIn = new CountDownLatch(1), releaseSecond = new CountDownLatch(0);
        Thread first = holder("t", "doc", firstIn, releaseFirst);
        assertThat(firstIn.await(10, TimeUnit.SECONDS)).isTrue();
        Thread second = holder("t", "doc", secondIn, releaseSecond);
        assertThat(secondIn.await(300, TimeUnit.MILLISECONDS)).as("the second writer got in while the first held the lock").isFalse();
        releaseFirst.countDown();
        assertThat(secondIn.await(10, TimeUnit.SECONDS)).isTrue();
        first.join();
        second.join();
    }

    @Test
    void theSameIdInAnotherTenantAndOtherIdsDoNotWait() throws Exception {
        CountDownLatch held = new CountDownLatch(1), release = new CountDownLatch(1);
        Thread holder = holder("a", "doc", held, release);
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        CountDownLatch others = new CountDownLatch(2), never = new CountDownLatch(0);
        holder("b", "doc", others, never).join();
        holder("a", "other", others, never).join();
        assertThat(others.getCount()).isZero();
        release.countDown();
        holder.join();
    }

    @Test
    void writersLockingOverlappingDocumentsInAnyOrderNeverDeadlock() throws Exception {
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                List<String> ids = i % 2 == 0 ? List.of("x", "y", "z") : List.of("z", "y", "x");
                writers.add(pool.submit(() -> {
                    for (int round = 0; round < 200; round++) {
                        try (DocumentLocks.Held held = locks.lock("t", ids)) {
                            Thread.yield();
                        }
                    }
                }));
            }
            for (Future<?> w : writers) w.get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void locksAreForgottenOnceNobodyHoldsOrAwaitsThem() throws Exception {
        CountDownLatch held = new CountDownLatch(2), release = new CountDownLatch(1);
        Thread one = holder("t", "one", held, release), two = holder("t", "two", held, release);
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(locks.size()).isEqualTo(2);
        release.countDown();
        one.join();
        two.join();
        assertThat(locks.size()).isZero();
    }
}
