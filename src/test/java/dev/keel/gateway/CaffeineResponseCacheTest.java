package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.CacheConfig;
import dev.keel.embed.Vectors;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The {@link ResponseCache} contract on the in-process store: tenant scoping, nearest lookup, removal, concurrent use. */
class CaffeineResponseCacheTest {
    private final ResponseCache cache = new CaffeineResponseCache(CacheConfig.DEFAULTS);

    private static ResponseCache.Entry entry(String body) {
        return new ResponseCache.Entry(body.getBytes(StandardCharsets.UTF_8), 0.01, List.of(), WordOrder.NONE);
    }

    private static float[] unit(float... v) {
        return Vectors.normalize(v);
    }

    private static String body(Optional<ResponseCache.Entry> e) {
        return e.map(x -> new String(x.body(), StandardCharsets.UTF_8)).orElse("none");
    }

    @Test
    void oneTenantsEntriesAreInvisibleToAnotherUnderTheSameKeyScopeAndVector() {
        cache.putExact("a", "k", entry("A's answer"));
        cache.putSimilar("a", "scope", "k", unit(1, 0), entry("A's answer"));
        assertThat(cache.exact("b", "k")).isEmpty();
        assertThat(cache.nearest("b", "scope", () -> unit(1, 0), 0.5, e -> true)).isEmpty();
        cache.remove("b", "k");
        assertThat(body(cache.exact("a", "k"))).isEqualTo("A's answer");
    }

    @Test
    void aTenantWithNothingInTheScopeNeverHasItsQueryEmbedded() {
        cache.putSimilar("a", "scope", "k", unit(1, 0), entry("A"));
        AtomicInteger embedded = new AtomicInteger();
        Supplier<float[]> vector = () -> {
            embedded.incrementAndGet();
            return unit(1, 0);
        };
        assertThat(cache.nearest("b", "scope", vector, 0.5, e -> true)).isEmpty();
        assertThat(embedded).hasValue(0);
        assertThat(cache.nearest("a", "scope", vector, 0.5, e -> true)).isPresent();
        assertThat(embedded).hasValue(1);
    }

    @Test
    void nearestPassesOverEntriesTheCallerCannotCompareAndTakesTheNextNearest() {
        cache.putSimilar("a", "s", "near", unit(1, 0.1f), entry("near"));
        cache.putSimilar("a", "s", "nearer", unit(1, 0.01f), entry("nearer"));
        ResponseCache.Similar hit = cache.nearest("a", "s", () -> unit(1, 0), 0.9,
                e -> !new String(e.body(), StandardCharsets.UTF_8).equals("nearer")).orElseThrow();
        assertThat(hit.key()).isEqualTo("near");
        assertThat(cache.nearest("a", "s", () -> unit(1, 0), 0.9, e -> false)).isEmpty();

        cache.putSimilar("a", "s", "far", unit(0, 1), entry("far"));
        java.util.List<String> tested = new java.util.ArrayList<>();
        cache.nearest("a", "s", () -> unit(1, 0), 0.9, e -> tested.add(new String(e.body(), StandardCharsets.UTF_8)));
        assertThat(tested).as("only entries close enough to win are tested").doesNotContain("far");
    }

    @Test
    void nearestReturnsTheMostSimilarEntryAtOrAboveTheThresholdOnly() {
        cache.putSimilar("a", "s", "far", unit(0, 1), entry("far"));
        cache.putSimilar("a", "s", "near", unit(1, 0.1f), entry("near"));
        cache.putSimilar("a", "s", "nearer", unit(1, 0.01f), entry("nearer"));
        ResponseCache.Similar hit = cache.nearest("a", "s", () -> unit(1, 0), 0.9, e -> true).orElseThrow();
        assertThat(hit.key()).isEqualTo("nearer");
        assertThat(hit.similarity()).isGreaterThan(0.99);
        assertThat(cache.nearest("a", "s", () -> unit(-1, 0), 0.9, e -> true)).isEmpty();
        assertThat(cache.nearest("a", "other-scope", () -> unit(1, 0), 0.0, e -> true)).isEmpty();
    }

