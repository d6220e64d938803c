package dev.keel.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ModelConfig;
import dev.keel.model.ApiException;
import dev.keel.model.Usage;
import dev.keel.provider.Prices;
import dev.keel.provider.ProviderChain;
import dev.keel.store.ApiKey;
import dev.keel.store.Ledger;
import dev.keel.trace.Trace;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What a gateway request may cost before it runs, and what it did cost after. Before: the worst
 * case over the model's targets (a ceiling of the prompt at the input price plus the output limit
 * at the output price), checked against the key's allowance, reserved in the client request's
 * {@link RequestCost} against the key's cost cap per request (with what the request's other calls
 * spent and reserved) and against its limits and budgets ({@link Limits}). After: the real usage
 * priced, the reservations settled, and one ledger row per call whatever the retries and
 * fallbacks. A ticket is billed exactly once; a call that ends any other way is billed as failed
 * with no usage by {@link #closeUnbilled}. Thread-safe.
 */
final class Billing {
    /** The least output a stream past its reservation reserves at a time: few round trips to a shared limit store. */
    private static final long MIN_OUTPUT_EXTENSION = 256;
    private final Prices prices;
    private final Ledger ledger;
    private final Limits limits;
    private final ProviderChain chain;
    private final long defaultMaxOutputTokens;

    Billing(Prices prices, Ledger ledger, Limits limits, ProviderChain chain, long defaultMaxOutputTokens) {
        this.prices = prices;
        this.ledger = ledger;
        this.limits = limits;
        this.chain = chain;
        this.defaultMaxOutputTokens = defaultMaxOutputTokens;
    }

    /**
     * The most a request can use and cost on any of the model's targets. {@code outputCaps} names
     * the targets whose output limit Keel does not know, with the limit it assumed for them;
     * {@code outputs} every target's output tokens counted in the worst case.
     */
    record WorstCase(long tokens, double usd, Map<ModelConfig.Target, Long> outputCaps, Map<ModelConfig.Target, Long> outputs) {}

    /** An admitted request: its reservation (none for open local use) until it is billed. */
    static final class Ticket {
        private final ChatGateway.Caller caller;
        private final ModelConfig model;
        private final Limits.Permit permit;
        private final Map<ModelConfig.Target, Long> outputCaps;
        /** What this call holds reserved in its request's {@link RequestCost}; guarded by the ticket. */
        private double requestReservedUsd;
        /**
         * Output tokens reserved per target, for a chat call whose cost a budget or cap holds (else empty: nothing to
         * hold); grown by {@link Billing#mayOutput}. Guarded by the ticket.
         */
        private final Map<ModelConfig.Target, Long> heldOutput = new HashMap<>();
        private final long startNanos = System.nanoTime();
        private volatile Ledger.Tags tags = Ledger.Tags.NONE;
        private boolean billed;

        private Ticket(ChatGateway.Caller caller, ModelConfig model, Limits.Permit permit, Map<ModelConfig.Target, Long> outputCaps) {
            this.caller = caller;
            this.model = model;
            this.permit = permit;
            this.outputCaps = outputCaps;
        }

        /** Output limits to send upstream for targets whose own limit Keel does not know (budgeted keys only). */
        Map<ModelConfig.Target, Long> outputCaps() {
            return outputCaps;
        }

        long startNanos() {
            return startNanos;
        }

        ChatGateway.Caller caller() {
            return caller;
        }

        /**
         * How the request is being served, written to its ledger row when it is billed; a tag given
         * earlier stays unless this call sets it anew (the caller's prompt hash, then a cache or route).
         */
        synchronized void tag(Ledger.Tags more) {
            Ledger.Tags had = tags;
            tags = new Ledger.Tags(more.cache() != null ? more.cache() : had.cache(), more.route() != null ? more.route() : had.route(),
                    more.promptHash() != null ? more.promptHash() : had.promptHash());
        }
    }

    /** Admits a chat request under the caller's key, reserving its worst case; refuses before any upstream call. */
    Ticket admitChat(ChatGateway.Caller caller, ModelConfig model, ObjectNode request, Trace trace) {
        ApiKey key = caller.key();
        if (key == null) return caller.cost().capUsd() > 0 ? admitUnderRequestCap(caller, model, worstCase(model, request), trace) : new Ticket(caller, model, null, Map.of());
        checkAllowed(caller, model);
        WorstCase worst = worstCase(model, request);
        Ticket ticket = admit(caller, model, worst.tokens(), worst.usd(), capsCost(key) ? worst.outputCaps() : Map.of(), trace);
        if (capsCost(key) || caller.cost().capUsd() > 0) ticket.heldOutput.putAll(worst.outputs());
        return ticket;
    }

    /** The output tokens reserved for a stream of {@code ticket} on {@code target}; {@link Long#MAX_VALUE} when no budget or cap holds it. */
    long heldOutput(Ticket ticket, ModelConfig.Target target) {
        synchronized (ticket) {
            return ticket.heldOutput.isEmpty() ? Long.MAX_VALUE : ticket.heldOutput.getOrDefault(target, 0L);
        }
    }

    /**
     * Whether a stream of {@code ticket} on {@code target} may go on having written {@code tokens} of output: yes within
     * its reservation; past it (an upstream that ignores {@code max_tokens}) only as far as more can be reserved against
     * the key's budgets and the request's cost cap, at least 256 tokens or a quarter of the reservation at a time (near
     * the end of a budget, just what {@code tokens} needs). Always yes for a call no budget or cap holds.
     */
    boolean mayOutput(Ticket ticket, ModelConfig.Target target, long tokens) {
        while (true) {
            long reserved;
            synchronized (ticket) {
                if (ticket.heldOutput.isEmpty()) return true;
                reserved = ticket.heldOutput.getOrDefault(target, 0L);
                if (tokens <= reserved) return true;
            }
            long needed = tokens - reserved, more = Math.max(needed, Math.max(MIN_OUTPUT_EXTENSION, reserved / 4));
            // Near the end of a budget a step may not fit where what this chunk needs still does.
            if (!reserveOutput(ticket, target, more) && (more == needed || !reserveOutput(ticket, target, needed))) return false;
        }
    }

    /** Reserves {@code tokens} more output on {@code target} against the request's cost cap and the key's budgets; false if either refuses. */
    private boolean reserveOutput(Ticket ticket, ModelConfig.Target target, long tokens) {
        double usd = prices.cost(target, new Usage(0, tokens, 0, true)).usd();
        try {
            reserveInRequest(ticket.caller, usd);
        } catch (ApiException overCap) {
            return false;
        }
        try {
            if (ticket.permit != null) limits.extend(ticket.permit, usd);
        } catch (RuntimeException overBudget) {
            ticket.caller.cost().release(usd);
            return false;
        }
        synchronized (ticket) {
            ticket.requestReservedUsd += usd;
            ticket.heldOutput.merge(target, tokens, Long::sum);
        }
        return true;
    }

    /** Open local use under a request's own cost cap: no key limits, only the reservation in the request. */
    private Ticket admitUnderRequestCap(ChatGateway.Caller caller, ModelConfig model, WorstCase worst, Trace trace) {
        trace.attr("estimate.max_tokens", worst.tokens()).attr("estimate.max_cost_usd", worst.usd());
        reserveInRequest(caller, worst.usd());
        Ticket ticket = new Ticket(caller, model, null, worst.outputCaps());
        ticket.requestReservedUsd = worst.usd();
        ticket.heldOutput.putAll(worst.outputs());
        return ticket;
    }

    private static boolean capsCost(ApiKey key) {
        return key.dailyBudgetUsd() > 0 || key.monthlyBudgetUsd() > 0 || key.maxCostPerRequestUsd() > 0;
    }

    /** Admits an embeddings request of {@code inputTokens}. */
    Ticket admitEmbedding(ChatGateway.Caller caller, ModelConfig model, long inputTokens, Trace trace) {
        long ceiling = TokenEstimate.withMargin(inputTokens);
        double usd = 0;
        for (ModelConfig.Target t : model.targets()) usd = Math.max(usd, prices.cost(t, new Usage(ceiling, 0, 0, true)).usd());
        checkAllowed(caller, model);
        return admit(caller, model, ceiling, usd, Map.of(), trace);
    }

    /**
     * Admits a cached {@code /v1/answer} as its model call was admitted: {@code tokens} and {@code usd}
     * (that call's worst case; 0 for an answer no model wrote) through the key's rate limits, cost cap
     * and budgets. The caller checks that the key allows {@code model}.
     */
    Ticket admitCachedAnswer(ChatGateway.Caller caller, ModelConfig model, long tokens, double usd, Trace trace) {
        return admit(caller, model, tokens, usd, Map.of(), trace);
    }

    /** Refuses (403) a model outside the caller's key's allowance; open local use may use any. */
    static void checkAllowed(ChatGateway.Caller caller, ModelConfig model) {
        if (caller.key() != null && !caller.key().allows(model.name())) throw notAllowed(caller.key(), model.name());
    }

    private Ticket admit(ChatGateway.Caller caller, ModelConfig model, long tokens, double usd, Map<ModelConfig.Target, Long> caps, Trace trace) {
        trace.attr("estimate.max_tokens", tokens).attr("estimate.max_cost_usd", usd);
        if (caller.key() == null) return new Ticket(caller, model, null, Map.of());
        if (capsCost(caller.key())) {
            for (ModelConfig.Target t : model.targets()) {
                if (prices.priceOf(t) == null) {
                    throw new ApiException(400, "invalid_request_error", "Keel knows no price for '" + t.model() + "' (provider '" + t.provider()
                            + "'), so this key's budget or cost cap cannot be enforced on model '" + model.name() + "'; set input_per_mtok and"
                            + " output_per_mtok on its target in keel.yaml (0 for a free local model)", "model", "price_unknown");
                }
            }
        }
        if (!caps.isEmpty()) trace.attr("output_cap", caps.values().iterator().next());
        reserveInRequest(caller, usd);
        Limits.Permit permit;
        try {
            permit = limits.admit(caller.key(), tokens, usd);
        } catch (RuntimeException e) {
            caller.cost().release(usd);
            throw e;
        }
        Ticket ticket = new Ticket(caller, model, permit, caps);
        ticket.requestReservedUsd = usd;
        return ticket;
    }

    /**
     * Reserves a call's worst case in its client request, refusing (400) when the request's calls
     * together could pass the key's maximum cost per request.
     */
    private static void reserveInRequest(ChatGateway.Caller caller, double usd) {
        double keyCap = caller.key() == null ? 0 : caller.key().maxCostPerRequestUsd(), ownCap = caller.cost().capUsd();
        double cap = keyCap <= 0 ? ownCap : ownCap <= 0 ? keyCap : Math.min(keyCap, ownCap);
        double before = caller.cost().committedUsd();
        if (caller.cost().tryReserve(usd, cap)) return;
        String message = before <= 0 || usd > cap
                ? String.format(Locale.ROOT, "this request can cost up to $%s (its prompt plus max_tokens, or the model's output limit when max_tokens"
                        + " is unset), over the maximum of $%s per request (the key's, or an agent run's remaining budget); set or lower max_tokens, or shorten the prompt",
                        Limits.usd(usd), Limits.usd(cap))
                : String.format(Locale.ROOT, "this model call can cost up to $%s and this request's earlier model calls spent or reserved $%s,"
                        + " together over the maximum of $%s per request (the key's, or an agent run's remaining budget); lower max_tokens, or ask for fewer model calls in one request"
                        + " (query expansion, verification)", Limits.usd(usd), Limits.usd(before), Limits.usd(cap));
        throw new ApiException(400, "invalid_request_error", message, "max_tokens", "max_cost_per_request_exceeded");
    }

    /** The 403 for a model outside the key's allowance. */
    static ApiException notAllowed(ApiKey key, String model) {
        return new ApiException(403, "permission_error", "this API key may not use model '" + ChatGateway.shown(model) + "'; allowed: " + key.models(), "model",
                "model_not_allowed");
    }

    /**
     * Reserves the worst case of one more upstream call of an admitted request (a structured-output
     * retry); refuses with 400 when the request's calls together could pass the key's cost cap per
     * request, with 429 when the key's budget cannot take it.
     */
    void extend(Ticket ticket, ObjectNode again) {
        if (ticket.permit == null) return;
        double more = worstCase(ticket.model, again).usd();
        reserveInRequest(ticket.caller, more);
        try {
            limits.extend(ticket.permit, more);
        } catch (RuntimeException e) {
            ticket.caller.cost().release(more);
            throw e;
        }
        synchronized (ticket) {
            ticket.requestReservedUsd += more;
        }
    }

    /**
     * The worst case of a chat request: the prompt's ceiling, plus its {@code max_completion_tokens}
     * / {@code max_tokens}, else the lowest known limit of each target (the model's, the provider's
     * default, the context window), else {@code gateway.default_max_output_tokens}; priced per target,
     * the dearest one counting.
     */
    WorstCase worstCase(ModelConfig model, ObjectNode request) {
        long prompt = TokenEstimate.promptCeiling(request);
        OptionalLong asked = requestedOutput(request);
        long maxTokens = 0;
        double maxUsd = 0;
        Map<ModelConfig.Target, Long> caps = new HashMap<>(), outputs = new HashMap<>();
        for (ModelConfig.Target t : model.targets()) {
            OptionalLong known = min(min(prices.outputLimit(t), chain.defaultMaxOutputTokens(t.provider())),
                    model.contextWindow() > 0 ? OptionalLong.of(model.contextWindow()) : OptionalLong.empty());
            long output = asked.isPresent() ? asked.getAsLong() : known.orElse(defaultMaxOutputTokens);
            // A server Keel knows nothing about may read only max_tokens: it gets the limit that was reserved.
            if (known.isEmpty()) caps.put(t, output);
            outputs.put(t, output);
            maxTokens = Math.max(maxTokens, prompt + output);
            maxUsd = Math.max(maxUsd, prices.cost(t, new Usage(prompt, output, 0, true)).usd());
        }
        return new WorstCase(maxTokens, maxUsd, Map.copyOf(caps), Map.copyOf(outputs));
    }

    /**
     * The output limit the request sets itself, if any: the larger of {@code max_completion_tokens}
     * and {@code max_tokens} when it sets both, since an upstream may honour either one.
     */
    static OptionalLong requestedOutput(ObjectNode request) {
        long completion = request.path("max_completion_tokens").asLong(0), legacy = request.path("max_tokens").asLong(0);
        return completion <= 0 && legacy <= 0 ? OptionalLong.empty() : OptionalLong.of(Math.max(completion, legacy));
    }

    private static OptionalLong min(OptionalLong a, OptionalLong b) {
        if (a.isEmpty()) return b;
        if (b.isEmpty()) return a;
        return OptionalLong.of(Math.min(a.getAsLong(), b.getAsLong()));
    }

    /**
     * Prices what the request used on {@code target} (null: it reached no provider), settles the
     * reservation and writes the ledger row; only the first call for a ticket counts.
     */
    Prices.Cost bill(Ticket ticket, ModelConfig.Target target, Usage usage, Double ttftMs, int status, Trace trace) {
        Prices.Cost cost = target == null ? new Prices.Cost(0, true) : prices.cost(target, usage);
        double requestReserved;
        synchronized (ticket) {
            if (ticket.billed) return cost;
            ticket.billed = true;
            requestReserved = ticket.requestReservedUsd;
        }
        ticket.caller.cost().settle(requestReserved, cost.usd(), usage.promptTokens() + usage.completionTokens());
        if (ticket.permit != null) limits.settle(ticket.permit, usage.promptTokens() + usage.completionTokens(), cost.usd());
        trace.attr("tokens.prompt", usage.promptTokens()).attr("tokens.completion", usage.completionTokens())
                .attr("tokens.estimated", usage.estimated()).attr("cost_usd", cost.usd());
        ledger.record(new Ledger.Entry(System.currentTimeMillis(), ticket.caller.keyId(), ticket.caller.tenant(), ticket.model.name(),
                target == null ? null : target.provider(), target == null ? null : target.model(), usage.promptTokens(),
                usage.completionTokens(), usage.cachedTokens(), cost.usd(), usage.estimated(), cost.priceKnown(),
                (System.nanoTime() - ticket.startNanos) / 1e6, ttftMs, status, trace.id(), ticket.tags));
        return cost;
    }

    /** The safety net for a request that ended without being billed (an unexpected failure): a failed row, the reservation released. */
    void closeUnbilled(Ticket ticket, Trace trace) {
        bill(ticket, null, Usage.NONE, null, 500, trace);
    }
}
