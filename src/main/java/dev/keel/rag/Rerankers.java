package dev.keel.rag;

import dev.keel.config.RerankConfig;
import dev.keel.config.RerankConfig.Method;
import dev.keel.index.RankedList;
import dev.keel.index.SearchHit;
import dev.keel.model.ApiException;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured rerankers and the one place that applies them: a reranking is a span
 * ({@code rerank}: method, candidates, outcome); its result is checked (positions in range, none
 * repeated) and any failure — the reranker's own or a broken result — keeps the fused order, with
 * the reason in the span and in {@code keel_rerank_fallbacks_total{method,reason}}, a WARN log line
 * (at most one per reason per {@link #WARN_INTERVAL}; never the query or document text) and the
 * {@link #health()} readiness shows. Remote and ONNX rerankers exist only when configured.
 * Thread-safe; {@link #close()} releases them.
 */
public final class Rerankers implements AutoCloseable {
    /** A reranker that fails on every search must not flood the log; the counter has the exact numbers. */
    static final Duration WARN_INTERVAL = Duration.ofMinutes(1);
    private static final Logger LOG = LoggerFactory.getLogger(Rerankers.class);

    private final RerankConfig config;
    private final Map<Method, Reranker> configured = new EnumMap<>(Method.class);
    private final MeterRegistry registry;
    private final InstantSource clock;
    private final Map<Reranker.Reason, Instant> lastWarned = new ConcurrentHashMap<>();
    private final AtomicLong fallbacks = new AtomicLong();
    private volatile Map<String, Object> lastFallback;

    /** The rerankers {@code config} sets up; a bad ONNX model directory fails here, at startup. */
    public Rerankers(RerankConfig config, MeterRegistry registry) {
        this(config, registry, configured(config), InstantSource.system());
    }

    /** With the given remote/ONNX rerankers in place of the configured ones, and {@code clock} timing the fallback warnings. */
    Rerankers(RerankConfig config, MeterRegistry registry, Map<Method, Reranker> rerankers, InstantSource clock) {
        this.config = config;
        this.registry = registry;
        this.configured.putAll(rerankers);
        this.clock = clock;
    }

    /** With the given remote/ONNX rerankers in place of the configured ones. */
    Rerankers(RerankConfig config, MeterRegistry registry, Map<Method, Reranker> rerankers) {
        this(config, registry, rerankers, InstantSource.system());
    }

    private static Map<Method, Reranker> configured(RerankConfig config) {
        Map<Method, Reranker> out = new EnumMap<>(Method.class);
        if (config.remote().baseUrl() != null) out.put(Method.REMOTE, new RemoteReranker(config.remote()));
        if (config.onnx().modelDir() != null) {
            try {
                out.put(Method.ONNX, new OnnxCrossEncoderReranker(config.onnx()));
            } catch (RuntimeException e) {
                out.values().forEach(Reranker::close);
                throw e;
            }
        }
        return out;
    }

    public RerankConfig config() {
        return config;
    }

    /** How one retrieval is reranked: the method and, for MMR, its lambda. */
    public record Choice(Method method, double mmrLambda) {
        public boolean reorders() {
            return method != Method.NONE;
        }
    }

    /** The configured default. */
    public Choice defaults() {
        return new Choice(config.method(), config.mmrLambda());
    }

    /** A caller's choice, refused with a 400 naming {@code param} when that method is not configured here. */
    public Choice choose(Method method, double mmrLambda, String param) {
        if ((method == Method.REMOTE || method == Method.ONNX) && !configured.containsKey(method)) {
            String key = method == Method.REMOTE ? "rerank.remote.base_url" : "rerank.onnx.model_dir";
            throw new ApiException(400, "invalid_request_error", "the '" + name(method) + "' reranker is not configured on this server (set "
                    + key + " in keel.yaml)", param, "reranker_not_configured");
        }
        return new Choice(method, mmrLambda);
    }

    /** How many fused hits to fetch so that {@code choice} can rerank them down to {@code topK}. */
    public int pool(Choice choice, int topK) {
        return choice.reorders() ? Math.max(topK, config.candidates()) : topK;
    }

    /**
     * The reranked top {@code topK} and, when a reranker ran, its list (chunk ids with the reranker's
     * scores; null otherwise). Hits the reranker returned come first; any it left out follow in fused order.
     */
    public record Outcome(List<SearchHit> hits, RankedList reranked) {
        /** The reranker's score of each hit it scored, by chunk id; empty when none ran. */
        public Map<String, Double> scores() {
            Map<String, Double> out = new LinkedHashMap<>();
            if (reranked != null) for (RankedList.Entry e : reranked.entries()) out.put(e.chunkId(), e.score());
            return out;
        }
    }

    /**
     * For readiness: the default method and, when a reranker other than the fused order can run, how
     * many rerankings fell back to the fused order since startup and the last one's method, reason,
     * detail (never query or document text) and time. Empty when only {@code none} is possible.
     */
    public Map<String, Object> health() {
        Map<String, Object> out = new LinkedHashMap<>();
        if (config.method() == Method.NONE && configured.isEmpty()) return out;
        out.put("method", name(config.method()));
        out.put("fallbacks", fallbacks.get());
        out.put("last_fallback", lastFallback);
        return out;
    }

    /**
     * Reorders the fused {@code candidates} (best first) and cuts them to {@code topK}. Never returns
     * a hit that is not among the candidates; on any failure returns the fused order.
     */
    public Outcome rerank(Choice choice, String query, List<SearchHit> candidates, int topK, Trace trace) {
        List<SearchHit> fused = candidates.subList(0, Math.min(topK, candidates.size()));
        if (!choice.reorders() || candidates.isEmpty()) return new Outcome(fused, null);
        Reranker reranker = choice.method() == Method.MMR ? new MmrReranker(choice.mmrLambda()) : configured.get(choice.method());
        try (Span span = trace.span("rerank")) {
            span.attr("method", name(choice.method())).attr("candidates", candidates.size());
            try {
                List<Reranker.Ranked> ranked = checked(reranker.rerank(query, candidates, topK), candidates.size());
                List<SearchHit> hits = new ArrayList<>(topK);
                List<RankedList.Entry> entries = new ArrayList<>(ranked.size());
                boolean[] used = new boolean[candidates.size()];
                for (Reranker.Ranked r : ranked) {
                    if (hits.size() == topK) break;
                    used[r.index()] = true;
                    hits.add(candidates.get(r.index()));
                    entries.add(new RankedList.Entry(hits.size(), candidates.get(r.index()).chunk().chunkId(), r.score()));
                }
                for (int i = 0; i < candidates.size() && hits.size() < Math.min(topK, candidates.size()); i++) {
                    if (!used[i]) hits.add(candidates.get(i)); // a reranker that returned fewer: the rest keep their fused order
                }
                span.attr("outcome", "reranked").attr("returned", ranked.size());
                return new Outcome(hits, new RankedList("reranked", entries));
            } catch (Reranker.Failure e) {
                return fallback(choice, span, e.reason(), e.getMessage(), fused);
            } catch (RuntimeException e) {
                return fallback(choice, span, Reranker.Reason.ERROR, "unexpected " + e.getClass().getSimpleName(), fused);
            }
        }
    }

    /** Rejects results that point outside the candidates or twice at one: such a reply is broken, not partly usable. */
    private static List<Reranker.Ranked> checked(List<Reranker.Ranked> ranked, int candidates) {
        boolean[] seen = new boolean[candidates];
        for (Reranker.Ranked r : ranked) {
            if (r.index() < 0 || r.index() >= candidates) {
                throw new Reranker.Failure(Reranker.Reason.INVALID_INDEXES, "a result's index " + r.index() + " is outside 0.." + (candidates - 1));
            }
            if (seen[r.index()]) throw new Reranker.Failure(Reranker.Reason.INVALID_INDEXES, "index " + r.index() + " is ranked twice");
            seen[r.index()] = true;
        }
        return ranked;
    }

    private Outcome fallback(Choice choice, Span span, Reranker.Reason reason, String detail, List<SearchHit> fused) {
        String why = reason.name().toLowerCase(Locale.ROOT);
        span.error(why).attr("outcome", "fallback_fused_order").attr("fallback.detail", detail);
        Counter.builder("keel.rerank.fallbacks").description("Rerankings that failed and kept the fused order")
                .tag("method", name(choice.method())).tag("reason", why).register(registry).increment();
        Instant now = clock.instant();
        Map<String, Object> last = new LinkedHashMap<>();
        last.put("method", name(choice.method()));
        last.put("reason", why);
        last.put("detail", detail);
        last.put("at", now.toString());
        lastFallback = last;
        long count = fallbacks.incrementAndGet();
        boolean[] warn = {false};
        lastWarned.compute(reason, (r, previous) -> {
            warn[0] = previous == null || !now.isBefore(previous.plus(WARN_INTERVAL));
            return warn[0] ? now : previous;
        });
        if (warn[0]) {
            LOG.warn("{} reranker failed ({}: {}), keeping the fused order; {} fallbacks since startup (one warning per reason a minute at most)",
                    name(choice.method()), why, detail, count);
        }
        return new Outcome(fused, null);
    }

    private static String name(Method m) {
        return m.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void close() {
        configured.values().forEach(Reranker::close);
    }
}
