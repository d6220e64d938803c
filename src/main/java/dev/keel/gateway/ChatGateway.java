package dev.keel.gateway;

import dev.keel.model.ApiException;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ConfigException;
import dev.keel.config.GatewayConfig;
import dev.keel.config.GuardConfig;
import dev.keel.config.ModelConfig;
import dev.keel.config.ProviderConfig;
import dev.keel.config.RouterConfig;
import dev.keel.model.ChatCompletion;
import dev.keel.model.ChatText;
import dev.keel.model.Deadline;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.model.ProviderException;
import dev.keel.provider.Prices;
import dev.keel.guard.Guard;
import dev.keel.guard.Redaction;
import dev.keel.store.ApiKey;
import dev.keel.store.Ledger;
import dev.keel.provider.AnthropicChatModel;
import dev.keel.provider.ChatModel;
import dev.keel.provider.CircuitBreakers;
import dev.keel.provider.DocumentAnswerer;
import dev.keel.provider.ExtractiveChatModel;
import io.micrometer.core.instrument.MeterRegistry;
import dev.keel.provider.OpenAiChatModel;
import dev.keel.provider.ProviderChain;
import dev.keel.trace.Trace;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible chat path: validates the request, resolves the public model name through
 * the catalog (or passes it through to the zero-config provider), and serves it through the
 * {@link ProviderChain}. The response carries the public model name. Thread-safe.
 */
public final class ChatGateway implements AutoCloseable {
    static final String PASSTHROUGH = "openai", PASSTHROUGH_ANTHROPIC = "anthropic", BUILT_IN_EXTRACTIVE = "keel";
    /** The model every zero-config server offers: extractive answers from the caller's documents. */
    public static final String EXTRACTIVE_MODEL = "keel-extractive";
    /** Bounds each upstream call of a request (a structured-output retry is a second call with its own). */
    public static final Duration REQUEST_DEADLINE = Duration.ofMinutes(5);
    /** Model names a client sent are quoted up to this length, so an error never echoes a large body. */
    private static final int MAX_SHOWN_NAME = 200;
    private static final Logger LOG = LoggerFactory.getLogger(ChatGateway.class);

    private final Map<String, ModelConfig> catalog;
    private final ProviderChain chain;
    /** Providers registered from the environment; non-empty means model names pass through to them. */
    private final java.util.Set<String> passthroughProviders;
    private final CircuitBreakers breakers;
    private final Billing billing;
    private final ModelListing listing;
    /** Providers of type extractive: their replies quote the documents; no language model writes them. */
    private final java.util.Set<String> offlineProviders;
    private final ModelRouter router;
    private final ChatCaching caching;
    /** What to configure for models beyond the built-in one, when no provider is configured (null: providers are). */
    private final String setupHint;
    private final ChatGuard guard;
    /** Providers marked private in keel.yaml: the only ones a request under a PRIVATE policy may reach. */
    private final java.util.Set<String> privateProviders;

    ChatGateway(Map<String, ModelConfig> catalog, ProviderChain chain, CircuitBreakers breakers, java.util.Set<String> passthroughProviders,
                Billing billing, java.util.Set<String> offlineProviders, ModelRouter router, ChatCaching caching, String setupHint, ChatGuard guard,
                java.util.Set<String> privateProviders) {
        this.setupHint = setupHint;
        this.guard = guard;
        this.privateProviders = java.util.Set.copyOf(privateProviders);
        this.offlineProviders = java.util.Set.copyOf(offlineProviders);
        this.router = router;
        this.catalog = Map.copyOf(catalog);
        this.chain = chain;
        this.breakers = breakers;
        this.passthroughProviders = java.util.Set.copyOf(passthroughProviders);
        this.billing = billing;
        List<String> listed = new ArrayList<>(catalog.keySet());
        if (router.enabled()) listed.add(ModelConfig.AUTO);
        this.listing = new ModelListing(listed, passthroughProviders);
        this.caching = caching;
    }

    /** The trace attribute holding the router's decision, as sent in {@code x-keel-route}. */
    public static final String ROUTE_ATTRIBUTE = "route.decision";

    /**
     * Who is asking: the tenant, the API key (null for open local use), the client's session id
     * (null: none), which keeps an escalated router tier for the session's next requests, and the
     * client request's {@link RequestCost}, shared by every model call made for that request.
     */
    public record Caller(String tenant, ApiKey key, String session, RequestCost cost, boolean cacheOff, GuardPass guard, Deadline deadline) {
        public Caller(String tenant, ApiKey key, String session, RequestCost cost) {
            this(tenant, key, session, cost, false, null, null);
        }

        /** A caller of a request of its own (a new {@link RequestCost}). */
        public Caller(String tenant, ApiKey key, String session) {
            this(tenant, key, session, new RequestCost());
        }

        /** This caller for a request marked user-specific ({@code "cache": "off"}): none of its model calls read or write the caches. */
        public Caller withoutCache() {
            return new Caller(tenant, key, session, cost, true, guard, deadline);
        }

        /**
         * This caller for model calls that must end by {@code until} (an agent run's time limit): each call gets the
         * earlier of it and the gateway's own {@link #REQUEST_DEADLINE}.
         */
        public Caller until(Deadline until) {
            return new Caller(tenant, key, session, cost, cacheOff, guard, until);
        }

