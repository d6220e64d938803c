package dev.keel.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ModelConfig;
import dev.keel.model.ChatCompletion;
import dev.keel.model.CallContext;
import dev.keel.model.EmbeddingResult;
import dev.keel.model.Deadline;
import dev.keel.model.ProviderException.Kind;
import dev.keel.model.ProviderException;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Serves a catalog model from its ordered targets: retryable failures (rate limits, 5xx, connection
 * errors, timeouts) are retried on the same target with exponential backoff and full jitter,
 * honouring Retry-After, within the request's deadline; then the next target is tried. Bad requests
 * and content filtering are returned at once (another provider would refuse the same request),
 * except a target's unknown model, which falls back like a failed provider. A
 * stream is retried only until its first chunk was delivered. A provider whose circuit breaker is
 * open is skipped without waiting. Every attempt is a span, with the GenAI semantic conventions'
 * attributes (operation, provider, sampling settings, response model, finish reasons, token usage;
 * never content), whose W3C trace context goes upstream in {@code traceparent}. {@code outputCaps} sets
 * {@code max_tokens} on the upstream request of the targets it names, when the request does not
 * set it itself (the gateway's way to bound the cost of models whose limit it does not know, on
 * servers that may read only that field). Thread-safe.
 */
public final class ProviderChain implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProviderChain.class);
    private static final Duration BASE_BACKOFF = Duration.ofMillis(100), MAX_BACKOFF = Duration.ofSeconds(5);
    /** What an upstream may put on a span: a model name or a few finish reasons, not a body's worth. */
    private static final int MAX_UPSTREAM_CHARS = 200, MAX_FINISH_REASONS = 16;
    private static final String CHAT = "chat", EMBEDDINGS = "embeddings";
    /**
     * The attempt's span attribute with the upstream's own time, ms (a stream's, to the last chunk read): for a call
     * that is not streamed, the span less it is Keel's client work.
     */
    public static final String UPSTREAM_MS = "upstream_ms";

    /** Where a served request went: the target that answered and how many attempts it took in all. */
    public record Served<T>(T value, ModelConfig.Target target, int attempts) {
        public String provider() {
            return target.provider();
        }
    }

    private final Map<String, ChatModel> providers;
    private final Map<String, Integer> maxRetries;
    private final CircuitBreakers breakers;

    public ProviderChain(Map<String, ChatModel> providers, Map<String, Integer> maxRetries, CircuitBreakers breakers) {
        this.providers = Map.copyOf(providers);
        this.maxRetries = Map.copyOf(maxRetries);
        this.breakers = breakers;
    }

    public Served<ChatCompletion> complete(ModelConfig model, ObjectNode request, Map<ModelConfig.Target, Long> outputCaps, Deadline deadline,
                                           Trace trace) {
        return run(CHAT, model, request, outputCaps, deadline, trace, ChatModel::complete, () -> false, target -> {});
    }

    /** Embeddings through the model's targets, with the same retries, fallbacks and breakers as chat. */
    public Served<EmbeddingResult> embed(ModelConfig model, ObjectNode request, Deadline deadline, Trace trace) {
        return run(EMBEDDINGS, model, request, Map.of(), deadline, trace, ChatModel::embed, () -> false, target -> {});
    }

    /**
     * Streams through the model's targets ({@code attempting} is told each target before it is called: when a stream
     * breaks after it started, which is not retried, the caller bills the text received so far at that target's price).
     */
    public Served<Usage> stream(ModelConfig model, ObjectNode request, Map<ModelConfig.Target, Long> outputCaps, Deadline deadline, Trace trace,
                                StreamListener listener, java.util.function.Consumer<ModelConfig.Target> attempting) {
        boolean[] started = {false};
        ReplySummary reply = new ReplySummary();
        StreamListener tracking = chunk -> {
            started[0] = true;
            reply.see(chunk);
            return listener.onChunk(chunk);
        };
        Served<StreamEnd> served = run(CHAT, model, request, outputCaps, deadline, trace,
                (chat, upstream, call) -> new StreamEnd(chat.stream(upstream, call, tracking), reply), () -> started[0], attempting);
        return new Served<>(served.value().usage(), served.target(), served.attempts());
    }

    /** A finished stream: its usage and what its chunks said about the reply. */
    private record StreamEnd(Usage usage, ReplySummary reply) {}

    /** What a reply says about itself (the model that answered, why it stopped), read from its body or its chunks; bounded. */
    private static final class ReplySummary {
        private String model = "";
        private final List<String> finishReasons = new ArrayList<>();

        ReplySummary see(JsonNode completionOrChunk) {
            if (model.isEmpty()) model = clip(completionOrChunk.path("model").asText(""));
            for (JsonNode choice : completionOrChunk.path("choices")) {
                String reason = choice.path("finish_reason").asText("");
                if (!reason.isEmpty() && finishReasons.size() < MAX_FINISH_REASONS) finishReasons.add(clip(reason));
            }
            return this;
        }

        void describe(Span span) {
            if (!model.isEmpty()) span.attr("gen_ai.response.model", model);
            if (!finishReasons.isEmpty()) span.attr("gen_ai.response.finish_reasons", List.copyOf(finishReasons));
        }
    }

    private interface Call<T> {
        T apply(ChatModel chat, ObjectNode upstreamRequest, CallContext call);
    }

    private interface Started {
        boolean get();
    }

    /** What a provider sends upstream as the output limit of a request that sets none; empty: the model's own. */
    public java.util.OptionalLong defaultMaxOutputTokens(String provider) {
        ChatModel chat = providers.get(provider);
        return chat == null ? java.util.OptionalLong.empty() : chat.defaultMaxOutputTokens();
    }

    private <T> Served<T> run(String operation, ModelConfig model, ObjectNode request, Map<ModelConfig.Target, Long> outputCaps, Deadline deadline, Trace trace,
                              Call<T> call, Started started, java.util.function.Consumer<ModelConfig.Target> attempting) {
        ProviderException last = null;
        int attempts = 0;
        for (ModelConfig.Target target : model.targets()) {
            ChatModel chat = providers.get(target.provider());
            ObjectNode upstream = request.deepCopy();
            upstream.put("model", target.model());
            Long cap = outputCaps.get(target);
            if (cap != null && !upstream.hasNonNull("max_tokens")) upstream.put("max_tokens", cap);
            int retries = maxRetries.getOrDefault(target.provider(), 2);
            CircuitBreaker breaker = breakers.of(target.provider());
            for (int attempt = 0; attempt <= retries; attempt++) {
                if (!breaker.tryAcquirePermission()) {
                    try (Span span = trace.span("provider").attr("provider", target.provider()).attr("breaker", "open")) {
                        span.error("circuit_open");
                    }
                    last = new ProviderException(Kind.UNAVAILABLE, target.provider(), 0, "circuit breaker open; provider skipped", null, null);
                    break;
                }
                attempts++;
                attempting.accept(target);
                trace.attr("provider", target.provider());
                trace.remove(CallContext.UPSTREAM_REQUEST_ID);
                long start = System.nanoTime();
                try (Span span = trace.span("provider").attr("provider", target.provider()).attr("upstream_model", target.model()).attr("attempt", attempt + 1)) {
                    describeRequest(span, operation, chat, chat.asSent(upstream));
                    try {
                        T value = call.apply(chat, upstream, callOf(model, deadline, trace, span));
                        breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                        describeResult(span, value);
                        return new Served<>(value, target, attempts);
                    } catch (ProviderException e) {
                        LOG.debug("attempt {} on {} failed: {} ({})", attempt + 1, target.provider(), e.kind(), e.getMessage());
                        breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
                        span.error(e.kind().name().toLowerCase()).attr("upstream_status", e.upstreamStatus());
                        last = e;
                    } catch (RuntimeException | Error e) {
                        // Reported either way: a half-open breaker's one probe that never reports keeps the provider skipped until restart.
                        breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
                        throw e;
                    }
                }
                // Another provider would refuse the same request; but an unknown model is this target's own gap.
                if (started.get() || (last.kind() == Kind.BAD_REQUEST && !last.modelNotFound()) || last.kind() == Kind.CONTENT_FILTERED) throw last;
                if (!last.kind().retryable() || attempt == retries) break;
                Duration wait = backoff(attempt, last.retryAfter());
                if (wait.compareTo(deadline.remaining()) >= 0) break;
                sleep(wait);
            }
            if (deadline.expired()) break;
        }
        throw last != null ? last : new ProviderException(Kind.UNAVAILABLE, "gateway", 0, "model " + model.name() + " has no usable target", null, null);
    }

    /** One attempt's call; the upstream's request id and own time go on the attempt's span and the trace. */
    private static CallContext callOf(ModelConfig model, Deadline deadline, Trace trace, Span span) {
        return new CallContext(deadline, model.firstByteTimeout(), model.totalTimeout(), trace.tenant(), id -> {
            span.attr(CallContext.UPSTREAM_REQUEST_ID, id);
            trace.attr(CallContext.UPSTREAM_REQUEST_ID, id);
        }, span.propagationHeaders(), new java.util.function.LongConsumer() {
            private long attempt;

            @Override
            public void accept(long nanos) {
                attempt += nanos;
                span.attr(UPSTREAM_MS, attempt / 1e6);
                trace.addUpstreamTime(nanos);
            }
        });
    }

    /** The call as the GenAI conventions describe it: numbers and names only, never the messages. */
    private static void describeRequest(Span span, String operation, ChatModel chat, ObjectNode upstream) {
        span.attr("gen_ai.operation.name", operation).attr("gen_ai.provider.name", chat.genAiProvider());
        JsonNode max = upstream.hasNonNull("max_tokens") ? upstream.get("max_tokens") : upstream.path("max_completion_tokens");
        if (max.isIntegralNumber()) span.attr("gen_ai.request.max_tokens", max.asLong());
        if (upstream.path("temperature").isNumber()) span.attr("gen_ai.request.temperature", upstream.get("temperature").asDouble());
        if (upstream.path("top_p").isNumber()) span.attr("gen_ai.request.top_p", upstream.get("top_p").asDouble());
    }

    /** What came back: the model that answered, why it stopped and the tokens it counted. */
    private static void describeResult(Span span, Object value) {
        switch (value) {
            case ChatCompletion c -> {
                describeUsage(span, c.usage());
                new ReplySummary().see(c.body()).describe(span);
            }
            case StreamEnd s -> {
                describeUsage(span, s.usage());
                s.reply().describe(span);
            }
            default -> { }
        }
    }

    private static void describeUsage(Span span, Usage usage) {
        if (usage == null || usage.promptTokens() + usage.completionTokens() == 0) return;
        span.attr("gen_ai.usage.input_tokens", usage.promptTokens()).attr("gen_ai.usage.output_tokens", usage.completionTokens());
    }

    private static String clip(String upstreamText) {
        return upstreamText.length() <= MAX_UPSTREAM_CHARS ? upstreamText : upstreamText.substring(0, MAX_UPSTREAM_CHARS);
    }

    /** Full jitter: uniform in [0, min(max, base·2^attempt)], or the provider's Retry-After when given. */
    static Duration backoff(int attempt, Duration retryAfter) {
        if (retryAfter != null) return retryAfter;
        long cap = Math.min(MAX_BACKOFF.toMillis(), BASE_BACKOFF.toMillis() << Math.min(attempt, 16));
        return Duration.ofMillis(ThreadLocalRandom.current().nextLong(cap + 1));
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProviderException(Kind.TIMEOUT, "gateway", 0, "interrupted while backing off", null, null);
        }
    }

    /** Closes every provider's connections. */
    @Override
    public void close() {
        providers.values().forEach(ChatModel::close);
    }
}
