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
 * Per-key admission: requests/min and tokens/min token buckets (Bucket4j; tokens are estimated
 * before the call and corrected after it), budgets in USD per UTC day and month, and a maximum
 * estimated cost per request. Every refusal happens before any upstream call. At 80% of a budget
 * Keel logs a warning, counts {@code keel_budget_warnings_total} and posts the optional webhook, once
 * per period. Spend starts
 * from the ledger and then follows this process's requests. Thread-safe.
 */
final class Limits {
    private static final Logger LOG = LoggerFactory.getLogger(Limits.class);

    /** An admitted request: settle it with what it really used. */
    record Permit(ApiKey key, long estimatedTokens) {}

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

    Permit admit(ApiKey key, long estimatedTokens, double estimatedCostUsd) {
        KeyState s = state(key);
        s.checkBudgets(key);
        if (key.maxCostPerRequestUsd() > 0 && estimatedCostUsd > key.maxCostPerRequestUsd()) {
            throw new ApiException(400, "invalid_request_error", String.format(Locale.ROOT,
                    "estimated cost $%.6f exceeds this key's maximum of $%.6f per request (lower max_tokens or shorten the prompt)",
                    estimatedCostUsd, key.maxCostPerRequestUsd()), "max_tokens", "max_cost_per_request_exceeded");
        }
        if (s.requests != null) {
            ConsumptionProbe p = s.requests.tryConsumeAndReturnRemaining(1);
            if (!p.isConsumed()) throw rateLimited("requests per minute", key.requestsPerMinute(), p.getNanosToWaitForRefill());
        }
        if (s.tokens != null) {
            long want = Math.min(estimatedTokens, key.tokensPerMinute());
            ConsumptionProbe p = s.tokens.tryConsumeAndReturnRemaining(want);
            if (!p.isConsumed()) {
                if (s.requests != null) s.requests.addTokens(1);
                throw rateLimited("tokens per minute", key.tokensPerMinute(), p.getNanosToWaitForRefill());
            }
        }
        return new Permit(key, estimatedTokens);
    }

    void settle(Permit permit, long actualTokens, double costUsd) {
        KeyState s = state(permit.key());
        if (s.tokens != null) {
            long charged = Math.min(permit.estimatedTokens(), permit.key().tokensPerMinute());
            if (actualTokens > charged) s.tokens.consumeIgnoringRateLimits(actualTokens - charged);
            else if (actualTokens < charged) s.tokens.addTokens(charged - actualTokens);
        }
        s.spend(permit.key(), costUsd);
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
        private boolean warnedDay, warnedMonth;

        KeyState(ApiKey key) {
            requests = key.requestsPerMinute() > 0 ? Bucket.builder().addLimit(l -> l.capacity(key.requestsPerMinute())
                    .refillGreedy(key.requestsPerMinute(), Duration.ofMinutes(1))).build() : null;
            tokens = key.tokensPerMinute() > 0 ? Bucket.builder().addLimit(l -> l.capacity(key.tokensPerMinute())
                    .refillGreedy(key.tokensPerMinute(), Duration.ofMinutes(1))).build() : null;
        }

        synchronized void checkBudgets(ApiKey key) {
            roll(key);
            if (key.dailyBudgetUsd() > 0 && dayUsd >= key.dailyBudgetUsd()) {
                throw budget("daily", key.dailyBudgetUsd(), day.plusDays(1));
            }
            if (key.monthlyBudgetUsd() > 0 && monthUsd >= key.monthlyBudgetUsd()) {
                throw budget("monthly", key.monthlyBudgetUsd(), day.withDayOfMonth(1).plusMonths(1));
            }
        }

        synchronized void spend(ApiKey key, double usd) {
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
                    String.format(Locale.ROOT, "%.4f", spent), budget);
            Counter.builder("keel.budget.warnings").description("Keys that crossed 80% of a budget, once per period")
                    .tag("period", period).register(registry).increment();
            notifyWebhook(key, period, spent, budget);
        }

        private ApiException budget(String period, double budget, LocalDate resets) {
            Instant at = resets.atStartOfDay(ZoneOffset.UTC).toInstant();
            return new ApiException(429, "budget_exceeded", String.format(Locale.ROOT, "the %s budget of $%.2f for this key is used up; it resets at %s",
                    period, budget, at), null, "budget_exceeded").retryAfter(Math.max(1, Duration.between(Instant.now(), at).toSeconds()));
        }
    }
}