        /**
         * The guard policy this caller's request was screened under, as its {@link dev.keel.config.GuardPolicy#fingerprint()
         * settings} ("" before screening or with the guard off). Cached replies and answers are kept apart by it: one made
         * under a lenient policy (no canary, emails allowed out) is never served under another, nor under the same name
         * after its settings changed.
         */
        public String guardPolicy() {
            return guard == null || guard.policy() == null ? "" : guard.policy().fingerprint();
        }

        /** The deadline of one model call made for this caller, starting now. */
        Deadline callDeadline() {
            Deadline own = Deadline.in(REQUEST_DEADLINE);
            return deadline == null || own.remaining().compareTo(deadline.remaining()) <= 0 ? own : deadline;
        }

        /**
         * This caller for model calls whose prompts Keel assembles from text that must reach the model as it is, such
         * as a judge's rubric with the documents and answers it judges: the input guard neither checks nor redacts
         * them, as it does not re-check an answer's own model calls (see {@link GuardPass}); the output guard still
         * reads the replies.
         */
        public Caller screenedByKeel() {
            return withGuard(new GuardPass(null, GuardConfig.Profile.STRICT, new Redaction(), false));
        }

        /** This caller once the input guard passed its request (see {@link GuardPass}). */
        Caller withGuard(GuardPass pass) {
            return new Caller(tenant, key, session, cost, cacheOff, pass, deadline);
        }

        public Caller(String tenant, ApiKey key) {
            this(tenant, key, null);
        }

        public String keyId() {
            return key == null ? null : key.id();
        }
    }

    /** A served non-streamed completion with its usage and cost. */
    public record Result(ChatCompletion completion, String provider, Usage usage, Prices.Cost cost) {}

    /** Closes all circuit breakers, forgetting their history. */
    public void resetBreakers() {
        breakers.resetAll();
    }

    /** Provider name → circuit breaker state. */
    public Map<String, String> providerStates() {
        return breakers.states();
    }

    /**
     * Builds the gateway from configuration. With no providers configured, {@code OPENAI_API_KEY}
     * (and optional {@code OPENAI_BASE_URL}) in {@code env} registers an "openai" provider and model
     * names pass through to it, as the OpenAI SDKs do (likewise {@code ANTHROPIC_API_KEY}), and the
     * model {@value #EXTRACTIVE_MODEL} answers from the caller's documents through {@code documents}.
     */
    public static ChatGateway create(GatewayConfig config, Function<String, String> env, MeterRegistry registry, Ledger ledger,
                                     DocumentAnswerer documents) {
        return create(config, RouterConfig.DEFAULTS, env, registry, ledger, documents, GatewayCache.disabled(registry), null);
    }

    /**
     * As {@link #create(GatewayConfig, Function, MeterRegistry, Ledger, DocumentAnswerer)}, with the
     * router's settings, serving and storing responses through {@code cache}, with {@code guard} on
     * its input and output (null: none).
     */
    public static ChatGateway create(GatewayConfig config, RouterConfig routing, Function<String, String> env, MeterRegistry registry, Ledger ledger,
                                     DocumentAnswerer documents, GatewayCache cache, Guard guard) {
        return create(config, routing, env, registry, ledger, documents, cache, guard, LimitStore.inProcess(ledger));
    }

    /**
     * As {@link #create(GatewayConfig, RouterConfig, Function, MeterRegistry, Ledger, DocumentAnswerer, GatewayCache, Guard)},
     * with the keys' rate limits and budgets counted in {@code limits} (shared by replicas when it is Redis's).
     */
    public static ChatGateway create(GatewayConfig config, RouterConfig routing, Function<String, String> env, MeterRegistry registry, Ledger ledger,
                                     DocumentAnswerer documents, GatewayCache cache, Guard guard, LimitStore limits) {
        Map<String, ProviderConfig> providers = new LinkedHashMap<>(config.providers());
        Map<String, ModelConfig> catalog = new LinkedHashMap<>(config.models());
        java.util.Set<String> passthrough = new java.util.LinkedHashSet<>();
        String setupHint = null;
        if (providers.isEmpty()) {
            List<String> hints = new ArrayList<>();
            fromEnvironment(providers, env, PASSTHROUGH, ProviderConfig.Type.OPENAI, "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1")
                    .ifPresent(hints::add);
            fromEnvironment(providers, env, PASSTHROUGH_ANTHROPIC, ProviderConfig.Type.ANTHROPIC, "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
                    "https://api.anthropic.com/v1").ifPresent(hints::add);
            hints.forEach(LOG::warn);
            passthrough.addAll(providers.keySet());
            if (passthrough.isEmpty()) {
                hints.add("no providers are configured (add providers and models to keel.yaml, or set OPENAI_API_KEY / ANTHROPIC_API_KEY)");
                setupHint = String.join("; ", hints);
            }
            // Offline by default: chat with the documents through any OpenAI client, no provider needed.
            providers.put(BUILT_IN_EXTRACTIVE, ProviderConfig.extractive(BUILT_IN_EXTRACTIVE));
            catalog.putIfAbsent(EXTRACTIVE_MODEL, new ModelConfig(EXTRACTIVE_MODEL, ModelConfig.Kind.CHAT, List.of(new ModelConfig.Target(BUILT_IN_EXTRACTIVE, "extractive")), 0,
                    java.util.EnumSet.of(ModelConfig.Capability.STREAM), null, null, null));
        }
        Map<String, ChatModel> models = new LinkedHashMap<>();
        Map<String, Integer> retries = new LinkedHashMap<>();
        Map<String, Integer> openSeconds = new LinkedHashMap<>();
        providers.forEach((name, p) -> {
            models.put(name, switch (p.type()) {
                case OPENAI -> new OpenAiChatModel(p);
                case ANTHROPIC -> new AnthropicChatModel(p);
                case EXTRACTIVE -> new ExtractiveChatModel(name, documents);
            });
            retries.put(name, p.maxRetries());
            openSeconds.put(name, p.breakerOpenSeconds());
        });
        CircuitBreakers breakers = new CircuitBreakers(openSeconds, registry);
        ProviderChain chain = new ProviderChain(models, retries, breakers);
        Billing billing = new Billing(Prices.builtIn(), ledger, new Limits(limits, registry, config.budgetWebhook()), chain, config.defaultMaxOutputTokens());
        java.util.Set<String> offline = new java.util.HashSet<>();
        providers.forEach((name, p) -> {
            if (p.type() == ProviderConfig.Type.EXTRACTIVE) offline.add(name);
        });
        java.util.Set<String> privates = new java.util.HashSet<>();
        providers.forEach((name, p) -> {
            if (p.privateProvider()) privates.add(name);
        });
        return new ChatGateway(catalog, chain, breakers, passthrough, billing, offline,
                new ModelRouter(catalog, new RuleBasedClassifier(), routing, billing, registry), new ChatCaching(cache, billing, offline), setupHint,
                new ChatGuard(guard, registry), privates);
    }

