package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.keel.config.CacheConfig;
import dev.keel.config.RedisConfig;
import dev.keel.engines.Await;
import dev.keel.engines.RedisServer;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.store.Database;
import dev.keel.store.Ledger;
import dev.keel.store.Redis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What an attacker found in the shared limits, against a real redis-server: a cache that fills Redis
 * must not cost the limit keys (under {@code noeviction} the budget holds and cache stores fail
 * harmlessly), a reservation gone from Redis is counted when its request settles, admissions that timed
 * out but ran later hold nothing, and a Redis that is away does not flood the log with one warning per
 * admitted request. A request costs $0.00201 at worst.
 */
class RedisLimitsSafetyTest {
    private static final double WORST_USD = 0.00201;
    /** Fits three requests of {@link #WORST_USD} but not four. */
    private static final double BUDGET_FOR_THREE = 0.0065;
    /** Room above what Redis uses, as in the attack: a few hundred 1 KB cache entries fill it. */
    private static final long HEADROOM_BYTES = 300_000;
    private static final int CACHE_ENTRIES = 6_000;
    /** Longer than four admissions timing out after 300 ms each. */
    private static final long PAUSE_MILLIS = 2_500;
    private static RedisServer server;
    private static Database database;
    private static Ledger ledger;
    private final List<Redis> connections = new ArrayList<>();
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private SimpleMeterRegistry registry;
    private Redis redis;
    private Limits limits;

    @BeforeAll
    static void startRedis() throws Exception {
        server = RedisServer.open();
        database = Database.open(Files.createTempDirectory("keel-limits-safety-"));
        ledger = new Ledger(database);
    }

    @AfterAll
    static void stopRedis() {
        if (ledger != null) ledger.close();
        if (database != null) database.close();
        if (server != null) server.close();
    }

    @BeforeEach
    void replica() {
        server.start();
        registry = new SimpleMeterRegistry();
        RedisConfig config = new RedisConfig(server.url(), RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 300, 900);
        redis = Redis.open(config, registry);
        connections.add(redis);
        limits = new Limits(LimitStore.redis(redis, config, ledger), registry, null);
        log.start();
        ((Logger) LoggerFactory.getLogger(RedisLimits.class)).addAppender(log);
    }

    @AfterEach
    void restore() {
        ((Logger) LoggerFactory.getLogger(RedisLimits.class)).detachAppender(log);
        connections.forEach(Redis::close);
        server.start();
        server.command("CLIENT", "UNPAUSE");
        server.command("CONFIG", "SET", "maxmemory", "0");
        server.command("CONFIG", "SET", "maxmemory-policy", Redis.NO_EVICTION);
    }

    private static ApiKey key(long rpm, double daily) {
        return new ApiKey("key_" + UUID.randomUUID().toString().replace("-", ""), "safety", "t", "sk-keel-x", List.of(), rpm, 0, daily, 0, 0, 0, null,
                true, null, List.of());
    }

    private static long usedMemory() {
        String reply = server.command("EVAL", "\"return tonumber(string.match(redis.call('INFO','memory'),'used_memory:(%d+)'))\"", "0");
        return Long.parseLong(reply.substring(1));
    }

