package dev.keel.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The group commit: a burst is written as one batch after its linger, and a flush does not wait the linger out. */
class BatchWriterTest {
    @Test
    void aFlushWritesAGatheringBurstAtOnceInOneBatch() throws Exception {
        List<List<String>> batches = new CopyOnWriteArrayList<>();
        // A linger far longer than the test may take: only the flush can end this burst's wait.
        try (BatchWriter<String> writer = new BatchWriter<>("test", String.class, 100, Duration.ofHours(1), batches::add)) {
            for (String item : List.of("a", "b", "c")) writer.add(item);
            CompletableFuture.runAsync(writer::flush).get(30, TimeUnit.SECONDS);
            assertThat(batches).containsExactly(List.of("a", "b", "c"));
            writer.add("d");
            CompletableFuture.runAsync(writer::flush).get(30, TimeUnit.SECONDS);
            assertThat(batches).containsExactly(List.of("a", "b", "c"), List.of("d"));
        }
    }

    @Test
    void withoutAFlushABurstWaitsForItsLingerThenGoesAsOneBatch() throws Exception {
        List<List<String>> batches = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> written = new CompletableFuture<>();
        try (BatchWriter<String> writer = new BatchWriter<>("test", String.class, 100, Duration.ofMillis(200), items -> {
            batches.add(items);
            written.complete(null);
        })) {
            for (int i = 0; i < 50; i++) writer.add("item-" + i);
            written.get(30, TimeUnit.SECONDS);
            assertThat(batches).hasSize(1);
            assertThat(batches.get(0)).hasSize(50);
        }
    }
}