    /**
     * Registers provider {@code name} when {@code keyVar} is set; a base URL set without the key
     * (typical for Ollama or vLLM, which ignore the key) registers nothing, and the hint says so.
     */
    private static Optional<String> fromEnvironment(Map<String, ProviderConfig> providers, Function<String, String> env, String name,
                                                    ProviderConfig.Type type, String keyVar, String urlVar, String defaultUrl) {
        String key = env.apply(keyVar);
        Optional<String> url = Optional.ofNullable(env.apply(urlVar)).filter(s -> !s.isBlank());
        if (key == null || key.isBlank()) {
            return url.map(u -> urlVar + " is set but " + keyVar + " is not, so no " + name + " provider is registered: set " + keyVar
                    + " too (any value for servers that ignore it, such as Ollama or vLLM)");
        }
        String base = url.orElse(defaultUrl);
        providers.put(name, ProviderConfig.of(name, type, ProviderConfig.baseUrl(urlVar, base), key));
        return Optional.empty();
    }

    /** Public model names, sorted. */
    public List<String> models() {
        return new ArrayList<>(new TreeSet<>(catalog.keySet()));
    }

    /** A model a caller may use, and who provides it ("keel" for catalog models, else the zero-config provider). */
    public record Listed(String id, String ownedBy) {}

    /** The models {@code caller} may use, sorted by id (see {@link ModelListing}). */
    public List<Listed> available(Caller caller) {
        return listing.visibleTo(caller.key(), name -> resolve(name, caller).targets().get(0).provider());
    }

    /** An upper bound of the prompt tokens a provider bills for {@code request} (what a budget reserves for it). */
    public static long promptTokenCeiling(ObjectNode request) {
        return TokenEstimate.promptCeiling(request);
    }

    public boolean passthrough() {
        return !passthroughProviders.isEmpty();
    }

    public Result complete(ObjectNode request, Caller caller, Trace trace) {
        return complete(request, caller, trace, Ledger.Tags.NONE, EscalationCheck.NONE);
    }

    /**
     * Serves a non-streamed completion with {@code tags} on its ledger rows (e.g. the prompt template
     * of a grounded answer); for the model {@value ModelConfig#AUTO}, {@code check} is run on each
     * reply after the router's own checks and escalates the request when it fails.
     */
    public Result complete(ObjectNode request, Caller caller, Trace trace, Ledger.Tags tags, EscalationCheck check) {
        ChatRequestValidator.validate(request);
        String name = request.get("model").asText();
        if (router.routes(name)) return router.complete(request, caller, trace, tags, check, this);
        ModelConfig model = routeForCost(caller, checkCapabilities(resolve(name, caller), request), request, trace);
        Billing.Ticket ticket = billing.admitChat(caller, model, request, trace);
        ticket.tag(tags);
        return serve(ticket, model, request, trace, true);
    }

