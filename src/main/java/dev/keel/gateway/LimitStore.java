package dev.keel.gateway;

import dev.keel.config.RedisConfig;
import dev.keel.store.ApiKey;
import dev.keel.store.Ledger;
import dev.keel.store.Redis;
import java.util.List;

/**
 * Where the state of per-key admission lives: requests/min and tokens/min buckets, USD spent per UTC
 * day and month, and the reservations of requests in progress. {@link Limits} owns the policy (what
 * a request reserves, messages, warnings); a store owns the counters and makes each operation atomic
 * against every other admission of the same key, in this process ({@link #inProcess}) or across
 * all replicas that share a Redis ({@link #redis}). Every refusal is an {@code ApiException} thrown
 * before anything is consumed. Spent-so-far for a period starts from {@link Ledger#spentSince} when
 * the store holds no figure for it. Implementations are thread-safe.
 */
public sealed interface LimitStore permits InProcessLimits, RedisLimits {
    /** A settle that took a key past 80% of a budget for the first time in its period. */
    record Crossing(String period, double spentUsd, double budgetUsd) {}

    /**
     * Consumes one request and {@code worstTokens} from the key's buckets and reserves
     * {@code worstUsd} under {@code permitId} against its budgets, all or nothing; returns the tokens
     * taken from the tokens/min bucket (0 when the key has no such limit or the store admitted the
     * request unchecked). Throws 400 when the request can never fit, 429 when it does not fit now, 503
     * when the limits cannot be checked and the policy refuses.
     */
    long admit(ApiKey key, String permitId, long worstTokens, double worstUsd);

    /** Reserves {@code moreUsd} more under {@code permitId}; 429 when a budget cannot take it. */
    void extend(ApiKey key, String permitId, double moreUsd);

    /**
     * Releases the permit's reservations, returns unused tokens to (or takes extra ones from) the
     * tokens/min bucket and adds {@code costUsd} to the period's spend; returns the budgets this
     * settle took past 80% for the first time in their period. Never throws for a store failure:
     * the reservation then expires on its own.
     */
    List<Crossing> settle(ApiKey key, String permitId, long reservedTokens, long actualTokens, double reservedUsd, double costUsd);

    /** Counters in this process: one replica. */
    static LimitStore inProcess(Ledger ledger) {
        return new InProcessLimits(ledger);
    }

    /** Counters in Redis, shared by every replica using it, with {@code config}'s failure policies and reservation lease. */
    static LimitStore redis(Redis redis, RedisConfig config, Ledger ledger) {
        return new RedisLimits(redis, config, ledger);
    }
}
