package dev.keel.eval;

import java.util.Set;

/**
 * What a metric name means to the gate: {@link #QUALITY} metrics are higher-is-better scores in [0, 1] and gated;
 * {@link #OPS} metrics (latency, tokens, cost, cache hits) are reported, never gated, because they vary with the
 * machine and the load; anything else is {@link #OTHER}: reported with no direction, never gated. A name's part
 * before {@code @} decides, so {@code recall@5} and {@code recall@10} are both quality metrics.
 */
public enum MetricKind {
    QUALITY, OPS, OTHER;

    private static final Set<String> QUALITY_NAMES = Set.of("recall", "precision", "mrr", "ndcg", "hit_rate", "context_precision",
            "context_recall", Judge.FAITHFULNESS, Judge.ANSWER_RELEVANCE, Judge.CITATION_ACCURACY, "correctness_f1", "correctness_semantic",
            Judge.CORRECTNESS, "facts", "refusal_correct");
    private static final Set<String> OPS_NAMES = Set.of("latency_ms", "ttft_ms", "tokens", "cost_usd", "cache_hit");

    /** The kind of {@code metric}, e.g. {@code ndcg@10} → QUALITY, {@code latency_ms} → OPS. */
    public static MetricKind of(String metric) {
        int at = metric.indexOf('@');
        String base = at < 0 ? metric : metric.substring(0, at);
        if (QUALITY_NAMES.contains(base)) return QUALITY;
        return OPS_NAMES.contains(base) ? OPS : OTHER;
    }
}