    /**
     * Calls {@code model} for an admitted request and bills it: the input guard checks the request
     * first (once admitted, so a refused request has counted against the key's rate limit and costs
     * nothing). With {@code fixShape}, a reply that breaks the requested format is retried once with
     * the problems, then refused (422); without, it is returned as it is (the router escalates instead).
     */
    Result serve(Billing.Ticket ticket, ModelConfig model, ObjectNode request, Trace trace, boolean fixShape) {
        request.put("stream", false);
        trace.attr("model", model.name()).attr("stream", false).attr("messages", request.get("messages").size());
        GatewayCache.Probe probe = new GatewayCache.Off("chat", "refused");
        try {
            // Inside the try: a schema that does not compile (a 400) must release the admitted reservation too.
            Optional<StructuredOutput> shape = fixShape ? StructuredOutput.of(request) : Optional.empty();
            Caller caller = orRefused(ticket, trace, () -> guard.screen(request, ticket.caller(), trace));
            ModelConfig admitted = model;
            model = orRefused(ticket, trace, () -> privateOnly(caller, admitted));
            ChatGuard.ReplyGuard output = guard.reply(caller, request);
            // Inside the try: a refused probe (a bad "cache" field) must still release the admitted reservation.
            probe = caching.probe(caller, model.name(), request);
            Optional<Result> cached = caching.complete(probe, ticket, model.name(), trace);
            if (cached.isPresent()) return guarded(cached.get(), output, trace);
            guard.placeCanary(request, caller);
            ProviderChain.Served<ChatCompletion> served;
            try {
                served = chain.complete(model, request, ticket.outputCaps(), caller.callDeadline(), trace);
            } catch (ProviderException failure) {
                ProviderException e = asSeenByClient(model, failure);
                billing.bill(ticket, null, Usage.NONE, null, statusOf(e), trace);
                throw e;
            }
            Usage usage = usageOf(request, served.value());
            if (shape.isPresent()) {
                List<String> problems = shape.get().problems(served.value().body());
                if (!problems.isEmpty()) {
                    trace.attr("structured_output.retry", true).attr("structured_output.problems", problems.size());
                    ObjectNode again = withFeedback(request, served.value().body(), problems);
                    try {
                        billing.extend(ticket, again);
                        served = chain.complete(model, again, ticket.outputCaps(), caller.callDeadline(), trace);
                    } catch (ProviderException failure) {
                        ProviderException e = asSeenByClient(model, failure);
                        billing.bill(ticket, served.target(), usage, null, statusOf(e), trace);
                        throw e;
                    } catch (ApiException refused) {
                        billing.bill(ticket, served.target(), usage, null, 422, trace);
                        throw new ApiException(422, "invalid_response_error", "the model's reply did not match the requested format ("
                                + String.join("; ", problems.subList(0, Math.min(5, problems.size()))) + "), and a retry was refused: "
                                + refused.getMessage(), "response_format", "schema_validation_failed");
                    }
                    usage = sum(usage, usageOf(again, served.value()));
                    problems = shape.get().problems(served.value().body());
                    if (!problems.isEmpty()) {
                        billing.bill(ticket, served.target(), usage, null, 422, trace);
                        throw new ApiException(422, "invalid_response_error", "the model's reply did not match the requested format after one retry: "
                                + String.join("; ", problems.subList(0, Math.min(5, problems.size()))), "response_format", "schema_validation_failed");
                    }
                }
            }
            ObjectNode body = served.value().body();
            body.put("model", model.name());
            Prices.Cost cost = billing.bill(ticket, served.target(), usage, null, 200, trace);
            Result result = guarded(new Result(served.value(), served.provider(), usage, cost), output, trace);
            // The model's own text holds placeholders, never the caller's values; a reply the output guard acted on is not stored.
            if (!output.acted()) caching.remember(probe, served.provider(), body, cost, trace);
            return result;
        } finally {
            billing.closeUnbilled(ticket, trace);
            caching.release(probe);
        }
    }

    /** A finished stream: who served it, its usage (estimated when the provider sent none) and cost. */
    public record Streamed(String provider, Usage usage, Prices.Cost cost) {}

    /**
     * Streams a completion to {@code listener}. Usage comes from the provider's final chunk when it
     * sends one, else it is estimated from the request and the streamed text (and flagged).
     */
    public Streamed stream(ObjectNode request, Caller caller, Trace trace, StreamListener listener) {
        return stream(request, caller, trace, Ledger.Tags.NONE, listener);
    }

    /** {@link #stream(ObjectNode, Caller, Trace, StreamListener)} with {@code tags} for its ledger row. */
    public Streamed stream(ObjectNode request, Caller caller, Trace trace, Ledger.Tags tags, StreamListener listener) {
        ChatRequestValidator.validate(request);
        String name = request.get("model").asText();
        if (router.routes(name)) return router.stream(request, caller, trace, tags, listener, this);
        ModelConfig admitted = routeForCost(caller, checkCapabilities(resolve(name, caller), request), request, trace);
        Billing.Ticket ticket = billing.admitChat(caller, admitted, request, trace);
        ticket.tag(tags);
        return serveStream(ticket, admitted, request, trace, listener);
    }

