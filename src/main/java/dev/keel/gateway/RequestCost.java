package dev.keel.gateway;

/**
 * What one client request's model calls cost together: every upstream call made on its behalf
 * (query expansion, a follow-up rewrite, the answer, its verifier, a structured-output retry, the
 * router's escalations) reserves its worst case here before it runs and settles at what it cost, so
 * a key's {@code max_cost_per_request_usd} caps the request, not each call. One per client request,
 * never shared between requests. Thread-safe.
 */
public final class RequestCost {
    /** The most this request's calls may cost together whatever the key allows (0: no cap of its own); an agent's remaining budget. */
    private final double capUsd;
    private double spentUsd;
    private double reservedUsd;
    private long spentTokens;
    private int calls;

    /** A request with no cost cap of its own (the key's {@code max_cost_per_request_usd} may still cap it). */
    public RequestCost() {
        this(0);
    }

    /**
     * A request whose model calls may together cost at most {@code capUsd} (an agent run's remaining budget): a call
     * whose worst case does not fit is refused before it runs, as the key's cost cap per request refuses it.
     */
    public RequestCost(double capUsd) {
        this.capUsd = capUsd;
    }

    double capUsd() {
        return capUsd;
    }

    /**
     * Reserves {@code usd} for one more call when what the request spent and reserved plus
     * {@code usd} fits {@code capUsd} (0 or less: no cap); false, reserving nothing, when it does not.
     */
    synchronized boolean tryReserve(double usd, double capUsd) {
        if (capUsd > 0 && spentUsd + reservedUsd + usd > capUsd + Limits.USD_TOLERANCE) return false;
        reservedUsd += usd;
        return true;
    }

    /** Releases a reservation whose call never ran. */
    synchronized void release(double reserved) {
        reservedUsd = Math.max(0, reservedUsd - reserved);
    }

    /** Replaces a call's reservation with what it cost and the tokens it used. */
    synchronized void settle(double reserved, double usd, long tokens) {
        reservedUsd = Math.max(0, reservedUsd - reserved);
        spentUsd += usd;
        spentTokens += tokens;
        calls++;
    }

    /** Spent by settled calls plus reserved by calls in progress. */
    synchronized double committedUsd() {
        return spentUsd + reservedUsd;
    }

    /** What the request's settled calls cost, in USD. */
    public synchronized double spentUsd() {
        return spentUsd;
    }

    /** The tokens (prompt and completion) of the request's settled calls, as billed. */
    public synchronized long spentTokens() {
        return spentTokens;
    }

    /** Whether the request made a model call through the gateway (served from its cache counts: it cost $0). */
    public synchronized boolean anyCalls() {
        return calls > 0;
    }
}
