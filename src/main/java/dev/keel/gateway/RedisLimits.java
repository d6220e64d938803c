package dev.keel.gateway;

import dev.keel.config.RedisConfig;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.store.Ledger;
import dev.keel.store.Redis;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link LimitStore} shared by replicas: each key's buckets, spend per period and reservations
 * are Redis keys under {@code keel:{keyId}:} (one hash slot), and admit, extend and settle are each
 * one Lua script, so concurrent requests on any replicas are admitted one at a time against the same
 * figures. Buckets refill continuously on Redis's clock; period spend keys expire when their period
 * ends (plus {@link #PERIOD_GRACE_MILLIS}); a reservation is a lease that lapses after
 * {@code redis.reservation_lease_seconds}, so a replica that dies mid-request cannot hold a budget
 * forever. When Redis fails or times out, a key whose limits the policy keeps closed is refused with
 * 503 {@code limits_unavailable}; otherwise the request is admitted unchecked, with a warning logged at
 * most once per {@link #WARNING_INTERVAL}. A reservation no longer in Redis when its request settles
 * (evicted, lapsed, lost) is counted in {@code keel_redis_lost_reservations_total}. A reservation whose
 * admit, extend or settle failed here (a timeout does not stop the script in Redis) is released by its id
 * once Redis answers again, off the request path. When Redis has lost a period's spend, the replica that
 * seeds it from the ledger first puts back its own reservations in flight (the ledger cannot see them). The release thread is a daemon (virtual) that idles on
 * an empty queue.
 */
final class RedisLimits implements LimitStore {
    private static final Logger LOG = LoggerFactory.getLogger(RedisLimits.class);
    /** Replicas name periods by their own clocks: a replica a little behind still finds the period it names. */
    private static final long PERIOD_GRACE_MILLIS = 3_600_000;
    /** A bucket untouched this long has refilled completely, so its key can go. */
    private static final long BUCKET_IDLE_MILLIS = 120_000;
    /** Seconds a client refused for an unreachable Redis should wait: reconnection takes about one. */
    private static final long UNAVAILABLE_RETRY_SECONDS = 2;
    private static final String SEED = "seed";
    /** A Redis failing under load would log once per request: once per this interval is enough to see it. */
    private static final Duration WARNING_INTERVAL = Duration.ofSeconds(10);

    /** Refills a bucket {capacity per minute} to now on Redis's clock; returns tokens and the time. */
    private static final String BUCKET = """
            local function now_ms()
              local t = redis.call('TIME')
              return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            end
            local function level(key, cap, now)
              local v = redis.call('HMGET', key, 't', 'ts')
              local tokens, ts = tonumber(v[1]), tonumber(v[2])
              if tokens == nil or ts == nil then return cap end
              return math.min(cap, tokens + math.max(0, now - ts) * cap / 60000)
            end
            local function store_level(key, tokens, now, idle)
              redis.call('HSET', key, 't', string.format('%.17g', tokens), 'ts', now)
              redis.call('PEXPIRE', key, idle)
            end
            -- Seeds absent period keys from the caller's ledger figures, or asks for them.
            local function seeded(day, month, day_seed, month_seed, day_end, month_end)
              if redis.call('EXISTS', day) == 1 and redis.call('EXISTS', month) == 1 then return true end
              if day_seed == '' then return false end
              redis.call('SET', day, day_seed, 'PXAT', day_end, 'NX')
              redis.call('SET', month, month_seed, 'PXAT', month_end, 'NX')
              return true
            end
            -- Drops lapsed leases; returns the USD the live ones hold.
            local function held(zset, hash, now)
              local lapsed = redis.call('ZRANGEBYSCORE', zset, '-inf', now)
              for _, id in ipairs(lapsed) do redis.call('HDEL', hash, id) end
              if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', zset, '-inf', now) end
              local sum = 0
              for _, v in ipairs(redis.call('HVALS', hash)) do sum = sum + tonumber(v) end
              return sum
            end
            local function over(budget, spent, reserved, usd, tol)
              return budget > 0 and spent + reserved + usd > budget + tol
            end
            """;

    /**
     * KEYS: rpm, tpm, day, month, held (zset of leases), held-usd (hash). ARGV: permit, rpm cap, tpm cap,
     * tokens, usd, daily, monthly, lease ms, day end, month end, day seed, month seed, tolerance, bucket idle.
     * Replies {ok} | {seed} | {rpm, wait ms} | {tpm, wait ms} | {budget, period, spent, reserved}.
     */
    private static final Redis.Script ADMIT = new Redis.Script(BUCKET + """
            local rpm_cap, tpm_cap, n, usd = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
            local daily, monthly, tol = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[13])
            local budgeted = daily > 0 or monthly > 0
            if budgeted and not seeded(KEYS[3], KEYS[4], ARGV[11], ARGV[12], ARGV[9], ARGV[10]) then return {'seed'} end
            local now = now_ms()
            local rpm, tpm
            if rpm_cap > 0 then
              rpm = level(KEYS[1], rpm_cap, now)
              if rpm < 1 then return {'rpm', tostring(math.ceil((1 - rpm) * 60000 / rpm_cap))} end
            end
            if tpm_cap > 0 then
              tpm = level(KEYS[2], tpm_cap, now)
              if tpm < n then return {'tpm', tostring(math.ceil((n - tpm) * 60000 / tpm_cap))} end
            end
            if budgeted then
              local reserved = held(KEYS[5], KEYS[6], now)
              local day, month = tonumber(redis.call('GET', KEYS[3]) or '0'), tonumber(redis.call('GET', KEYS[4]) or '0')
              if over(daily, day, reserved, usd, tol) then return {'budget', 'daily', tostring(day), tostring(reserved)} end
              if over(monthly, month, reserved, usd, tol) then return {'budget', 'monthly', tostring(month), tostring(reserved)} end
              redis.call('HSET', KEYS[6], ARGV[1], tostring(usd))
              redis.call('ZADD', KEYS[5], now + tonumber(ARGV[8]), ARGV[1])
              redis.call('PEXPIRE', KEYS[5], ARGV[8])
              redis.call('PEXPIRE', KEYS[6], ARGV[8])
            end
            if rpm_cap > 0 then store_level(KEYS[1], rpm - 1, now, ARGV[14]) end
            if tpm_cap > 0 then store_level(KEYS[2], tpm - n, now, ARGV[14]) end
            return {'ok'}
            """);

    /** KEYS: day, month, held, held-usd. ARGV: permit, usd, daily, monthly, lease ms, day end, month end, day seed, month seed, tolerance. */
    private static final Redis.Script EXTEND = new Redis.Script(BUCKET + """
            local usd, daily, monthly, tol = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[10])
            if not seeded(KEYS[1], KEYS[2], ARGV[8], ARGV[9], ARGV[6], ARGV[7]) then return {'seed'} end
            local now = now_ms()
            local reserved = held(KEYS[3], KEYS[4], now)
            local day, month = tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[2]) or '0')
            if over(daily, day, reserved, usd, tol) then return {'budget', 'daily', tostring(day), tostring(reserved)} end
            if over(monthly, month, reserved, usd, tol) then return {'budget', 'monthly', tostring(month), tostring(reserved)} end
            redis.call('HINCRBYFLOAT', KEYS[4], ARGV[1], ARGV[2])
            redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]), ARGV[1])
            redis.call('PEXPIRE', KEYS[3], ARGV[5])
            redis.call('PEXPIRE', KEYS[4], ARGV[5])
            return {'ok'}
            """);

    /**
     * KEYS: tpm, day, month, held, held-usd, warned-day, warned-month. ARGV: permit, tpm cap, reserved
     * tokens, actual tokens, cost, daily, monthly, day end, month end, day seed, month seed, bucket idle, warning share.
     * Replies {seed} | {ok, day crossed 0/1, day spent, month crossed 0/1, month spent, reservation found 0/1}.
     */
    private static final Redis.Script SETTLE = new Redis.Script(BUCKET + """
            local tpm_cap, daily, monthly = tonumber(ARGV[2]), tonumber(ARGV[6]), tonumber(ARGV[7])
            local budgeted = daily > 0 or monthly > 0
            if budgeted and not seeded(KEYS[2], KEYS[3], ARGV[10], ARGV[11], ARGV[8], ARGV[9]) then return {'seed'} end
            local now = now_ms()
            if tpm_cap > 0 then
              local unused = tonumber(ARGV[3]) - tonumber(ARGV[4])
              local tokens = level(KEYS[1], tpm_cap, now) + unused
              if unused > 0 then tokens = math.min(tpm_cap, tokens) end
              store_level(KEYS[1], tokens, now, ARGV[12])
            end
            if not budgeted then return {'ok', 0, '0', 0, '0', 1} end
            local found = redis.call('HDEL', KEYS[5], ARGV[1])
            redis.call('ZREM', KEYS[4], ARGV[1])
            local day = tonumber(redis.call('INCRBYFLOAT', KEYS[2], ARGV[5]))
            local month = tonumber(redis.call('INCRBYFLOAT', KEYS[3], ARGV[5]))
            local day_crossed, month_crossed = 0, 0
            local share = tonumber(ARGV[13])
            if daily > 0 and day >= share * daily and redis.call('SET', KEYS[6], '1', 'PXAT', ARGV[8], 'NX') then day_crossed = 1 end
            if monthly > 0 and month >= share * monthly and redis.call('SET', KEYS[7], '1', 'PXAT', ARGV[9], 'NX') then month_crossed = 1 end
            return {'ok', day_crossed, tostring(day), month_crossed, tostring(month), found}
            """);

    /**
     * KEYS: rpm, tpm, held, held-usd. ARGV: permit, rpm cap, tpm cap, tokens, refund 0/1, bucket idle.
     * Drops the permit's reservation; when it was there and {@code refund} is 1, gives back the tokens the
     * admission took with it. Idempotent: a no-op when the admission never ran. Replies 1 if it found one.
     */
    private static final Redis.Script RELEASE = new Redis.Script(BUCKET + """
            local found = redis.call('HDEL', KEYS[4], ARGV[1])
            redis.call('ZREM', KEYS[3], ARGV[1])
            if found == 1 and ARGV[5] == '1' then
              local rpm_cap, tpm_cap, now = tonumber(ARGV[2]), tonumber(ARGV[3]), now_ms()
              if rpm_cap > 0 then store_level(KEYS[1], math.min(rpm_cap, level(KEYS[1], rpm_cap, now) + 1), now, ARGV[6]) end
              if tpm_cap > 0 then store_level(KEYS[2], math.min(tpm_cap, level(KEYS[2], tpm_cap, now) + tonumber(ARGV[4])), now, ARGV[6]) end
            end
            return {found}
            """);
    /**
     * KEYS: held, held-usd. ARGV: lease ms, then permit and USD pairs. Puts back this replica's live
     * reservations that Redis no longer has (it lost its data); one it still has is left as it is.
     */
    private static final Redis.Script RESTORE = new Redis.Script(BUCKET + """
            local now, lease = now_ms(), tonumber(ARGV[1])
            for i = 2, #ARGV, 2 do
              if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then redis.call('ZADD', KEYS[1], now + lease, ARGV[i]) end
            end
            redis.call('PEXPIRE', KEYS[1], lease)
            redis.call('PEXPIRE', KEYS[2], lease)
            return {'ok'}
            """);
    /** Releases waiting for Redis beyond this are dropped: their leases free them anyway, and memory stays bounded. */
    private static final int MAX_PENDING_RELEASES = 10_000;
    /** Between attempts at a release while Redis does not answer: about its reconnection delay. */
    private static final Duration RELEASE_RETRY = Duration.ofMillis(250);

    /**
     * A reservation to drop once Redis answers again: its admit, extend or settle failed on this side,
     * but the script may still run (a call that timed out is not cancelled in Redis).
     */
    private record Release(ApiKey key, String permitId, long tokens, boolean refund, long untilMillis) {}

    private final Redis redis;
    private final RedisConfig config;
    private final BlockingQueue<Release> releases = new LinkedBlockingQueue<>(MAX_PENDING_RELEASES);
    private final AtomicBoolean releasing = new AtomicBoolean();
    /** This replica's admitted, unsettled reservations by permit: the key's id, USD held, and when its lease ends. */
    private final Map<String, InFlight> inFlight = new ConcurrentHashMap<>();

    private record InFlight(String keyId, double usd, long untilMillis) {}
    /** Queued releases and the one being tried: {@code keel_redis_pending_releases}. */
    private final AtomicInteger pendingReleases = new AtomicInteger();
    private final Ledger ledger;
    private final Counter lostReservations;
    private final ThrottledWarning uncheckedWarning = new ThrottledWarning(LOG, "admitting requests unchecked (last: key {}): {}", WARNING_INTERVAL);
    private final ThrottledWarning unsettledWarning = new ThrottledWarning(LOG, "could not settle requests in Redis (last: key {}): {}", WARNING_INTERVAL);
    private final ThrottledWarning lostWarning = new ThrottledWarning(LOG, "a settled request's budget reservation was no longer in Redis"
            + " (last: key {}): its lease lapsed, Redis evicted it (maxmemory-policy) or lost its data, or it was admitted unchecked", WARNING_INTERVAL);

    RedisLimits(Redis redis, RedisConfig config, Ledger ledger) {
        this.redis = redis;
        this.config = config;
        this.ledger = ledger;
        this.lostReservations = Counter.builder("keel.redis.lost.reservations")
                .description("Budget reservations missing from Redis when their request settled (lease lapsed, evicted, data lost, admitted unchecked)")
                .register(redis.registry());
        Gauge.builder("keel.redis.pending.releases", pendingReleases, AtomicInteger::get)
                .description("Reservations whose Redis call failed here, waiting for Redis to answer to be released").register(redis.registry());
    }

    /** The keys and period figures of one key on one day. */
    private record Period(ApiKey key, LocalDate today) {
        static Period now(ApiKey key) {
            return new Period(key, LocalDate.now(ZoneOffset.UTC));
        }

        String prefix() {
            return "keel:{" + key.id() + "}:";
        }

        String day() {
            return prefix() + "spent:day:" + today;
        }

        String month() {
            return prefix() + "spent:month:" + yearMonth();
        }

        String warnedDay() {
            return prefix() + "warned:day:" + today;
        }

        String warnedMonth() {
            return prefix() + "warned:month:" + yearMonth();
        }

        private String yearMonth() {
            return today.toString().substring(0, 7);
        }

        String end(String period) {
            return Long.toString(Limits.periodEnd(period, today).toEpochMilli() + PERIOD_GRACE_MILLIS);
        }
    }

    @Override
    public long admit(ApiKey key, String permitId, long worstTokens, double worstUsd) {
        boolean rated = key.requestsPerMinute() > 0 || key.tokensPerMinute() > 0;
        if (!rated && !budgeted(key)) return 0;
        if (key.tokensPerMinute() > 0 && worstTokens > key.tokensPerMinute()) throw Limits.overTokensPerMinute(key, worstTokens);
        Period p = Period.now(key);
        // A request that could pass a whole budget never fits: refused without touching Redis (no figures needed).
        Limits.checkBudget(key.dailyBudgetUsd(), 0, 0, worstUsd, Limits.DAILY, p.today);
        Limits.checkBudget(key.monthlyBudgetUsd(), 0, 0, worstUsd, Limits.MONTHLY, p.today);
        long tokens = key.tokensPerMinute() > 0 ? worstTokens : 0;
        List<Object> reply;
        try {
            reply = seeded("admit", ADMIT, p, List.of(p.prefix() + "rpm", p.prefix() + "tpm", p.day(), p.month(), p.prefix() + "held",
                    p.prefix() + "held-usd"), seeds -> {
                List<String> args = new ArrayList<>(List.of(permitId, Long.toString(key.requestsPerMinute()), Long.toString(key.tokensPerMinute()),
                        Long.toString(tokens), number(worstUsd), number(key.dailyBudgetUsd()), number(key.monthlyBudgetUsd()), leaseMillis(),
                        p.end(Limits.DAILY), p.end(Limits.MONTHLY)));
                args.addAll(seeds);
                args.addAll(List.of(number(Limits.USD_TOLERANCE), Long.toString(BUCKET_IDLE_MILLIS)));
                return args;
            });
        } catch (Redis.RedisUnavailableException e) {
            boolean closed = budgeted(key) && config.budgets() == RedisConfig.OnFailure.CLOSED
                    || rated && config.rateLimits() == RedisConfig.OnFailure.CLOSED;
            if (closed) {
                releaseLater(key, permitId, tokens, true);
                throw unavailable(key);
            }
            uncheckedWarning.warn(key.id(), e.getMessage());
            return 0;
        }
        switch ((String) reply.get(0)) {
            case "ok" -> {
                if (budgeted(key)) inFlight.put(permitId, new InFlight(key.id(), worstUsd, leaseEnd()));
                return tokens;
            }
            case "rpm" -> throw Limits.rateLimited("requests per minute", key.requestsPerMinute(), millis(reply.get(1)) * 1_000_000);
            case "tpm" -> throw Limits.rateLimited("tokens per minute", key.tokensPerMinute(), millis(reply.get(1)) * 1_000_000);
            default -> throw budgetRefusal(key, p, reply, worstUsd);
        }
    }

    @Override
    public void extend(ApiKey key, String permitId, double moreUsd) {
        if (!budgeted(key)) return;
        Period p = Period.now(key);
        List<Object> reply;
        try {
            reply = seeded("extend", EXTEND, p, List.of(p.day(), p.month(), p.prefix() + "held", p.prefix() + "held-usd"), seeds -> {
                List<String> args = new ArrayList<>(List.of(permitId, number(moreUsd), number(key.dailyBudgetUsd()), number(key.monthlyBudgetUsd()),
                        leaseMillis(), p.end(Limits.DAILY), p.end(Limits.MONTHLY)));
                args.addAll(seeds);
                args.add(number(Limits.USD_TOLERANCE));
                return args;
            });
        } catch (Redis.RedisUnavailableException e) {
            if (config.budgets() == RedisConfig.OnFailure.CLOSED) {
                releaseLater(key, permitId, 0, false);
                throw unavailable(key);
            }
            uncheckedWarning.warn(key.id(), e.getMessage());
            return;
        }
        if (!"ok".equals(reply.get(0))) throw budgetRefusal(key, p, reply, moreUsd);
        inFlight.computeIfPresent(permitId, (id, f) -> new InFlight(f.keyId(), f.usd() + moreUsd, leaseEnd()));
    }

    @Override
    public List<Crossing> settle(ApiKey key, String permitId, long reservedTokens, long actualTokens, double reservedUsd, double costUsd) {
        inFlight.remove(permitId);
        if (key.tokensPerMinute() <= 0 && !budgeted(key)) return List.of();
        Period p = Period.now(key);
        List<Object> reply;
        try {
            reply = seeded("settle", SETTLE, p, List.of(p.prefix() + "tpm", p.day(), p.month(), p.prefix() + "held", p.prefix() + "held-usd",
                    p.warnedDay(), p.warnedMonth()), seeds -> {
                List<String> args = new ArrayList<>(List.of(permitId, Long.toString(key.tokensPerMinute()), Long.toString(reservedTokens),
                        Long.toString(actualTokens), number(costUsd), number(key.dailyBudgetUsd()), number(key.monthlyBudgetUsd()),
                        p.end(Limits.DAILY), p.end(Limits.MONTHLY)));
                args.addAll(seeds);
                args.addAll(List.of(Long.toString(BUCKET_IDLE_MILLIS), number(Limits.WARNING_SHARE)));
                return args;
            });
        } catch (Redis.RedisUnavailableException e) {
            // The ledger has the cost; the reservation lapses with its lease.
            unsettledWarning.warn(key.id(), e.getMessage());
            if (budgeted(key)) releaseLater(key, permitId, 0, false);
            return List.of();
        }
        if (((Long) reply.get(5)) == 0) {
            lostReservations.increment();
            lostWarning.warn(key.id());
        }
        List<Crossing> crossed = new ArrayList<>(2);
        if (((Long) reply.get(1)) == 1) crossed.add(new Crossing(Limits.DAILY, Double.parseDouble((String) reply.get(2)), key.dailyBudgetUsd()));
        if (((Long) reply.get(3)) == 1) crossed.add(new Crossing(Limits.MONTHLY, Double.parseDouble((String) reply.get(4)), key.monthlyBudgetUsd()));
        return crossed;
    }

    /**
     * Queues the release of a reservation whose call failed here, to run on a background thread once
     * Redis answers (never on the request path); tokens are refunded only for a refused admission that
     * Redis ran after all. Only budgeted keys leave a trace to release by: the tokens a timed-out
     * admission of an unbudgeted key took come back as its bucket refills, within a minute.
     */
    private void releaseLater(ApiKey key, String permitId, long tokens, boolean refund) {
        if (!budgeted(key)) return;
        pendingReleases.incrementAndGet();
        if (!releases.offer(new Release(key, permitId, tokens, refund, leaseEnd()))) {
            pendingReleases.decrementAndGet();
            return;
        }
        if (releasing.compareAndSet(false, true)) Thread.ofVirtual().name("keel-redis-releases").start(this::releaseWhenRedisAnswers);
    }

    private void releaseWhenRedisAnswers() {
        try {
            while (true) {
                Release r = releases.take();
                while (System.currentTimeMillis() < r.untilMillis() && !released(r)) LockSupport.parkNanos(RELEASE_RETRY.toNanos());
                pendingReleases.decrementAndGet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean released(Release r) {
        String prefix = Period.now(r.key()).prefix();
        try {
            redis.script("release", RELEASE, List.of(prefix + "rpm", prefix + "tpm", prefix + "held", prefix + "held-usd"),
                    List.of(r.permitId(), Long.toString(r.key().requestsPerMinute()), Long.toString(r.key().tokensPerMinute()), Long.toString(r.tokens()),
                            r.refund() ? "1" : "0", Long.toString(BUCKET_IDLE_MILLIS)));
            return true;
        } catch (Redis.RedisUnavailableException e) {
            return false;
        }
    }

    /**
     * Runs a script without seeds first; when Redis has no figure for the period it asks for them, and
     * the script runs again with the ledger's (a concurrent seeding by another replica wins: SET NX).
     */
    private List<Object> seeded(String operation, Redis.Script script, Period p, List<String> keys,
                                java.util.function.Function<List<String>, List<String>> args) {
        List<Object> reply = redis.script(operation, script, keys, args.apply(List.of("", "")));
        if (!SEED.equals(reply.get(0))) return reply;
        restoreInFlight(p);
        List<String> seeds = List.of(number(Limits.spentSince(ledger, p.key, Limits.DAILY, p.today)),
                number(Limits.spentSince(ledger, p.key, Limits.MONTHLY, p.today)));
        return redis.script(operation, script, keys, args.apply(seeds));
    }

    /**
     * Redis has no spend for the period: a new period, or Redis lost its data, and with it the
     * reservations of requests in flight that the ledger cannot see. This replica puts its own back
     * before seeding, so they count again (other replicas' come back when they seed, else lapse).
     */
    private void restoreInFlight(Period p) {
        long now = System.currentTimeMillis();
        inFlight.values().removeIf(f -> f.untilMillis() < now); // lapsed in Redis anyway; a permit never settled does not stay
        List<String> args = new ArrayList<>(List.of(leaseMillis()));
        List<String> restored = new ArrayList<>();
        inFlight.forEach((permit, f) -> {
            if (f.keyId().equals(p.key.id())) {
                args.addAll(List.of(permit, number(f.usd())));
                restored.add(permit);
            }
        });
        if (restored.isEmpty()) return;
        redis.script("restore", RESTORE, List.of(p.prefix() + "held", p.prefix() + "held-usd"), args);
        // A permit settled between the snapshot and the script was put back after its settle removed it: remove it again.
        for (String permit : restored) {
            if (!inFlight.containsKey(permit)) releaseLater(p.key, permit, 0, false);
        }
    }

    private static ApiException budgetRefusal(ApiKey key, Period p, List<Object> reply, double usd) {
        String period = (String) reply.get(1);
        double budget = Limits.DAILY.equals(period) ? key.dailyBudgetUsd() : key.monthlyBudgetUsd();
        try {
            Limits.checkBudget(budget, Double.parseDouble((String) reply.get(2)), Double.parseDouble((String) reply.get(3)), usd, period, p.today);
        } catch (ApiException e) {
            return e;
        }
        // Redis's sum and Java's differ in the last bits: refuse with the message of a full budget.
        return new ApiException(429, "budget_exceeded", "the " + period + " budget of $" + Limits.usd(budget)
                + " for this key cannot take this request; retry when requests in progress finish", null, "budget_exceeded").retryAfter(1);
    }

    private ApiException unavailable(ApiKey key) {
        String what = budgeted(key) && config.budgets() == RedisConfig.OnFailure.CLOSED ? "budgets" : "rate limits";
        return new ApiException(503, "service_unavailable", "this key's " + what + " cannot be checked: the shared limit store is unreachable"
                + " from this server; retry shortly", null, "limits_unavailable").retryAfter(UNAVAILABLE_RETRY_SECONDS);
    }

    private static boolean budgeted(ApiKey key) {
        return key.dailyBudgetUsd() > 0 || key.monthlyBudgetUsd() > 0;
    }

    private long leaseEnd() {
        return System.currentTimeMillis() + config.reservationLeaseSeconds() * 1000L;
    }

    private String leaseMillis() {
        return Long.toString(config.reservationLeaseSeconds() * 1000L);
    }

    /** A double as Lua's tonumber reads it back exactly. */
    private static String number(double v) {
        return String.format(Locale.ROOT, "%.17g", v);
    }

    private static long millis(Object reply) {
        return Long.parseLong((String) reply);
    }
}