    /**
     * Streams a completion of {@code admitted} for an admitted request to {@code listener} and bills it, as
     * {@link #serve} does for a completion: the input guard first, then the cache, then the provider chain.
     */
    Streamed serveStream(Billing.Ticket ticket, ModelConfig admitted, ObjectNode request, Trace trace, StreamListener listener) {
        Caller caller = ticket.caller();
        trace.attr("model", admitted.name()).attr("stream", true).attr("messages", request.get("messages").size());
        long[] firstChunk = {0};
        ModelConfig.Target[] attempted = {null};
        Usage[] cut = {null};
        StreamedText text = new StreamedText();
        GatewayCache.Probe probe = new GatewayCache.Off("chat", "refused");
        ModelConfig model = admitted;
        try {
            Caller screened = orRefused(ticket, trace, () -> guard.screen(request, ticket.caller(), trace));
            model = orRefused(ticket, trace, () -> privateOnly(screened, admitted));
            String shownModel = model.name();
            ChatGuard.GuardedStream guarded = guard.reply(screened, request).stream(listener, trace);
            probe = caching.probe(screened, model.name(), request);
            ChatCaching.Recorder recorder = caching.recorder(guarded);
            StreamListener metered = chunk -> {
                if (firstChunk[0] == 0) firstChunk[0] = System.nanoTime();
                chunk.put("model", shownModel);
                text.add(chunk);
                if (text.tokensAtMost() <= billing.heldOutput(ticket, attempted[0]) || billing.mayOutput(ticket, attempted[0], text.tokens())) {
                    return recorder.onChunk(chunk);
                }
                // An upstream writing past the output Keel reserved (it ignored max_tokens) that the budget cannot take: ended
                // before this chunk, which is neither sent nor billed (the caller is billed no more than was reserved).
                cut[0] = TokenEstimate.of(request, Math.min(text.tokens(), billing.heldOutput(ticket, attempted[0])));
                trace.attr(Trace.STREAM_CUT, "output_reservation");
                recorder.onChunk(cutAtLength(chunk, request));
                if (request.path("stream_options").path("include_usage").asBoolean(false)) recorder.onChunk(usageChunk(chunk, cut[0]));
                return false;
            };
            Optional<Streamed> cached = caching.stream(probe, ticket, model.name(), request, trace, guarded);
            if (cached.isPresent()) {
                guarded.end();
                return cached.get();
            }
            guard.placeCanary(request, screened);
            ProviderChain.Served<Usage> served = chain.stream(model, request, ticket.outputCaps(), caller.callDeadline(), trace, metered,
                    target -> attempted[0] = target);
            guarded.end();
            // A stream Keel cut is billed its prompt and the text sent, which is at most what was reserved.
            Usage usage = cut[0] != null ? cut[0] : served.value().estimated() ? TokenEstimate.of(request, text.tokens()) : served.value();
            Prices.Cost cost = billing.bill(ticket, served.target(), usage, ttftMs(ticket, firstChunk[0]), 200, trace);
            if (guarded.clean() && cut[0] == null) caching.remember(probe, recorder, served.provider(), model.name(), usage, cost, trace);
            return new Streamed(served.provider(), usage, cost);
        } catch (ProviderException failure) {
            ProviderException e = asSeenByClient(model, failure);
            // Once the upstream sent a chunk it had read the prompt: a stream that broke then is billed for it, text or not.
            Usage partial = firstChunk[0] == 0 && text.isEmpty() ? Usage.NONE : TokenEstimate.of(request, text.tokens());
            // A stream that broke after it started is not retried: what it sent came from the target last attempted.
            billing.bill(ticket, firstChunk[0] != 0 ? attempted[0] : null, partial, ttftMs(ticket, firstChunk[0]), firstChunk[0] != 0 ? 200 : statusOf(e), trace);
            throw e;
        } finally {
            billing.closeUnbilled(ticket, trace);
            caching.release(probe);
        }
    }

    /** The chunk that ends a stream Keel cut at its output reservation: each choice finished for {@code "length"}, as max_tokens would. */
    private static ObjectNode cutAtLength(ObjectNode last, ObjectNode request) {
        ObjectNode end = ChatCaching.chunk(last);
        com.fasterxml.jackson.databind.node.ArrayNode choices = end.putArray("choices");
        for (int i = 0; i < Math.max(1, request.path("n").asInt(1)); i++) {
            ObjectNode choice = choices.addObject().put("index", i);
            choice.putObject("delta");
            choice.put("finish_reason", "length");
        }
        return end;
    }

    /** The usage-only chunk that a client asking {@code stream_options.include_usage} gets last, here with Keel's estimate. */
    private static ObjectNode usageChunk(ObjectNode last, Usage usage) {
        ObjectNode chunk = ChatCaching.chunk(last);
        chunk.putArray("choices");
        chunk.putObject("usage").put("prompt_tokens", usage.promptTokens()).put("completion_tokens", usage.completionTokens())
                .put("total_tokens", usage.promptTokens() + usage.completionTokens());
        return chunk;
    }

    /**
     * What {@code step} gives for an admitted request; a refusal on the way (the input guard, a
     * private-only policy) is billed as such (nothing spent, the reservation released) and rethrown.
     */
    private <T> T orRefused(Billing.Ticket ticket, Trace trace, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (ApiException refused) {
            billing.bill(ticket, null, Usage.NONE, null, refused.status(), trace);
            throw refused;
        }
    }

    /** {@code result} with its completion as the client gets it (placeholders restored, output checked). */
    private static Result guarded(Result result, ChatGuard.ReplyGuard output, Trace trace) {
        ChatCompletion c = result.completion();
        return new Result(new ChatCompletion(output.finish(c.body(), trace), c.provider(), c.upstreamModel(), c.usage()), result.provider(),
                result.usage(), result.cost());
    }

    /**
     * {@code model} with only the targets of private providers when the caller's request carries an
     * entity under the PRIVATE policy; refused when the model has none.
     */
    private ModelConfig privateOnly(Caller caller, ModelConfig model) {
        if (caller.guard() == null || !caller.guard().privateOnly()) return model;
        List<ModelConfig.Target> targets = model.targets().stream().filter(t -> privateProviders.contains(t.provider())).toList();
        if (targets.isEmpty()) {
            throw new ApiException(400, "invalid_request_error", "This request contains personal data that the guard.pii policy 'private' lets"
                    + " only providers marked 'private: true' see, and model '" + model.name() + "' has none; use a model served by a private"
                    + " provider or remove the data.", "messages", "private_provider_required");
        }
        return targets.equals(model.targets()) ? model : model.withTargets(targets);
    }

