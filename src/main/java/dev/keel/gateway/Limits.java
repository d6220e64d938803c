package dev.keel.gateway;

import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.store.Ledger;
import dev.keel.trace.Webhook;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-key admission: requests/min and tokens/min token buckets and budgets in USD per UTC day and
 * month (the maximum cost per request is the request's own, see {@link RequestCost}). Budgets are
 * caps: each request reserves its worst-case cost before the upstream call, atomically against what
 * is spent plus what requests in flight have reserved, so concurrent requests cannot together pass a
 * budget; settling replaces the reservation with the real cost (a failure settles at what it cost,
 * usually nothing). Tokens per minute are reserved the same way and corrected on settling. Every
 * refusal happens before any upstream call. At 80% of a budget Keel logs a warning, counts
 * {@code keel_budget_warnings_total} and posts the optional webhook, once per period. The counters
 * live in a {@link LimitStore}: this process's memory, or Redis shared by every replica. Thread-safe.
 */
final class Limits {
    private static final Logger LOG = LoggerFactory.getLogger(Limits.class);
    /** Float sums of many small costs drift by far less than this; a reservation that fits up to it fits. */
    static final double USD_TOLERANCE = 1e-9;
    /** The share of a budget at which Keel warns, once per period. */
    static final double WARNING_SHARE = 0.8;
    static final String DAILY = "daily", MONTHLY = "monthly";

    /**
     * An admitted request's reservation. Settled exactly once: later settles are ignored, so a
     * failure path and a final safety net cannot both release it.
     */
    static final class Permit {
        private final ApiKey key;
        /**
         * Names the reservation in a shared store, where other replicas' permits live too: unique, never shown to anyone, so
         * two draws of the thread's random generator (64 bits of state, seeded per thread) rather than the secure one
         * ({@code UUID.randomUUID} was ~0.7% of a proxied request's CPU at maximum throughput).
         */
        private final String id = new UUID(ThreadLocalRandom.current().nextLong(), ThreadLocalRandom.current().nextLong()).toString();
        private long reservedTokens;
        private double reservedUsd;
        private boolean settled;

        private Permit(ApiKey key, double reservedUsd) {
            this.key = key;
            this.reservedUsd = reservedUsd;
        }
    }

    private final LimitStore store;
    private final MeterRegistry registry;
    private final Webhook webhook;

    Limits(LimitStore store, MeterRegistry registry, java.net.URI webhook) {
        this.store = store;
        this.registry = registry;
        this.webhook = webhook == null ? null : new Webhook(webhook, "budget", null);
    }

    /** Posts a budget warning to the configured webhook, off the request path; failures are logged, not retried. */
    private void notifyWebhook(ApiKey key, String period, double spent, double budget) {
        if (webhook == null) return;
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("event", "budget.threshold");
        event.put("key_id", key.id());
        event.put("tenant", key.tenant());
        event.put("period", period);
        event.put("spent_usd", spent);
        event.put("budget_usd", budget);
        event.put("percent", Math.round(100 * spent / budget));
        event.put("at", Instant.now().toString());
        webhook.send(event);
    }

    /**
     * Admits a request whose worst case is {@code worstTokens} (prompt and output) costing
     * {@code worstCostUsd}, reserving both; refuses (400 or 429; 503 when shared limits cannot be
     * checked and the policy says closed) before any upstream call when it does not fit.
     */
    Permit admit(ApiKey key, long worstTokens, double worstCostUsd) {
        Permit permit = new Permit(key, worstCostUsd);
        permit.reservedTokens = store.admit(key, permit.id, worstTokens, worstCostUsd);
        return permit;
    }

    /**
     * Reserves {@code moreUsd} more for an admitted request that makes another upstream call (a
     * structured-output retry); refuses with 429 when the budget cannot take it.
     */
    void extend(Permit permit, double moreUsd) {
        synchronized (permit) {
            if (permit.settled) throw new IllegalStateException("permit already settled");
            store.extend(permit.key, permit.id, moreUsd);
            permit.reservedUsd += moreUsd;
        }
    }

    /** Replaces the request's reservations with what it really used; only the first call counts. */
    void settle(Permit permit, long actualTokens, double costUsd) {
        double reserved;
        synchronized (permit) {
            if (permit.settled) return;
            permit.settled = true;
            reserved = permit.reservedUsd;
        }
        for (LimitStore.Crossing c : store.settle(permit.key, permit.id, permit.reservedTokens, actualTokens, reserved, costUsd)) {
            warn(permit.key, c.period(), c.spentUsd(), c.budgetUsd());
        }
    }

    /** Dollars as people read them: cents for whole amounts, else up to six significant digits ($0.00201, not $0.00). */
    static String usd(double amount) {
        String plain = new java.math.BigDecimal(amount).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
        int dot = plain.indexOf('.');
        if (dot < 0) return plain + ".00";
        return plain.length() - dot == 2 ? plain + "0" : plain;
    }

    static ApiException rateLimited(String what, long limit, long nanosToWait) {
        long seconds = Math.max(1, (long) Math.ceil(nanosToWait / 1e9));
        return new ApiException(429, "rate_limit_error", "rate limit of " + limit + " " + what + " reached for this key; retry in " + seconds + " s",
                null, "rate_limit_exceeded").retryAfter(seconds);
    }

    /** The 400 for a request that could use more tokens than the key's whole minute. */
    static ApiException overTokensPerMinute(ApiKey key, long worstTokens) {
        return new ApiException(400, "invalid_request_error", "this request can use up to " + worstTokens + " tokens (its prompt plus max_tokens, or"
                + " the model's output limit when max_tokens is unset), more than this key's " + key.tokensPerMinute() + " tokens per minute;"
                + " set or lower max_tokens, or shorten the prompt", "max_tokens", "request_exceeds_rate_limit");
    }

    /**
     * Refuses {@code usd} more when {@code spent + reserved + usd} passes {@code budget} (0: none) of
     * {@code period} containing {@code today}: 400 when the request alone passes the whole budget,
     * else 429 with the figures and when to retry.
     */
    static void checkBudget(double budget, double spent, double reserved, double usd, String period, LocalDate today) {
        if (budget <= 0 || spent + reserved + usd <= budget + USD_TOLERANCE) return;
        if (usd > budget) {
            throw new ApiException(400, "invalid_request_error", String.format(Locale.ROOT,
                    "this request can cost up to $%s, more than this key's whole %s budget of $%s; set or lower max_tokens, or shorten"
                            + " the prompt", usd(usd), period, usd(budget)), "max_tokens", "request_exceeds_budget");
        }
        Instant resetAt = periodEnd(period, today);
        boolean inFlight = spent + usd <= budget + USD_TOLERANCE;
        String message = String.format(Locale.ROOT, "the %s budget of $%s for this key cannot take this request: $%s spent, $%s reserved by"
                + " requests in progress, and this one can cost up to $%s; %s", period, usd(budget), usd(spent), usd(reserved), usd(usd),
                inFlight ? "retry when requests in progress finish, or lower max_tokens" : "the budget resets at " + resetAt);
        // While requests in progress hold the room, it frees up in seconds; otherwise only the reset helps.
        long retryAfter = inFlight ? 1 : Math.max(1, Duration.between(Instant.now(), resetAt).toSeconds());
        throw new ApiException(429, "budget_exceeded", message, null, "budget_exceeded").retryAfter(retryAfter);
    }

    /** True when {@code spent} has reached the warning share of {@code budget} (0: none). */
    static boolean warns(double budget, double spent) {
        return budget > 0 && spent >= WARNING_SHARE * budget;
    }

    /** The first day of the {@code period} containing {@code today}. */
    static LocalDate periodStart(String period, LocalDate today) {
        return DAILY.equals(period) ? today : today.withDayOfMonth(1);
    }

    /** When the {@code period} containing {@code today} ends (the budget resets). */
    static Instant periodEnd(String period, LocalDate today) {
        LocalDate next = DAILY.equals(period) ? today.plusDays(1) : today.withDayOfMonth(1).plusMonths(1);
        return next.atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    /** What the ledger holds as spent by {@code key} in the {@code period} containing {@code today}. */
    static double spentSince(Ledger ledger, ApiKey key, String period, LocalDate today) {
        return ledger.spentSince(key.id(), periodStart(period, today).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli());
    }

    private void warn(ApiKey key, String period, double spent, double budget) {
        LOG.warn("key {} ({}) has used {}% of its {} budget (${} of ${})", key.id(), key.name(), Math.round(100 * spent / budget), period,
                usd(spent), usd(budget));
        Counter.builder("keel.budget.warnings").description("Keys that crossed 80% of a budget, once per period")
                .tag("period", period).register(registry).increment();
        notifyWebhook(key, period, spent, budget);
    }
}
