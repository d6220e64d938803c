package dev.keel.gateway;

import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import dev.keel.store.Ledger;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link LimitStore} of a single replica: Bucket4j buckets and per-key spend in this process's
 * memory, each key's budget operations under that key's lock. Spend starts from the ledger and then
 * follows this process's requests. Reservations live as long as the process.
 */
final class InProcessLimits implements LimitStore {
    private final Ledger ledger;
    private final ConcurrentHashMap<String, KeyState> states = new ConcurrentHashMap<>();

    InProcessLimits(Ledger ledger) {
        this.ledger = ledger;
    }

    @Override
    public long admit(ApiKey key, String permitId, long worstTokens, double worstUsd) {
        KeyState s = state(key);
        if (s.requests != null) {
            ConsumptionProbe p = s.requests.tryConsumeAndReturnRemaining(1);
            if (!p.isConsumed()) throw Limits.rateLimited("requests per minute", key.requestsPerMinute(), p.getNanosToWaitForRefill());
        }
        if (s.tokens != null && worstTokens > key.tokensPerMinute()) throw Limits.overTokensPerMinute(key, worstTokens);
        long charged = s.tokens == null ? 0 : worstTokens;
        if (s.tokens != null) {
            ConsumptionProbe p = s.tokens.tryConsumeAndReturnRemaining(charged);
            if (!p.isConsumed()) {
                if (s.requests != null) s.requests.addTokens(1);
                throw Limits.rateLimited("tokens per minute", key.tokensPerMinute(), p.getNanosToWaitForRefill());
            }
        }
        try {
            s.reserve(key, worstUsd);
        } catch (ApiException e) {
            if (s.requests != null) s.requests.addTokens(1);
            if (charged > 0) s.tokens.addTokens(charged);
            throw e;
        }
        return charged;
    }

    @Override
    public void extend(ApiKey key, String permitId, double moreUsd) {
        state(key).reserve(key, moreUsd);
    }

    @Override
    public List<Crossing> settle(ApiKey key, String permitId, long reservedTokens, long actualTokens, double reservedUsd, double costUsd) {
        KeyState s = state(key);
        if (s.tokens != null) {
            if (actualTokens > reservedTokens) s.tokens.consumeIgnoringRateLimits(actualTokens - reservedTokens);
            else if (actualTokens < reservedTokens) s.tokens.addTokens(reservedTokens - actualTokens);
        }
        return s.settle(key, reservedUsd, costUsd);
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
            Limits.checkBudget(key.dailyBudgetUsd(), dayUsd, reservedUsd, usd, Limits.DAILY, day);
            Limits.checkBudget(key.monthlyBudgetUsd(), monthUsd, reservedUsd, usd, Limits.MONTHLY, day);
            reservedUsd += usd;
        }

        synchronized List<Crossing> settle(ApiKey key, double reserved, double usd) {
            reservedUsd = Math.max(0, reservedUsd - reserved);
            roll(key);
            dayUsd += usd;
            monthUsd += usd;
            List<Crossing> crossed = new ArrayList<>(2);
            if (!warnedDay && Limits.warns(key.dailyBudgetUsd(), dayUsd)) {
                warnedDay = true;
                crossed.add(new Crossing(Limits.DAILY, dayUsd, key.dailyBudgetUsd()));
            }
            if (!warnedMonth && Limits.warns(key.monthlyBudgetUsd(), monthUsd)) {
                warnedMonth = true;
                crossed.add(new Crossing(Limits.MONTHLY, monthUsd, key.monthlyBudgetUsd()));
            }
            return crossed;
        }

        private void roll(ApiKey key) {
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            if (today.equals(day)) return;
            boolean newMonth = day == null || today.getMonthValue() != day.getMonthValue() || today.getYear() != day.getYear();
            if (day == null) {
                monthUsd = Limits.spentSince(ledger, key, Limits.MONTHLY, today);
                dayUsd = Limits.spentSince(ledger, key, Limits.DAILY, today);
            } else {
                dayUsd = 0;
                if (newMonth) monthUsd = 0;
            }
            if (newMonth) warnedMonth = false;
            warnedDay = false;
            day = today;
        }
    }
}