    /** The guard profile the pipeline applies to {@code caller}: its key's, else its tenant's, else the default; strict without a key. */
    public GuardConfig.Profile guardProfile(Caller caller) {
        return guard.profileOf(caller);
    }

    /**
     * The guard under {@code caller}'s policy (its key's {@code guard_policy}, else its tenant's, else the
     * global one; see {@code GuardConfig}): what the check API, answers and tools apply for it. Null
     * when the gateway has no guard.
     */
    public Guard guardOf(Caller caller) {
        return guard.guardOf(caller);
    }

    /**
     * Checks an answer's question (and conversation) once at the answer's entry, as a chat request's
     * messages are checked: a refusal is the same 400; the answer's model calls go out with the
     * returned caller, so the documents in their prompts are not scored as the caller's input, and
     * the returned question has placeholders for redacted entities.
     */
    public Screened screenQuestion(String question, Caller caller, Trace trace) {
        return guard.screenQuestion(question, caller, trace);
    }

    /** An answer's question as the answer path uses it, and its caller with the input guard's pass. */
    public record Screened(String question, Caller caller) {
        /** {@code text} (an answer) with the question's placeholders given their values back. */
        public String restore(String text) {
            return caller.guard() == null ? text : caller.guard().redaction().restore(text);
        }
    }

    private static Double ttftMs(Billing.Ticket ticket, long firstChunkNanos) {
        return firstChunkNanos == 0 ? null : (firstChunkNanos - ticket.startNanos()) / 1e6;
    }

    /** Remote embeddings with their usage and cost. */
    public record Embedded(ObjectNode body, String provider, Usage usage, Prices.Cost cost) {}

    /**
     * Whether embeddings for {@code name} are served remotely: an embedding model of the catalog, or
     * any name passed through to the zero-config OpenAI provider.
     */
    public boolean servesEmbeddings(String name) {
        ModelConfig m = catalog.get(name);
        return m != null ? m.kind() == ModelConfig.Kind.EMBEDDING : passthroughProviders.contains(PASSTHROUGH);
    }

    /** Embedding model names of the catalog, sorted. */
    public List<String> embeddingModels() {
        return catalog.values().stream().filter(m -> m.kind() == ModelConfig.Kind.EMBEDDING).map(ModelConfig::name).sorted().toList();
    }

    /**
     * Proxies an OpenAI {@code /v1/embeddings} request to the model's targets (retries, fallback,
     * breakers as for chat), under the key's allowance, limits and budgets, and ledgers it.
     */
    public Embedded embed(ObjectNode request, Caller caller, Trace trace) {
        String name = request.path("model").asText();
        ModelConfig model = catalog.get(name);
        if (model == null && passthroughProviders.contains(PASSTHROUGH)) {
            model = new ModelConfig(name, ModelConfig.Kind.EMBEDDING, List.of(new ModelConfig.Target(PASSTHROUGH, name)), 0, java.util.Set.of(), null,
                    null, null);
        }
        if (model == null || model.kind() != ModelConfig.Kind.EMBEDDING) {
            throw new ApiException(404, "invalid_request_error", "'" + shown(name) + "' is not an embedding model", "model", "model_not_found");
        }
        trace.attr("model", name);
        long inputTokens = TokenEstimate.ofInput(request.get("input"));
        Billing.Ticket ticket = billing.admitEmbedding(caller, model, inputTokens, trace);
        try {
            ProviderChain.Served<dev.keel.model.EmbeddingResult> served;
            try {
                served = chain.embed(model, request, caller.callDeadline(), trace);
            } catch (ProviderException failure) {
                ProviderException e = asSeenByClient(model, failure);
                billing.bill(ticket, null, Usage.NONE, null, statusOf(e), trace);
                throw e;
            }
            Usage usage = served.value().usage().equals(Usage.NONE) ? new Usage(inputTokens, 0, 0, true) : served.value().usage();
            ObjectNode body = served.value().body();
            body.put("model", name);
            Prices.Cost cost = billing.bill(ticket, served.target(), usage, null, 200, trace);
            return new Embedded(body, served.provider(), usage, cost);
        } finally {
            billing.closeUnbilled(ticket, trace);
        }
    }

    /**
     * An upstream that does not know the model is the client's 404 only when the client named that
     * model (passthrough); for a catalog model it is Keel's configuration that names a missing one.
     */
    private ProviderException asSeenByClient(ModelConfig model, ProviderException e) {
        if (!e.modelNotFound() || !catalog.containsKey(model.name())) return e;
        return new ProviderException(ProviderException.Kind.UNAVAILABLE, e.provider(), e.upstreamStatus(), "the provider has no model named by"
                + " catalog model '" + model.name() + "' (check models." + model.name() + ".targets)", null, null);
    }

    /** The HTTP status a classified provider failure gives the client. */
    public static int statusOf(ProviderException e) {
        return switch (e.kind()) {
            case RATE_LIMITED -> 429;
            case TIMEOUT -> 504;
            case BAD_REQUEST -> e.modelNotFound() ? 404 : 400;
            case CONTENT_FILTERED -> 400;
            case UNAVAILABLE -> e.upstreamStatus() == 0 ? 503 : 502;
            case AUTHENTICATION, MALFORMED_RESPONSE -> 502;
        };
    }

    private static Usage usageOf(ObjectNode request, ChatCompletion completion) {
        return completion.usage().estimated() ? TokenEstimate.of(request, TokenEstimate.completion(completion.body())) : completion.usage();
    }

