package dev.keel.gateway;

import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.store.Ledger;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-key admission: requests/min and tokens/min token buckets (Bucket4j) and budgets in USD per UTC
 * day and month (the maximum cost per request is the request's own, see {@link RequestCost}). Budgets are caps: each request reserves its
 * worst-case cost before the upstream call, atomically against what is spent plus what requests in
 * flight have reserved, so concurrent requests cannot together pass a budget; settling replaces the
 * reservation with the real cost (a failure settles at what it cost, usually nothing). Tokens per
 * minute are reserved the same way and corrected on settling. Every refusal happens before any
 * upstream call. At 80% of a budget Keel logs a warning, counts {@code keel_budget_warnings_total}
 * and posts the optional webhook, once per period. Spend starts from the ledger and then follows
 * this process's requests. Thread-safe.
 */
final class Limits {
    private static final Logger LOG = LoggerFactory.getLogger(Limits.class);
    /** Float sums of many small costs drift by far less than this; a reservation that fits up to it fits. */
    static final double USD_TOLERANCE = 1e-9;

    /**
     * An admitted request's reservation. Settled exactly once: later settles are ignored, so a
     * failure path and a final safety net cannot both release it.
     */
    static final class Permit {
        private final ApiKey key;
        private final long reservedTokens;
        private double reservedUsd;
        private boolean settled;

        private Permit(ApiKey key, long reservedTokens, double reservedUsd) {
            this.key = key;
            this.reservedTokens = reservedTokens;
            this.reservedUsd = reservedUsd;
        }
    }

    private final Ledger ledger;
    private final MeterRegistry registry;
    private final java.net.URI webhook;
    private final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
    private final ConcurrentHashMap<String, KeyState> states = new ConcurrentHashMap<>();

    Limits(Ledger ledger, MeterRegistry registry, java.net.URI webhook) {
        this.ledger = ledger;
        this.registry = registry;
        this.webhook = webhook;
    }

    /** Posts a budget warning to the configured webhook, off the request path; failures are logged, not retried. */
    private void notifyWebhook(ApiKey key, String period, double spent, double budget) {
        if (webhook == null) return;
        String body = String.format(Locale.ROOT, "{\"event\":\"budget.threshold\",\"key_id\":\"%s\",\"tenant\":\"%s\",\"period\":\"%s\","
                + "\"spent_usd\":%.6f,\"budget_usd\":%.6f,\"percent\":%d,\"at\":\"%s\"}", key.id(), key.tenant(), period, spent, budget,
                Math.round(100 * spent / budget), Instant.now());
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(webhook).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
        http.sendAsync(request, java.net.http.HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
            if (e != null) LOG.warn("budget webhook to {} failed: {}", webhook.getHost(), e.toString());
            else if (r.statusCode() >= 300) LOG.warn("budget webhook to {} answered {}", webhook.getHost(), r.statusCode());
        });
    }

    /**
     * Admits a request whose worst case is {@code worstTokens} (prompt and output) costing
     * {@code worstCostUsd}, reserving both; refuses (400 or 429) before any upstream call when it
     * does not fit.
     */
    Permit admit(ApiKey key, long worstTokens, double worstCostUsd) {
        KeyState s = state(key);
        if (s.requests != null) {
            ConsumptionProbe p = s.requests.tryConsumeAndReturnRemaining(1);
            if (!p.isConsumed()) throw rateLimited("requests per minute", key.requestsPerMinute(), p.getNanosToWaitForRefill());
        }
        if (s.tokens != null && worstTokens > key.tokensPerMinute()) {
            throw new ApiException(400, "invalid_request_error", "this request can use up to " + worstTokens + " tokens (its prompt plus max_tokens, or"
                    + " the model's output limit when max_tokens is unset), more than this key's " + key.tokensPerMinute() + " tokens per minute;"
                    + " set or lower max_tokens, or shorten the prompt", "max_tokens", "request_exceeds_rate_limit");
        }
        long charged = s.tokens == null ? 0 : worstTokens;
        if (s.tokens != null) {
            ConsumptionProbe p = s.tokens.tryConsumeAndReturnRemaining(charged);
            if (!p.isConsumed()) {
                if (s.requests != null) s.requests.addTokens(1);
                throw rateLimited("tokens per minute", key.tokensPerMinute(), p.getNanosToWaitForRefill());
            }
        }
        try {
            s.reserve(key, worstCostUsd);
        } catch (ApiException e) {
            if (s.requests != null) s.requests.addTokens(1);
            if (charged > 0) s.tokens.addTokens(charged);
            throw e;
        }
        return new Permit(key, charged, worstCostUsd);
    }

    /**
     * Reserves {@code moreUsd} more for an admitted request that makes another upstream call (a
     * structured-output retry); refuses with 429 when the budget cannot take it.
     */
    void extend(Permit permit, double moreUsd) {
        synchronized (permit) {
            if (permit.settled) throw new IllegalStateException("permit already settled");
            state(permit.key).reserve(permit.key, moreUsd);
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
        KeyState s = state(permit.key);
        if (s.tokens != null) {
            if (actualTokens > permit.reservedTokens) s.tokens.consumeIgnoringRateLimits(actualTokens - permit.reservedTokens);
            else if (actualTokens < permit.reservedTokens) s.tokens.addTokens(permit.reservedTokens - actualTokens);
        }
        s.settle(permit.key, reserved, costUsd);
    }

    /** Dollars as people read them: cents for whole amounts, else up to six significant digits ($0.00201, not $0.00). */
    static String usd(double amount) {
        String plain = new java.math.BigDecimal(amount).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
        int dot = plain.indexOf('.');
        if (dot < 0) return plain + ".00";
        return plain.length() - dot == 2 ? plain + "0" : plain;
    }

    private static ApiException rateLimited(String what, long limit, long nanosToWait) {
        long seconds = Math.max(1, (long) Math.ceil(nanosToWait / 1e9));
        return new ApiException(429, "rate_limit_error", "rate limit of " + limit + " " + what + " reached for this key; retry in " + seconds + " s",
                null, "rate_limit_exceeded").retryAfter(seconds);
    }

    private KeyState state(ApiKey key) {
        return states.computeIfAbsent(key.id(), id -> new KeyState(key));
    }

    private final class KeyState {
        final Bucket requests;
        final Bucket tokens;
        private LocalDate day;
        private double dayUsd, monthUsd;
        /** Worst-case cost of the requests in progress; they settle into whichever day they finish in. */
        private double reservedUsd;
        private boolean warnedDay, warnedMonth;

        KeyState(ApiKey key) {
            requests = key.requestsPerMinute() > 0 ? Bucket.builder().addLimit(l -> l.capacity(key.requestsPerMinute())
                    .refillGreedy(key.requestsPerMinute(), Duration.ofMinutes(1))).build() : null;
            tokens = key.tokensPerMinute() > 0 ? Bucket.builder().addLimit(l -> l.capacity(key.tokensPerMinute())
                    .refillGreedy(key.tokensPerMinute(), Duration.ofMinutes(1))).build() : null;
        }

        /** Reserves {@code usd} when spent + reserved + usd fits every budget of the key, else refuses. */
        synchronized void reserve(ApiKey key, double usd) {
            roll(key);
            check(key.dailyBudgetUsd(), dayUsd, usd, "daily", day.plusDays(1));
            check(key.monthlyBudgetUsd(), monthUsd, usd, "monthly", day.withDayOfMonth(1).plusMonths(1));
            reservedUsd += usd;
        }

        private void check(double budget, double spent, double usd, String period, LocalDate resets) {
            if (budget <= 0 || spent + reservedUsd + usd <= budget + USD_TOLERANCE) return;
            if (usd > budget) {
                throw new ApiException(400, "invalid_request_error", String.format(Locale.ROOT,
                        "this request can cost up to $%s, more than this key's whole %s budget of $%s; set or lower max_tokens, or shorten"
                                + " the prompt", usd(usd), period, usd(budget)), "max_tokens", "request_exceeds_budget");
            }
            Instant resetAt = resets.atStartOfDay(ZoneOffset.UTC).toInstant();
            boolean inFlight = spent + usd <= budget + USD_TOLERANCE;
            String message = String.format(Locale.ROOT, "the %s budget of $%s for this key cannot take this request: $%s spent, $%s reserved by"
                    + " requests in progress, and this one can cost up to $%s; %s", period, usd(budget), usd(spent), usd(reservedUsd), usd(usd),
                    inFlight ? "retry when requests in progress finish, or lower max_tokens" : "the budget resets at " + resetAt);
            // While requests in progress hold the room, it frees up in seconds; otherwise only the reset helps.
            long retryAfter = inFlight ? 1 : Math.max(1, Duration.between(Instant.now(), resetAt).toSeconds());
            throw new ApiException(429, "budget_exceeded", message, null, "budget_exceeded").retryAfter(retryAfter);
        }

        synchronized void settle(ApiKey key, double reserved, double usd) {
            reservedUsd = Math.max(0, reservedUsd - reserved);
            roll(key);
            dayUsd += usd;
            monthUsd += usd;
            if (!warnedDay && key.dailyBudgetUsd() > 0 && dayUsd >= 0.8 * key.dailyBudgetUsd()) {
                warnedDay = true;
                warn(key, "daily", dayUsd, key.dailyBudgetUsd());
            }
            if (!warnedMonth && key.monthlyBudgetUsd() > 0 && monthUsd >= 0.8 * key.monthlyBudgetUsd()) {
                warnedMonth = true;
                warn(key, "monthly", monthUsd, key.monthlyBudgetUsd());
            }
        }

        private void roll(ApiKey key) {
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            if (today.equals(day)) return;
            boolean newMonth = day == null || today.getMonthValue() != day.getMonthValue() || today.getYear() != day.getYear();
            if (day == null) {
                long monthStart = today.withDayOfMonth(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
                long dayStart = today.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
                ledger.flush();
                monthUsd = ledger.spentSince(key.id(), monthStart);
                dayUsd = ledger.spentSince(key.id(), dayStart);
            } else {
                dayUsd = 0;
                if (newMonth) monthUsd = 0;
            }
            if (newMonth) warnedMonth = false;
            warnedDay = false;
            day = today;
        }

        private void warn(ApiKey key, String period, double spent, double budget) {
            LOG.warn("key {} ({}) has used {}% of its {} budget (${} of ${})", key.id(), key.name(), Math.round(100 * spent / budget), period,
                    usd(spent), usd(budget));
            Counter.builder("keel.budget.warnings").description("Keys that crossed 80% of a budget, once per period")
                    .tag("period", period).register(registry).increment();
            notifyWebhook(key, period, spent, budget);
        }
    }
}
