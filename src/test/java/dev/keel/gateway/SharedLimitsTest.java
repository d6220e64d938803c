package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.keel.config.RedisConfig;
import dev.keel.engines.RedisServer;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.store.Database;
import dev.keel.store.Ledger;
import dev.keel.store.Redis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rate limits and budgets shared through one real Redis by several replicas, each a {@link Limits}
 * with its own connection: admission is atomic across them, reservations of a dead replica lapse,
 * spend starts from the ledger, and an unreachable Redis fails budgets closed and rate limits open.
 * A request here costs $0.00201 at worst, as in {@link BudgetCapsTest}.
 */
class SharedLimitsTest {
    private static final double WORST_USD = 0.00201;
    /** Fits three requests of {@link #WORST_USD} but not four. */
    private static final double BUDGET_FOR_THREE = 0.0065;
    private static RedisServer server;
    private static Database database;
    private static Ledger ledger;
    private final List<Redis> connections = new ArrayList<>();

    @BeforeAll
    static void startRedis() throws Exception {
        server = RedisServer.open();
        database = Database.open(Files.createTempDirectory("keel-shared-limits-"));
        ledger = new Ledger(database);
    }

    @AfterAll
    static void stopRedis() {
        if (ledger != null) ledger.close();
        if (database != null) database.close();
        if (server != null) server.close();
    }

    @AfterEach
    void closeConnectionsAndBringRedisBack() {
        connections.forEach(Redis::close);
        server.start();
    }

    private static RedisConfig config(RedisConfig.OnFailure budgets, RedisConfig.OnFailure rateLimits, int leaseSeconds) {
        return new RedisConfig(server.url(), budgets, rateLimits, 300, leaseSeconds);
    }

    /** A replica: its own connection and limits over the shared Redis, with the default policies. */
    private Limits replica() {
        return replica(config(RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 900), new SimpleMeterRegistry());
    }

    private Limits replica(RedisConfig config, SimpleMeterRegistry registry) {
        Redis redis = Redis.open(config, registry);
        connections.add(redis);
        return new Limits(LimitStore.redis(redis, config, ledger), registry, null);
    }

    private static ApiKey key(long rpm, long tpm, double daily, double monthly) {
        return new ApiKey("key_" + UUID.randomUUID().toString().replace("-", ""), "shared", "t", "sk-keel-x", List.of(), rpm, tpm, daily, monthly, 0,
                0, null, true, null, List.of());
    }