    private static Usage sum(Usage a, Usage b) {
        return new Usage(a.promptTokens() + b.promptTokens(), a.completionTokens() + b.completionTokens(), a.cachedTokens() + b.cachedTokens(),
                a.estimated() || b.estimated());
    }

    /** The request again, with the non-conforming reply and what was wrong with it, asking for a corrected reply. */
    private static ObjectNode withFeedback(ObjectNode request, ObjectNode reply, List<String> problems) {
        ObjectNode again = request.deepCopy();
        JsonNode message = reply.path("choices").path(0).path("message");
        ObjectNode assistant = again.withArray("messages").addObject().put("role", "assistant");
        assistant.put("content", message.path("content").asText(""));
        if (message.path("tool_calls").isArray() && !message.path("tool_calls").isEmpty()) assistant.set("tool_calls", message.get("tool_calls"));
        for (JsonNode call : message.path("tool_calls")) {
            again.withArray("messages").addObject().put("role", "tool").put("tool_call_id", call.path("id").asText())
                    .put("content", "error: arguments did not match the tool's parameters schema");
        }
        again.withArray("messages").addObject().put("role", "user").put("content",
                "Your previous reply did not match the required format: " + String.join("; ", problems) + ". Reply again, matching it exactly.");
        return again;
    }

    /**
     * Trace attributes of the model call that wrote a grounded answer: the catalog model that served
     * it (a router tier, a downgrade) and the worst case it was admitted with. A cached copy of the
     * answer is served and admitted by them ({@link #mayServeCachedAnswer}, {@link #billCachedAnswer}).
     */
    public static final String ANSWER_MODEL_ATTRIBUTE = "answer.served_by", ANSWER_MAX_TOKENS_ATTRIBUTE = "answer.max_tokens",
            ANSWER_MAX_USD_ATTRIBUTE = "answer.max_cost_usd";

    /** Marks the model call just made for {@code trace} as the one that wrote its grounded answer (before a verifier's call). */
    public static void markAnswerCall(Trace trace) {
        for (String[] copy : new String[][] {{"model", ANSWER_MODEL_ATTRIBUTE}, {"estimate.max_tokens", ANSWER_MAX_TOKENS_ATTRIBUTE},
                {"estimate.max_cost_usd", ANSWER_MAX_USD_ATTRIBUTE}}) {
            // A call without a key reserves nothing, so it records no estimate.
            Object value = trace.attribute(copy[0]);
            if (value != null) trace.attr(copy[1], value);
        }
    }

    /**
     * Whether {@code caller} could have got an answer that {@code servedBy} wrote (null: no model did)
     * in a call costing up to {@code maxUsd} (NaN: not known, made without a key): its key allows that
     * model and its cost cap per request admits the call.
     */
    public boolean mayServeCachedAnswer(Caller caller, String servedBy, double maxUsd) {
        ApiKey key = caller.key();
        if (key == null || servedBy == null) return true;
        if (Double.isNaN(maxUsd) || !key.allows(servedBy)) return false;
        return key.maxCostPerRequestUsd() <= 0 || caller.cost().committedUsd() + maxUsd <= key.maxCostPerRequestUsd() + Limits.USD_TOLERANCE;
    }

    /**
     * Admits and bills a cached answer that {@link #mayServeCachedAnswer} let through, as a chat hit
     * is: the worst case of the call that wrote it passes the key's rate limits and budgets (429 as
     * for a fresh request), then it is billed $0 with the cache tag in the ledger. {@code requested}
     * names the ledger row's model when no model wrote the answer.
     */
    public void billCachedAnswer(Caller caller, String requested, String servedBy, long maxTokens, double maxUsd, GatewayCache.Hit hit,
                                 Trace trace) {
        ModelConfig model = servedBy == null ? new ModelConfig(requested, List.of()) : resolve(servedBy, caller);
        caching.billHit(billing.admitCachedAnswer(caller, model, maxTokens, Double.isNaN(maxUsd) ? 0 : maxUsd, trace), hit, trace);
    }

    /** Validates without serving, so a streaming response can still answer errors with a status code. */
    public void check(ObjectNode request, Caller caller) {
        ChatRequestValidator.validate(request);
        String name = request.get("model").asText();
        if (router.routes(name)) router.requireTiers();
        else checkCapabilities(resolve(name, caller), request);
    }