    @Test
    void entriesLiveForTheirTablesTimeToLiveOnly() {
        AtomicLong nanos = new AtomicLong();
        CacheConfig config = new CacheConfig(new CacheConfig.Exact(true, 60, 100), new CacheConfig.Semantic(true, 0.95, 120, 100), 1024);
        ResponseCache timed = new CaffeineResponseCache(config, nanos::get);
        timed.putExact("a", "k", entry("x"));
        timed.putSimilar("a", "s", "k", unit(1, 0), entry("x"));
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(61));
        assertThat(timed.exact("a", "k")).isEmpty();
        assertThat(timed.nearest("a", "s", () -> unit(1, 0), 0.5, e -> true)).isPresent();
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(60));
        assertThat(timed.nearest("a", "s", () -> unit(1, 0), 0.5, e -> true)).isEmpty();
    }

    @Test
    void removeForgetsAnEntryInBothTables() {
        cache.putExact("a", "k", entry("x"));
        cache.putSimilar("a", "s", "k", unit(1, 0), entry("x"));
        cache.remove("a", "k");
        assertThat(cache.exact("a", "k")).isEmpty();
        assertThat(cache.nearest("a", "s", () -> unit(1, 0), 0.5, e -> true)).isEmpty();
    }

    @Test
    void concurrentPutsRemovesAndLookupsOfOneScopeNeverFailOrMixEntries() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            work.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 2_000; i++) {
                    String key = "k" + (i % 50);
                    cache.putSimilar("a", "s", key, unit(1, i % 50), entry(key));
                    cache.putExact("a", key, entry(key));
                    if (thread % 2 == 0) cache.remove("a", key);
                    cache.nearest("a", "s", () -> unit(1, 7), 0.99, e -> true).ifPresent(h -> assertThat(new String(h.entry().body(), StandardCharsets.UTF_8)).isEqualTo(h.key()));
                    cache.exact("a", key).ifPresent(e -> assertThat(new String(e.body(), StandardCharsets.UTF_8)).isEqualTo(key));
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : work) f.get(60, TimeUnit.SECONDS);
        pool.shutdown();
        cache.putSimilar("a", "s", "k7", unit(1, 7), entry("k7"));
        assertThat(cache.nearest("a", "s", () -> unit(1, 7), 0.999, e -> true).map(ResponseCache.Similar::key)).contains("k7");
    }

    @Test
    void aCopiedEntryLivesOnlyForWhatIsLeftOfItsLifeAndNeverLongerThanTheConfiguredTimeToLive() {
        AtomicLong nanos = new AtomicLong();
        CaffeineResponseCache copy = new CaffeineResponseCache(CacheConfig.DEFAULTS, nanos::get);
        copy.putSimilar("a", "s", "short", unit(1, 0), entry("short"), java.time.Duration.ofSeconds(10));
        copy.putSimilar("a", "s", "long", unit(0, 1), entry("long"), java.time.Duration.ofDays(30));
        copy.putSimilar("a", "s", "gone", unit(1, 1), entry("gone"), java.time.Duration.ZERO);
        assertThat(copy.nearest("a", "s", () -> unit(1, 1), 0.999, e -> true)).as("already expired: never stored").isEmpty();
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(11));
        assertThat(copy.nearest("a", "s", () -> unit(1, 0), 0.999, e -> true)).isEmpty();
        assertThat(copy.nearest("a", "s", () -> unit(0, 1), 0.999, e -> true)).isPresent();
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(CacheConfig.DEFAULTS.semantic().ttlSeconds()));
        assertThat(copy.nearest("a", "s", () -> unit(0, 1), 0.999, e -> true)).as("capped at cache.semantic.ttl_seconds").isEmpty();
    }
}