    private List<String> warnings() {
        return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void underNoevictionTheBudgetHoldsWhileTheCacheFillsRedisAndCacheStoresFailHarmlessly() {
        ApiKey key = key(0, BUDGET_FOR_THREE);
        List<Limits.Permit> inFlight = List.of(limits.admit(key, 10, WORST_USD), limits.admit(key, 10, WORST_USD), limits.admit(key, 10, WORST_USD));
        server.command("CONFIG", "SET", "maxmemory", Long.toString(usedMemory() + HEADROOM_BYTES));
        RedisResponseCache cache = new RedisResponseCache(redis, CacheConfig.DEFAULTS, new CaffeineResponseCache(CacheConfig.DEFAULTS));
        ResponseCache.Entry kilobyte = new ResponseCache.Entry(new byte[1_000], 0.001, List.of(), WordOrder.NONE);
        for (int i = 0; i < CACHE_ENTRIES; i++) cache.putExact("attacker", "q" + i, kilobyte);

        assertThat(registry.get("keel.redis.failures").tag("operation", "cache_put").counter().count()).as("Redis filled up").isPositive();
        assertThat(server.command("HLEN", "keel:{" + key.id() + "}:held-usd")).as("the three reservations are still there").isEqualTo(":3");
        for (int i = 0; i < 3; i++) {
            ApiException refused = catchThrowableOfType(ApiException.class, () -> limits.admit(key, 10, WORST_USD));
            assertThat(refused).as("a fourth request while three are in flight").isNotNull();
            assertThat(refused.status()).isIn(429, 503);
        }
        inFlight.forEach(p -> limits.settle(p, 1009, WORST_USD));
        assertThat(registry.find("keel.redis.lost.reservations").counter().count()).isZero();
    }

    @Test
    void aReservationThatVanishedFromRedisIsCountedAndWarnedAboutWhenItsRequestSettles() {
        ApiKey key = key(0, BUDGET_FOR_THREE);
        Limits.Permit permit = limits.admit(key, 10, WORST_USD);
        server.command("DEL", "keel:{" + key.id() + "}:held-usd", "keel:{" + key.id() + "}:held"); // what an evicting policy does under pressure
        limits.settle(permit, 1009, WORST_USD);
        assertThat(registry.get("keel.redis.lost.reservations").counter().count()).isEqualTo(1);
        assertThat(warnings()).singleElement().asString().contains("no longer in Redis").contains(key.id()).contains("maxmemory-policy");
    }

    @Test
    void aSettleThatFindsItsReservationCountsNothing() {
        ApiKey key = key(0, BUDGET_FOR_THREE);
        limits.settle(limits.admit(key, 10, WORST_USD), 1009, WORST_USD);
        assertThat(registry.get("keel.redis.lost.reservations").counter().count()).isZero();
        assertThat(warnings()).isEmpty();
    }

    @Test
    void admissionsThatTimedOutWhileRedisWasPausedHoldNothingOnceItAnswersAgain() {
        ApiKey key = key(4, BUDGET_FOR_THREE + WORST_USD);
        limits.settle(limits.admit(key, 10, WORST_USD), 10, 0); // the period's spend is in Redis, as on a key in use
        server.command("CLIENT", "PAUSE", Long.toString(PAUSE_MILLIS), "ALL");
        for (int i = 0; i < 4; i++) {
            ApiException refused = catchThrowableOfType(ApiException.class, () -> limits.admit(key, 10, WORST_USD));
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.code()).isEqualTo("limits_unavailable");
        }
        Await.until(Duration.ofSeconds(15), "the queued admissions to run and be released",
                () -> registry.get("keel.redis.pending.releases").gauge().value() == 0);
        assertThat(server.command("HLEN", "keel:{" + key.id() + "}:held-usd")).isEqualTo(":0");
        for (int i = 0; i < 3; i++) {
            assertThat(limits.admit(key, 10, WORST_USD)).as("neither budget nor requests per minute are held by refused requests").isNotNull();
        }
    }

    @Test
    void aRedisThatLostItsDataGetsThisReplicasRequestsInFlightBackBeforeSpendIsSeeded() {
        ApiKey key = key(0, BUDGET_FOR_THREE);
        List<Limits.Permit> inFlight = List.of(limits.admit(key, 10, WORST_USD), limits.admit(key, 10, WORST_USD), limits.admit(key, 10, WORST_USD));
        server.command("FLUSHALL");
        ApiException refused = catchThrowableOfType(ApiException.class, () -> limits.admit(key, 10, WORST_USD));
        assertThat(refused).as("the ledger cannot see three requests in flight; this replica still knows them").isNotNull();
        assertThat(refused.code()).isEqualTo("budget_exceeded");
        inFlight.forEach(p -> limits.settle(p, 1009, WORST_USD));
        assertThat(server.command("HLEN", "keel:{" + key.id() + "}:held-usd")).isEqualTo(":0");
    }

    @Test
    void failOpenAdmissionsWhileRedisIsAwayLogOneWarningNotOnePerRequest() {
        ApiKey key = key(1_000, 0);
        server.stop();
        for (int i = 0; i < 50; i++) limits.settle(limits.admit(key, 10, WORST_USD), 1009, WORST_USD);
        assertThat(warnings().stream().filter(w -> w.contains("admitting requests unchecked"))).singleElement().asString().contains(key.id())
                .contains("1 time(s)");
    }
}