    /**
     * Refuses, as a chat completion would, a model name that names no chat model or that the caller's
     * key may not use ({@value ModelConfig#AUTO}: no tiers, or a key that does not allow it); lets
     * callers that do work before their model call (retrieval) refuse first.
     */
    public void checkChatModel(String name, Caller caller) {
        if (router.routes(name)) {
            router.requireTiers();
            if (caller.key() != null && !caller.key().allows(ModelConfig.AUTO)) throw Billing.notAllowed(caller.key(), ModelConfig.AUTO);
            return;
        }
        ModelConfig model = checkCapabilities(resolve(name, caller), com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
        Billing.checkAllowed(caller, model);
    }

    /**
     * Refuses at startup a chat model that {@code field} of keel.yaml names and that no configured
     * provider serves, with what to configure.
     */
    public void checkConfigured(String field, String name) {
        try {
            checkChatModel(name, new Caller("", null));
        } catch (ApiException e) {
            throw new ConfigException(field, e.getMessage());
        }
    }

    /**
     * Whether catalog model {@code name} is first served by an extractive provider: its replies quote
     * the caller's documents, and no language model writes them.
     */
    public boolean quotesDocuments(String name) {
        ModelConfig m = catalog.get(name);
        return m != null && answersOffline(m.targets().get(0).provider());
    }

    /** Whether {@code provider} is of type extractive: it quotes the caller's documents, no language model answers. */
    public boolean answersOffline(String provider) {
        return provider != null && offlineProviders.contains(provider);
    }

    /**
     * The context window the catalog states for {@code name} in tokens, 0 when unknown; for
     * {@value ModelConfig#AUTO}, the smallest among the tiers {@code caller} may reach, so a prompt
     * made for it fits whichever tier serves it.
     */
    public int contextWindow(String name, Caller caller) {
        if (!router.routes(name)) return resolve(name, caller).contextWindow();
        return router.tiers().stream().filter(m -> caller.key() == null || caller.key().allows(m.name()))
                .mapToInt(ModelConfig::contextWindow).filter(w -> w > 0).min().orElse(0);
    }

    /** Refuses requests that use what the model lacks, or that cannot fit its context window. */
    private static ModelConfig checkCapabilities(ModelConfig model, ObjectNode request) {
        Optional<ApiException> unfit = incompatibility(model, request);
        if (unfit.isPresent()) throw unfit.get();
        return model;
    }

    /** Why {@code model} cannot serve {@code request} (a feature it lacks, a context window too small), if it cannot. */
    static Optional<ApiException> incompatibility(ModelConfig model, ObjectNode request) {
        if (model.kind() != ModelConfig.Kind.CHAT) {
            return Optional.of(ApiException.badRequest("model '" + model.name() + "' is an embedding model; call POST /v1/embeddings", "model"));
        }
        if (request.path("tools").isArray() && !request.path("tools").isEmpty() && !model.supports(ModelConfig.Capability.TOOLS)) {
            return Optional.of(ApiException.badRequest("model '" + model.name() + "' does not support tools", "tools"));
        }
        if ("json_schema".equals(request.path("response_format").path("type").asText()) && !model.supports(ModelConfig.Capability.JSON_SCHEMA)) {
            return Optional.of(ApiException.badRequest("model '" + model.name() + "' does not support response_format json_schema", "response_format"));
        }
        if (request.path("stream").asBoolean(false) && !model.supports(ModelConfig.Capability.STREAM)) {
            return Optional.of(ApiException.badRequest("model '" + model.name() + "' does not support streaming", "stream"));
        }
        if (model.contextWindow() > 0) {
            long prompt = TokenEstimate.prompt(request);
            long output = Billing.requestedOutput(request).orElse(0);
            if (prompt + output > model.contextWindow()) {
                return Optional.of(new ApiException(400, "invalid_request_error", "this request needs about " + (prompt + output) + " tokens ("
                        + prompt + " prompt + " + output + " max output) but model '" + model.name() + "' has a context window of "
                        + model.contextWindow(), "messages", "context_length_exceeded"));
            }
        }
        return Optional.empty();
    }

    /**
     * When the key caps the cost per request and the model names a cheaper downgrade, a call
     * estimated over what the cap leaves of the request (after its earlier calls) goes to the
     * downgrade instead of failing (if that one fits).
     */
    private ModelConfig routeForCost(Caller caller, ModelConfig model, ObjectNode request, Trace trace) {
        if (caller.key() == null || caller.key().maxCostPerRequestUsd() <= 0 || model.downgrade() == null) return model;
        double room = caller.key().maxCostPerRequestUsd() - caller.cost().committedUsd();
        if (estimatedCost(model, request) <= room) return model;
        ModelConfig cheaper = catalog.get(model.downgrade());
        if (cheaper == null || !caller.key().allows(cheaper.name()) || estimatedCost(cheaper, request) > room) return model;
        trace.attr("route", "downgrade").attr("route.from", model.name()).attr("route.to", cheaper.name());
        return checkCapabilities(cheaper, request);
    }

    private double estimatedCost(ModelConfig model, ObjectNode request) {
        return billing.worstCase(model, request).usd();
    }

    /** The catalog model {@code name}, or a passthrough one; else 404 with the models {@code caller} may use and what to configure. */
    private ModelConfig resolve(String name, Caller caller) {
        ModelConfig m = catalog.get(name);
        if (m != null) return m;
        if (!passthroughProviders.isEmpty()) {
            boolean claude = name.startsWith("claude");
            String provider = claude && passthroughProviders.contains(PASSTHROUGH_ANTHROPIC) ? PASSTHROUGH_ANTHROPIC
                    : passthroughProviders.contains(PASSTHROUGH) ? PASSTHROUGH : PASSTHROUGH_ANTHROPIC;
            return new ModelConfig(name, List.of(new ModelConfig.Target(provider, name)));
        }
        throw new ApiException(404, "invalid_request_error", "The model '" + shown(name) + "' does not exist"
                + (setupHint == null ? "" : "; " + setupHint) + "; available: " + available(caller).stream().map(Listed::id).toList(),
                "model", "model_not_found");
    }

    /** A client's model name as errors quote it: cut short past {@value #MAX_SHOWN_NAME} characters. */
    static String shown(String name) {
        return name.length() <= MAX_SHOWN_NAME ? name : name.substring(0, MAX_SHOWN_NAME) + "…";
    }

    /** Releases the providers' connections and threads. */
    @Override
    public void close() {
        chain.close();
    }
}
