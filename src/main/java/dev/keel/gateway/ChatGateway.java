package dev.keel.gateway;

import dev.keel.model.ApiException;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.GatewayConfig;
import dev.keel.config.ModelConfig;
import dev.keel.config.ProviderConfig;
import dev.keel.model.ChatCompletion;
import dev.keel.model.Deadline;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import dev.keel.provider.ChatModel;
import dev.keel.provider.CircuitBreakers;
import io.micrometer.core.instrument.MeterRegistry;
import dev.keel.provider.OpenAiChatModel;
import dev.keel.provider.ProviderChain;
import dev.keel.trace.Trace;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The OpenAI-compatible chat path: validates the request, resolves the public model name through
 * the catalog (or passes it through to the zero-config provider), and serves it through the
 * {@link ProviderChain}. The response carries the public model name. Thread-safe.
 */
public final class ChatGateway {
    static final String PASSTHROUGH = "openai";
    private static final Duration REQUEST_DEADLINE = Duration.ofMinutes(5);

    private final Map<String, ModelConfig> catalog;
    private final ProviderChain chain;
    private final boolean passthrough;
    private final CircuitBreakers breakers;

    ChatGateway(Map<String, ModelConfig> catalog, ProviderChain chain, CircuitBreakers breakers, boolean passthrough) {
        this.catalog = Map.copyOf(catalog);
        this.chain = chain;
        this.breakers = breakers;
        this.passthrough = passthrough;
    }

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
     * names pass through to it, as the OpenAI SDKs do.
     */
    public static ChatGateway create(GatewayConfig config, Function<String, String> env, MeterRegistry registry) {
        Map<String, ProviderConfig> providers = new LinkedHashMap<>(config.providers());
        boolean passthrough = false;
        String key = env.apply("OPENAI_API_KEY");
        if (providers.isEmpty() && key != null && !key.isBlank()) {
            String base = Optional.ofNullable(env.apply("OPENAI_BASE_URL")).filter(s -> !s.isBlank()).orElse("https://api.openai.com/v1");
            providers.put(PASSTHROUGH, new ProviderConfig(PASSTHROUGH, ProviderConfig.Type.OPENAI,
                    URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base), key, 5, 60, 300, 2, 30));
            passthrough = true;
        }
        Map<String, ChatModel> models = new LinkedHashMap<>();
        Map<String, Integer> retries = new LinkedHashMap<>();
        Map<String, Integer> openSeconds = new LinkedHashMap<>();
        providers.forEach((name, p) -> {
            models.put(name, switch (p.type()) {
                case OPENAI -> new OpenAiChatModel(p);
            });
            retries.put(name, p.maxRetries());
            openSeconds.put(name, p.breakerOpenSeconds());
        });
        CircuitBreakers breakers = new CircuitBreakers(openSeconds, registry);
        return new ChatGateway(config.models(), new ProviderChain(models, retries, breakers), breakers, passthrough);
    }

    /** Public model names, sorted. */
    public List<String> models() {
        return new ArrayList<>(new TreeSet<>(catalog.keySet()));
    }

    public boolean passthrough() {
        return passthrough;
    }

    public ProviderChain.Served<ChatCompletion> complete(ObjectNode request, Trace trace) {
        ChatRequestValidator.validate(request);
        ModelConfig model = resolve(request.get("model").asText());
        request.put("stream", false);
        trace.attr("model", model.name()).attr("stream", false).attr("messages", request.get("messages").size());
        ProviderChain.Served<ChatCompletion> served = chain.complete(model, request, Deadline.in(REQUEST_DEADLINE), trace);
        served.value().body().put("model", model.name());
        trace.attr("provider", served.provider());
        return served;
    }

    public ProviderChain.Served<Usage> stream(ObjectNode request, Trace trace, StreamListener listener) {
        ChatRequestValidator.validate(request);
        ModelConfig model = resolve(request.get("model").asText());
        trace.attr("model", model.name()).attr("stream", true).attr("messages", request.get("messages").size());
        StreamListener renaming = chunk -> {
            chunk.put("model", model.name());
            return listener.onChunk(chunk);
        };
        ProviderChain.Served<Usage> served = chain.stream(model, request, Deadline.in(REQUEST_DEADLINE), trace, renaming);
        trace.attr("provider", served.provider());
        return served;
    }

    /** Validates without serving, so a streaming response can still answer errors with a status code. */
    public void check(ObjectNode request) {
        ChatRequestValidator.validate(request);
        resolve(request.get("model").asText());
    }

    private ModelConfig resolve(String name) {
        ModelConfig m = catalog.get(name);
        if (m != null) return m;
        if (passthrough) return new ModelConfig(name, List.of(new ModelConfig.Target(PASSTHROUGH, name)));
        throw new ApiException(404, "invalid_request_error", "The model '" + name + "' does not exist"
                + (catalog.isEmpty() ? "; no models are configured (add providers and models to keel.yaml, or set OPENAI_API_KEY)"
                : "; available: " + models()), "model", "model_not_found");
    }
}
