package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.CacheConfig;
import dev.keel.config.RedisConfig;
import dev.keel.engines.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.keel.store.Redis;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The exact cache in a real Redis, shared by replicas; nearest lookups stay in process. */
class RedisResponseCacheTest {
    private static final CacheConfig CONFIG = new CacheConfig(new CacheConfig.Exact(true, 60, 100), new CacheConfig.Semantic(true, 0.9, 60, 100), 1024);
    private static RedisServer server;
    private Redis redis;
    private SimpleMeterRegistry metrics;
    private RedisResponseCache cache;

    @BeforeAll
    static void startRedis() {
        server = RedisServer.open();
    }

    @AfterAll
    static void stopRedis() {
        if (server != null) server.close();
    }

    @BeforeEach
    void connect() {
        server.start();
        metrics = new SimpleMeterRegistry();
        redis = Redis.open(new RedisConfig(server.url(), RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 300, 900), metrics);
        cache = replica();
    }

    @AfterEach
    void disconnect() {
        redis.close();
    }

    private RedisResponseCache replica() {
        return new RedisResponseCache(redis, CONFIG, new CaffeineResponseCache(CONFIG));
    }

    private static ResponseCache.Entry entry(String body) {
        return new ResponseCache.Entry(body.getBytes(StandardCharsets.UTF_8), 0.0042, List.of(new ResponseCache.DocumentVersion("handbook", "v1")), WordOrder.NONE);
    }

    private static Optional<String> body(Optional<ResponseCache.Entry> e) {
        return e.map(x -> new String(x.body(), StandardCharsets.UTF_8));
    }

    @Test
    void anEntryStoredByOneReplicaIsServedWholeByAnother() {
        cache.putExact("acme", "k1", entry("{\"answer\":\"ten days\"}"));
        ResponseCache.Entry found = replica().exact("acme", "k1").orElseThrow();
        assertThat(new String(found.body(), StandardCharsets.UTF_8)).isEqualTo("{\"answer\":\"ten days\"}");
        assertThat(found.costUsd()).isEqualTo(0.0042);
        assertThat(found.documents()).containsExactly(new ResponseCache.DocumentVersion("handbook", "v1"));
    }

    @Test
    void tenantsNeverShareAnEntryWhateverTheirStrings() {
        String[][] pairs = {{"a", ":1:b"}, {"a:1", ":b"}, {"a:1:", "b"}, {"", "a:1::b"}, {"ü", "x"}, {"\u00c3\u00bc", "x"}, {"a\ud800", "x"}, {"a?", "x"}, {"a\udc00", "x"}};
        for (int i = 0; i < pairs.length; i++) cache.putExact(pairs[i][0], pairs[i][1], entry("pair " + i));
        for (int i = 0; i < pairs.length; i++) assertThat(body(cache.exact(pairs[i][0], pairs[i][1]))).contains("pair " + i);
        assertThat(cache.exact("b", "a")).isEmpty();
    }

    @Test
    void entriesLiveForTheExactTimeToLive() {
        cache.putExact("acme", "ttl", entry("x"));
        long left = Long.parseLong(server.command("PTTL", "keel:cache:4:acme3:ttl").substring(1));
        assertThat(left).isBetween(1L, 60_000L);
    }

    @Test
    void anEntryOverTheSizeBoundIsNotStored() {
        cache.putExact("acme", "big", entry("x".repeat(1025)));
        assertThat(cache.exact("acme", "big")).isEmpty();
    }

    @Test
    void anEntryKeepsItsQuestionsWordOrderAndOneWrittenBeforeWordOrdersReadsWithNone() throws Exception {
        int[] words = WordOrder.of("How do I migrate from Postgres to MySQL?");
        ResponseCache.Entry withWords = new ResponseCache.Entry("{}".getBytes(StandardCharsets.UTF_8), 0.5, List.of(), words);
        assertThat(RedisResponseCache.decode(RedisResponseCache.encode(withWords)).orElseThrow().questionWords()).containsExactly(words);

        java.io.ByteArrayOutputStream formatOne = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(formatOne)) {
            out.writeInt(1);
            out.writeDouble(0.5);
            out.writeInt(0);
            out.writeInt(2);
            out.write("{}".getBytes(StandardCharsets.UTF_8));
        }
        ResponseCache.Entry old = RedisResponseCache.decode(formatOne.toByteArray()).orElseThrow();
        assertThat(old.questionWords()).isEmpty();
        assertThat(new String(old.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
    }

    @Test
    void aValueThatIsNotAWholeEntryIsAMiss() {
        server.command("SET", "keel:cache:4:acme7:garbage", "not-an-entry");
        assertThat(cache.exact("acme", "garbage")).isEmpty();
        byte[] whole = RedisResponseCache.encode(entry("truncated"));
        assertThat(RedisResponseCache.decode(java.util.Arrays.copyOf(whole, whole.length - 3))).isEmpty();
    }

    @Test
    void nearestLookupsStayInThisReplicaAndRemovalForgetsBothTables() {
        float[] v = {1, 0};
        cache.putExact("acme", "k", entry("x"));
        cache.putSimilar("acme", "scope", "k", v, entry("x"));
        assertThat(cache.nearest("acme", "scope", () -> v, 0.9, e -> true)).isPresent();
        assertThat(replica().nearest("acme", "scope", () -> v, 0.9, e -> true)).as("another replica's in-process table").isEmpty();
        cache.remove("acme", "k");
        assertThat(cache.exact("acme", "k")).isEmpty();
        assertThat(cache.nearest("acme", "scope", () -> v, 0.9, e -> true)).isEmpty();
    }

    @Test
    void whileRedisIsDownLookupsMissAndStoresAreSkippedWithoutFailing() {
        cache.putExact("acme", "kept", entry("x"));
        server.stop();
        assertThat(cache.exact("acme", "kept")).isEmpty();
        cache.putExact("acme", "new", entry("y"));
        cache.remove("acme", "kept");
        assertThat(metrics.counter("keel.redis.failures", "operation", "cache_get").count()).isPositive();
        assertThat(metrics.counter("keel.redis.failures", "operation", "cache_put").count()).isPositive();
    }
}