    private static void await(String what, BooleanSupplier condition) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(until);
            Thread.onSpinWait();
        }
    }

    private static boolean admits(Limits limits, ApiKey key) {
        try {
            limits.admit(key, 10, WORST_USD);
            return true;
        } catch (ApiException e) {
            return false;
        }
    }

    @Test
    void aDailyBudgetHoldsWhenConcurrentRequestsAreSpreadOverThreeReplicas() throws Exception {
        List<Limits> replicas = List.of(replica(), replica(), replica());
        ApiKey key = key(0, 0, BUDGET_FOR_THREE, 0);
        List<Limits.Permit> admitted = new CopyOnWriteArrayList<>();
        List<ApiException> refused = new CopyOnWriteArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                Limits limits = replicas.get(i % 3);
                all.add(pool.submit(() -> {
                    try {
                        admitted.add(limits.admit(key, 10, WORST_USD));
                    } catch (ApiException e) {
                        refused.add(e);
                    }
                }));
            }
            for (Future<?> f : all) f.get(30, TimeUnit.SECONDS);
        }
        assertThat(admitted).hasSize(3);
        assertThat(refused).hasSize(27).allSatisfy(e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.code()).isEqualTo("budget_exceeded");
            assertThat(e.getMessage()).contains("reserved by requests in progress");
            assertThat(e.retryAfterSeconds()).isEqualTo(1);
        });
        for (int i = 0; i < admitted.size(); i++) replicas.get(i).settle(admitted.get(i), 1009, WORST_USD);
        ApiException after = catchThrowableOfType(ApiException.class, () -> replicas.get(1).admit(key, 10, WORST_USD));
        assertThat(after.getMessage()).as("settled spend, not reservations, fills it now").contains("$0.00603 spent").contains("resets at");
        assertThat(after.retryAfterSeconds()).isGreaterThan(1);
    }

    @Test
    void requestsPerMinuteHoldAcrossReplicas() {
        List<Limits> replicas = List.of(replica(), replica(), replica());
        ApiKey key = key(5, 0, 0, 0);
        List<ApiException> refused = new ArrayList<>();
        int admitted = 0;
        for (int i = 0; i < 12; i++) {
            try {
                replicas.get(i % 3).admit(key, 10, 0);
                admitted++;
            } catch (ApiException e) {
                refused.add(e);
            }
        }
        assertThat(admitted).isEqualTo(5);
        assertThat(refused).hasSize(7).allSatisfy(e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.getMessage()).contains("5 requests per minute");
            assertThat(e.retryAfterSeconds()).isBetween(1L, 60L);
        });
    }

    @Test
    void unusedTokensReservedOnOneReplicaReturnToTheBucketForAnother() {
        Limits a = replica(), b = replica();
        ApiKey key = key(0, 1000, 0, 0);
        Limits.Permit first = a.admit(key, 800, 0);
        assertThatThrownBy(() -> b.admit(key, 800, 0)).isInstanceOf(ApiException.class).hasMessageContaining("tokens per minute");
        a.settle(first, 100, 0);
        b.admit(key, 800, 0);
        assertThatThrownBy(() -> b.admit(key, 1001, 0)).as("more than a whole minute's tokens never fits")
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo("request_exceeds_rate_limit"));
    }

    @Test
    void aReservationHeldByAReplicaThatDiedLapsesAfterItsLease() {
        RedisConfig shortLease = config(RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 1);
        Limits dying = replica(shortLease, new SimpleMeterRegistry()), survivor = replica(shortLease, new SimpleMeterRegistry());
        ApiKey key = key(0, 0, 0.003, 0);
        dying.admit(key, 10, WORST_USD);
        connections.remove(0).close(); // the replica is gone without settling
        assertThatThrownBy(() -> survivor.admit(key, 10, WORST_USD)).hasMessageContaining("reserved by requests in progress");
        await("the lease to lapse", () -> admits(survivor, key));
    }

    @Test
    void aSettleThatCannotReachRedisDoesNotFailTheRequestAndItsReservationLapses() {
        RedisConfig shortLease = config(RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 1);
        Limits cutOff = replica(shortLease, new SimpleMeterRegistry()), other = replica(shortLease, new SimpleMeterRegistry());
        ApiKey key = key(0, 1000, 0.003, 0);
        Limits.Permit permit = cutOff.admit(key, 500, WORST_USD);
        connections.remove(0).close(); // this replica loses Redis mid-request
        cutOff.settle(permit, 20, 0.0001);
        assertThat(admits(other, key)).as("still reserved").isFalse();
        await("the lease to lapse", () -> admits(other, key));
    }

    @Test
    void anExtraReservationOnOneReplicaCountsWhatAnotherHolds() {
        Limits a = replica(), b = replica();
        ApiKey key = key(0, 0, 0.005, 0);
        Limits.Permit first = a.admit(key, 10, WORST_USD);
        Limits.Permit second = b.admit(key, 10, WORST_USD);
        ApiException e = catchThrowableOfType(ApiException.class, () -> a.extend(first, WORST_USD));
        assertThat(e.code()).isEqualTo("budget_exceeded");
        assertThat(e.getMessage()).contains("$0.00402 reserved by requests in progress");
        b.settle(second, 10, 0);
        a.extend(first, WORST_USD);
        assertThat(admits(b, key)).as("the first request now holds $0.00402 of $0.005").isFalse();
    }

    @Test
    void spendSoFarStartsFromTheLedgerWhenRedisHasNoFigureForThePeriod() {
        ApiKey key = key(0, 0, BUDGET_FOR_THREE, 0);
        ledger.record(new Ledger.Entry(System.currentTimeMillis(), key.id(), "t", "fast", "primary", "upstream", 9, 1000, 0, 0.005, false, true, 1,
                null, 200, "trace", Ledger.Tags.NONE));
        ApiException e = catchThrowableOfType(ApiException.class, () -> replica().admit(key, 10, WORST_USD));
        assertThat(e.getMessage()).contains("$0.005 spent");
    }

    @Test
    void periodSpendExpiresWhenItsPeriodEnds() {
        Limits limits = replica();
        ApiKey key = key(0, 0, 1, 1);
        limits.settle(limits.admit(key, 10, WORST_USD), 10, WORST_USD);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        long dayLeft = Long.parseLong(server.command("PTTL", "keel:{" + key.id() + "}:spent:day:" + today).substring(1));
        long monthLeft = Long.parseLong(server.command("PTTL", "keel:{" + key.id() + "}:spent:month:" + today.toString().substring(0, 7)).substring(1));
        long toMidnight = today.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli() - System.currentTimeMillis();
        long slack = 1000; // the test reads Redis's clock and then its own
        assertThat(dayLeft).as("until midnight UTC plus an hour's grace for replicas' clocks")
                .isBetween(toMidnight - slack, toMidnight + 3_600_000 + slack);
        assertThat(monthLeft).as("the month ends with the day or later (on a month's last day, the same midnight: read a moment later)").isGreaterThanOrEqualTo(dayLeft - slack).isLessThanOrEqualTo(31L * 24 * 3_600_000 + 3_600_000);
        assertThat(server.command("EXISTS", "keel:{" + key.id() + "}:held")).as("no reservation left").isEqualTo(":0");
    }

    @Test
    void theEightyPercentWarningFiresOncePerPeriodWhicheverReplicaCrossesIt() {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        RedisConfig config = config(RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 900);
        Limits a = replica(config, metrics), b = replica(config, metrics);
        ApiKey key = key(0, 0, 0.005, 0);
        a.settle(a.admit(key, 10, WORST_USD), 10, WORST_USD);
        b.settle(b.admit(key, 10, WORST_USD), 10, WORST_USD);
        a.settle(a.admit(key, 10, 0.0005), 10, 0.0005);
        assertThat(metrics.counter("keel.budget.warnings", "period", "daily").count()).isEqualTo(1);
    }

    @Test
    void whileRedisIsDownBudgetsFailClosedAndRateLimitsOpenThenRecoverWithoutRestart() {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        Limits limits = replica(config(RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 900), metrics);
        ApiKey budgeted = key(0, 0, 1, 0), rated = key(1, 0, 0, 0);
        server.stop();
        ApiException e = catchThrowableOfType(ApiException.class, () -> limits.admit(budgeted, 10, WORST_USD));
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.code()).isEqualTo("limits_unavailable");
        assertThat(e.getMessage()).contains("budgets").doesNotContain(server.url());
        assertThat(e.retryAfterSeconds()).isPositive();
        assertThat(admits(limits, rated) && admits(limits, rated)).as("rate limits fail open: both pass a limit of 1/min").isTrue();
        assertThat(metrics.counter("keel.redis.failures", "operation", "admit").count()).isGreaterThanOrEqualTo(3);
        await("the connection to be seen down", () -> metrics.get("keel.redis.up").gauge().value() == 0);
        server.start();
        await("admission through Redis again", () -> admits(limits, budgeted));
        assertThat(metrics.get("keel.redis.up").gauge().value()).isEqualTo(1);
        assertThat(admits(limits, rated)).as("a fresh bucket").isTrue();
        assertThat(admits(limits, rated)).as("the limit holds again").isFalse();
    }

    @Test
    void thePoliciesCanBeTurnedAround() {
        Limits limits = replica(config(RedisConfig.OnFailure.OPEN, RedisConfig.OnFailure.CLOSED, 900), new SimpleMeterRegistry());
        server.stop();
        assertThat(admits(limits, key(0, 0, 1, 0))).as("budgets open").isTrue();
        ApiException e = catchThrowableOfType(ApiException.class, () -> limits.admit(key(10, 0, 0, 0), 10, 0));
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.getMessage()).contains("rate limits");
    }

    @Test
    void aRedisThatStopsAnsweringFailsWithinTheTimeoutInsteadOfHoldingTheRequest() throws Exception {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        Limits limits = replica(config(RedisConfig.OnFailure.CLOSED, RedisConfig.OnFailure.OPEN, 900), metrics);
        ApiKey key = key(0, 0, 1, 0);
        assertThat(admits(limits, key)).isTrue();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> sleeping = pool.submit(() -> server.command("DEBUG", "SLEEP", "5"));
            await("Redis to hang", () -> server.command("PING").startsWith("-"));
            long start = System.nanoTime();
            ApiException e = catchThrowableOfType(ApiException.class, () -> limits.admit(key, 10, WORST_USD));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(e.status()).isEqualTo(503);
            assertThat(tookMillis).as("timeout_ms is 300").isLessThan(2500);
            sleeping.get(15, TimeUnit.SECONDS);
        }
    }
}
