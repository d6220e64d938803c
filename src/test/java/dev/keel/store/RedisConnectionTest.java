package dev.keel.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.keel.config.RedisConfig;
import dev.keel.engines.Await;
import dev.keel.engines.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Keel's Redis connection against a real redis-server: waiting for one that is still starting, its eviction policy, and {@code keel_redis_up}. */
class RedisConnectionTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static RedisServer server;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeAll
    static void startRedis() {
        server = RedisServer.open();
    }

    @AfterAll
    static void stopRedis() {
        if (server != null) server.close();
    }

    @BeforeEach
    void captureLog() {
        log.start();
        ((Logger) LoggerFactory.getLogger(Redis.class)).addAppender(log);
    }

    @AfterEach
    void restoreRedis() {
        ((Logger) LoggerFactory.getLogger(Redis.class)).detachAppender(log);
        server.start();
        server.command("CLIENT", "UNPAUSE");
        server.command("CONFIG", "SET", "maxmemory-policy", Redis.NO_EVICTION);
    }

    private static RedisConfig config() {
        return new RedisConfig(server.url(), RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 300, 900);
    }

    private List<String> warnings() {
        return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aRedisThatStartsListeningAMomentAfterKeelIsWaitedFor() throws Exception {
        server.stop();
        CompletableFuture<Redis> opening = CompletableFuture.supplyAsync(() -> Redis.open(config(), new SimpleMeterRegistry()));
        Await.until(WAIT, "a first attempt that found no Redis", () -> log.list.stream().anyMatch(e -> e.getFormattedMessage().contains("not reachable yet")));
        server.start();
        try (Redis redis = opening.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            assertThat(redis.reachable()).isTrue();
        }
    }

    @Test
    void anEvictingPolicyIsWarnedAboutAtStartupAndShownInHealth() {
        server.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        try (Redis redis = Redis.open(config(), new SimpleMeterRegistry())) {
            assertThat(warnings()).singleElement().asString().contains("maxmemory-policy allkeys-lru").contains("budget")
                    .contains("set maxmemory-policy noeviction").contains("127.0.0.1:" + server.port());
            assertThat(redis.health()).containsEntry("status", "up").containsEntry("maxmemory_policy", "allkeys-lru")
                    .hasEntrySatisfying("warning", w -> assertThat(w.toString()).contains("overspend"));
            server.command("CONFIG", "SET", "maxmemory-policy", "volatile-ttl");
            assertThat(redis.health()).as("every policy but noeviction may drop keys with a TTL").containsKey("warning");
        }
    }

    @Test
    void noevictionIsHealthyAndQuiet() {
        try (Redis redis = Redis.open(config(), new SimpleMeterRegistry())) {
            assertThat(warnings()).isEmpty();
            assertThat(redis.health()).containsEntry("maxmemory_policy", "noeviction").doesNotContainKey("warning");
        }
    }

    @Test
    void aPolicyRedisWillNotTellIsUnknownWithoutAWarning() {
        assertThat(Redis.evicts(Redis.UNKNOWN_POLICY)).isFalse();
        assertThat(Redis.evicts(Redis.NO_EVICTION)).isFalse();
        assertThat(Redis.evicts("allkeys-lfu")).isTrue();
    }

    @Test
    void redisUpFallsWhileRedisStallsAndRisesWithTheNextAnswer() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Redis redis = Redis.open(config(), registry)) {
            assertThat(registry.get("keel.redis.up").gauge().value()).isEqualTo(1);
            server.command("CLIENT", "PAUSE", "1500", "ALL");
            assertThat(redis.reachable()).as("a PING times out while Redis is paused").isFalse();
            assertThat(registry.get("keel.redis.up").gauge().value()).as("the socket is still open, Redis does not answer").isZero();
            Await.until(WAIT, "Redis answering again", redis::reachable);
            assertThat(registry.get("keel.redis.up").gauge().value()).isEqualTo(1);
        }
    }
}
