package dev.keel.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ModelConfig;
import dev.keel.config.RouterConfig;
import dev.keel.model.ApiException;
import dev.keel.model.StreamListener;
import dev.keel.provider.Prices;
import dev.keel.store.ApiKey;
import dev.keel.store.Ledger;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Serves the virtual model {@value ModelConfig#AUTO}: a {@link ComplexityClassifier} picks the
 * cheapest tier expected to pass, narrowed to the tiers the caller may use (the key must allow
 * {@code auto} and allows the tier models it lists) that support the request (tools, JSON schema,
 * stream, context window) and fit a per-request cost cap; a session escalated before starts at its
 * tier. A reply that fails a check ({@link ReplyChecks}, invalid JSON for a requested format, the
 * caller's {@link EscalationCheck}) is asked again on the next usable tier, at most once per tier.
 * Each call is admitted, reserved and billed like a request of its own (its own ledger row, tagged
 * with the route so far), all in the client request's {@link RequestCost}, so the key's cost cap
 * per request caps the whole route, retries included; when the key's limits refuse an escalation,
 * the last reply is returned (a reply that breaks a requested JSON format is never returned: that
 * is a 422). Streams are escalated only with {@code router.escalate_streams}, which holds each tier's reply back until
 * its opening passed the checks; otherwise their bytes are the client's as they arrive. Every decision is in the
 * trace, the ledger and {@code x-keel-route}, as fixed labels only. Thread-safe.
 */
final class ModelRouter {
    /** The label recorded for a caller's check (or classifier reason) that is not a short fixed label. */
    static final String UNNAMED_CHECK = "check-failed";
    private static final Pattern LABEL = Pattern.compile("[a-z0-9+-]{1,64}");
    /** The check a reply fails when it does not match the requested JSON format or tool schema. */
    static final String INVALID_JSON = "invalid-json";
    /**
     * Codes of admission refusals by a key's limits (and of a budgeted key meeting a tier whose price
     * Keel does not know): an escalation they refuse leaves the reply already paid for.
     */
    private static final Set<String> LIMIT_CODES = Set.of("budget_exceeded", "request_exceeds_budget",
            "max_cost_per_request_exceeded", "rate_limit_exceeded", "request_exceeds_rate_limit", "price_unknown");

    private final Map<ModelConfig.Tier, ModelConfig> tiers;
    private final ComplexityClassifier classifier;
    private final EscalationCheck replyChecks = new ReplyChecks();
    private final SessionTiers sessions;
    private final RouterConfig config;
    private final Billing billing;
    private final MeterRegistry registry;

    ModelRouter(Map<String, ModelConfig> catalog, ComplexityClassifier classifier, RouterConfig config, Billing billing, MeterRegistry registry) {
        Map<ModelConfig.Tier, ModelConfig> byTier = new EnumMap<>(ModelConfig.Tier.class);
        for (ModelConfig m : catalog.values()) if (m.tier() != null && m.kind() == ModelConfig.Kind.CHAT) byTier.put(m.tier(), m);
        this.tiers = byTier;
        this.classifier = classifier;
        this.config = config;
        this.sessions = new SessionTiers(config);
        this.billing = billing;
        this.registry = registry;
    }

    /** Whether {@code model} is the router's to serve. */
    boolean routes(String model) {
        return ModelConfig.AUTO.equals(model);
    }

    /** Whether the catalog has tiers, so {@code auto} is offered. */
    boolean enabled() {
        return !tiers.isEmpty();
    }

    /** The tier models, cheapest first. */
    java.util.Collection<ModelConfig> tiers() {
        return tiers.values();
    }

    /** A routing decision: the model to call, and the route as recorded ({@code small->medium; reason=refusal}). */
    record Decision(ModelConfig model, List<ModelConfig.Tier> chain, String reason, String detail) {
        String header() {
            StringBuilder sb = new StringBuilder();
            for (ModelConfig.Tier t : chain) sb.append(sb.isEmpty() ? "" : "->").append(t.label());
            sb.append("; reason=").append(reason);
            if (detail != null) sb.append("; ").append(detail);
            return sb.toString();
        }

        ModelConfig.Tier tier() {
            return chain.get(chain.size() - 1);
        }

        Decision escalated(ModelConfig next, String check) {
            List<ModelConfig.Tier> longer = new ArrayList<>(chain);
            longer.add(next.tier());
            return new Decision(next, List.copyOf(longer), check, null);
        }

        Decision noted(String note) {
            return new Decision(model, chain, reason, note);
        }
    }

    /** Refuses {@code auto} when no catalog model has a tier. */
    void requireTiers() {
        if (!enabled()) {
            throw new ApiException(404, "invalid_request_error", "The model 'auto' needs router tiers: set tier: small, medium or large on catalog"
                    + " models in keel.yaml", "model", "model_not_found");
        }
    }

    /**
     * Picks the tier for {@code request} from the classifier, the session and what the caller may
     * use ({@code usable}), and records it in the trace.
     */
    private Decision route(ObjectNode request, ChatGateway.Caller caller, Trace trace, List<ModelConfig> usable) {
        ComplexityClassifier.Classification c;
        try (Span ignored = trace.span("route")) {
            c = classifier.classify(request);
        }
        c.features().forEach((name, value) -> trace.attr("route.feature." + name, value));
        trace.attr("route.classified", c.tier().label()).attr("route.classified_reason", label(c.reason()));
        ModelConfig.Tier wanted = c.tier();
        String reason = label(c.reason());
        Optional<ModelConfig.Tier> pinned = sessions.tier(caller.tenant(), caller.keyId(), caller.session());
        if (pinned.isPresent() && pinned.get().compareTo(wanted) > 0) {
            wanted = pinned.get();
            reason = "session";
        }
        trace.attr("route.sticky", pinned.isPresent());
        ModelConfig chosen = atOrAbove(usable, wanted);
        if (chosen == null) {
            chosen = usable.get(usable.size() - 1);
            reason = reason + "+capped";
        } else if (chosen.tier() != wanted) {
            reason = reason + "+raised";
        }
        Decision d = new Decision(chosen, List.of(chosen.tier()), reason, null);
        record(trace, d);
        return d;
    }

    /**
     * Serves {@code request} on the routed tier, escalating while a reply fails a check and a higher
     * usable tier is left; {@code check} runs after the router's own checks. A failure of an
     * escalated call (provider down) is the client's error, as on any request.
     */
    ChatGateway.Result complete(ObjectNode request, ChatGateway.Caller caller, Trace trace, Ledger.Tags tags, EscalationCheck check, ChatGateway gateway) {
        List<ModelConfig> usable = usable(request, caller);
        Decision d = route(request, caller, trace, usable);
        Optional<StructuredOutput> shape = StructuredOutput.of(request);
        Billing.Ticket ticket = billing.admitChat(caller, d.model(), request, trace);
        double spent = 0;
        boolean priced = true;
        for (int attempt = 1; ; attempt++) {
            ModelConfig next = config.escalate() ? above(usable, d.tier()) : null;
            ticket.tag(tags);
            ticket.tag(new Ledger.Tags(null, d.header(), null));
            ChatGateway.Result r = gateway.serve(ticket, d.model(), request.deepCopy(), trace, next == null);
            spent += r.cost().usd();
            priced &= r.cost().priceKnown();
            Optional<String> failed = failure(request, r, shape, check);
            trace.attr("route.attempt." + attempt, d.tier().label() + ":" + failed.orElse("ok"));
            if (failed.isEmpty()) return finish(d, "passed", r, spent, priced, caller, trace, attempt);
            if (next == null) return finish(d.noted("failed=" + failed.get()), "failed", r, spent, priced, caller, trace, attempt);
            Optional<String> refused = Optional.empty();
            try {
                ticket = billing.admitChat(caller, next, request, trace);
            } catch (ApiException e) {
                if (!LIMIT_CODES.contains(e.code())) throw e;
                refused = Optional.of(e.code());
            }
            if (refused.isPresent()) {
                trace.attr("route.escalation_refused", refused.get());
                if (failed.get().equals(INVALID_JSON)) {
                    count(d, "refused");
                    throw new ApiException(422, "invalid_response_error", "the " + d.tier().label() + " tier's reply did not match the requested"
                            + " format, and escalating to the " + next.tier().label() + " tier was refused by this key's limits (" + refused.get() + ")",
                            "response_format", "schema_validation_failed");
                }
                return finish(d.noted("failed=" + failed.get() + "; escalation=" + refused.get()), "refused", r, spent, priced, caller, trace,
                        attempt);
            }
            d = d.escalated(next, failed.get());
            record(trace, d);
        }
    }

    /**
     * Streams {@code request} on the routed tier. With {@code router.escalate_streams}, a tier's reply is held back until
     * its opening passed the router's own checks ({@link HeldOpening}), and a reply that fails is asked again on the next
     * usable tier, as {@link #complete} does (each call admitted and billed; when the key's limits refuse the escalation,
     * the held reply is sent). Otherwise, and on the last usable tier, the stream is the client's as it arrives.
     */
    ChatGateway.Streamed stream(ObjectNode request, ChatGateway.Caller caller, Trace trace, Ledger.Tags tags, StreamListener listener,
                                ChatGateway gateway) {
        List<ModelConfig> usable = usable(request, caller);
        Decision d = route(request, caller, trace, usable);
        Billing.Ticket ticket = billing.admitChat(caller, d.model(), request, trace);
        double spent = 0;
        boolean priced = true;
        for (int attempt = 1; ; attempt++) {
            ModelConfig next = config.escalate() && config.escalateStreams() ? above(usable, d.tier()) : null;
            ticket.tag(tags);
            ticket.tag(new Ledger.Tags(null, d.header(), null));
            if (next == null) {
                ChatGateway.Streamed s = gateway.serveStream(ticket, d.model(), request.deepCopy(), trace, listener);
                return finish(d, "streamed", s, spent, priced, caller, trace, attempt);
            }
            HeldOpening held = new HeldOpening(request, listener, replyChecks);
            ChatGateway.Streamed s = gateway.serveStream(ticket, d.model(), request.deepCopy(), trace, held);
            Optional<String> failed = held.verdict();
            trace.attr("route.attempt." + attempt, d.tier().label() + ":" + failed.orElse("ok"));
            if (failed.isEmpty()) return finish(d, "passed", s, spent, priced, caller, trace, attempt);
            try {
                ticket = billing.admitChat(caller, next, request, trace);
            } catch (ApiException e) {
                if (!LIMIT_CODES.contains(e.code())) throw e;
                trace.attr("route.escalation_refused", e.code());
                Decision kept = d.noted("failed=" + failed.get() + "; escalation=" + e.code());
                record(trace, kept); // before the held reply goes out: its first chunk carries the route header
                held.release();
                return finish(kept, "refused", s, spent, priced, caller, trace, attempt);
            }
            spent += s.cost().usd();
            priced &= s.cost().priceKnown();
            d = d.escalated(next, failed.get());
            record(trace, d);
        }
    }

    /** {@link #finish(Decision, String, ChatGateway.Result, double, boolean, ChatGateway.Caller, Trace, int)} for a stream. */
    private ChatGateway.Streamed finish(Decision d, String outcome, ChatGateway.Streamed last, double spentBefore, boolean pricedBefore,
                                        ChatGateway.Caller caller, Trace trace, int attempts) {
        record(trace, d);
        count(d, outcome);
        trace.attr("route.attempts", attempts);
        if (d.chain().size() > 1) sessions.raise(caller.tenant(), caller.keyId(), caller.session(), d.tier());
        return new ChatGateway.Streamed(last.provider(), last.usage(),
                new Prices.Cost(spentBefore + last.cost().usd(), pricedBefore && last.cost().priceKnown()));
    }

    /** The served reply with the whole route's cost; an escalated session keeps its tier. */
    private ChatGateway.Result finish(Decision d, String outcome, ChatGateway.Result last, double spent, boolean priced, ChatGateway.Caller caller,
                                      Trace trace, int attempts) {
        record(trace, d);
        count(d, outcome);
        trace.attr("route.attempts", attempts);
        if (d.chain().size() > 1) sessions.raise(caller.tenant(), caller.keyId(), caller.session(), d.tier());
        return new ChatGateway.Result(last.completion(), last.provider(), last.usage(), new Prices.Cost(spent, priced));
    }

    /** The first failed check: the requested format, then the router's own, then the caller's. */
    private Optional<String> failure(ObjectNode request, ChatGateway.Result r, Optional<StructuredOutput> shape, EscalationCheck check) {
        ObjectNode body = r.completion().body();
        if (shape.isPresent() && !shape.get().problems(body).isEmpty()) return Optional.of(INVALID_JSON);
        Optional<String> own = replyChecks.failure(request, body);
        if (own.isPresent()) return own;
        return check.failure(request, body).map(ModelRouter::label);
    }

    /**
     * The tier models the caller may use that can serve the request, cheapest first: 404 without
     * tiers, 403 when the key does not allow {@code auto}, 400 when no tier can serve the request.
     */
    private List<ModelConfig> usable(ObjectNode request, ChatGateway.Caller caller) {
        requireTiers();
        ApiKey key = caller.key();
        if (key != null && !key.allows(ModelConfig.AUTO)) throw Billing.notAllowed(key, ModelConfig.AUTO);
        List<ModelConfig> usable = new ArrayList<>();
        List<String> why = new ArrayList<>();
        for (ModelConfig m : tiers.values()) {
            Optional<ApiException> unfit = ChatGateway.incompatibility(m, request);
            if (key != null && !key.allows(m.name())) why.add(m.tier().label() + ": this key may not use model '" + m.name() + "'");
            else if (unfit.isPresent()) why.add(m.tier().label() + ": " + unfit.get().getMessage());
            else if (key != null && key.maxCostPerRequestUsd() > 0 && billing.worstCase(m, request).usd() > key.maxCostPerRequestUsd()) {
                why.add(m.tier().label() + ": over this key's maximum cost per request");
            } else usable.add(m);
        }
        if (usable.isEmpty()) throw ApiException.badRequest("no router tier can serve this request (" + String.join("; ", why) + ")", "model");
        return usable;
    }

    /** The cheapest usable tier strictly above {@code tier}, or null. */
    private static ModelConfig above(List<ModelConfig> usable, ModelConfig.Tier tier) {
        for (ModelConfig m : usable) if (m.tier().compareTo(tier) > 0) return m;
        return null;
    }

    /** The cheapest usable tier at {@code tier} or above, or null. */
    private static ModelConfig atOrAbove(List<ModelConfig> usable, ModelConfig.Tier tier) {
        for (ModelConfig m : usable) if (m.tier().compareTo(tier) >= 0) return m;
        return null;
    }

    /**
     * Counts a routed request in {@code keel_router_requests_total}: the tier it started on, the tier
     * that served it, and how it ended (passed its checks, failed them on the last tier, escalation
     * refused by the key's limits, or streamed unchecked).
     */
    private void count(Decision d, String outcome) {
        Counter.builder("keel.router.requests").description("Requests to the model 'auto', by first and serving tier and outcome")
                .tag("first", d.chain().get(0).label()).tag("tier", d.tier().label()).tag("outcome", outcome).register(registry).increment();
    }

    private static void record(Trace trace, Decision d) {
        trace.attr("route.tier", d.tier().label()).attr("route.model", d.model().name()).attr(ChatGateway.ROUTE_ATTRIBUTE, d.header());
    }

    /** A label fit for headers, the ledger and traces: a short fixed word, else {@link #UNNAMED_CHECK}. */
    static String label(String reason) {
        return reason != null && LABEL.matcher(reason).matches() ? reason : UNNAMED_CHECK;
    }
}
