package dev.keel.config;

/**
 * Evaluation: the judge ({@code judge.model} names a catalog model for LLM-as-judge; absent, the offline heuristic
 * judge) and online evaluation of production answers. Online: a {@code sample_rate} share of answers is scored off
 * the request path (at most {@code queue} waiting; beyond that samples are dropped and counted); the last
 * {@code window_minutes} are compared with the {@code baseline_days} before them, and a metric whose mean dropped by
 * more than {@code drop_threshold} points on a 1–5 scale with a Welch t-test p below {@code p_value} raises an alert
 * (log, metric, optional {@code webhook}). Drift thresholds: the "I don't know" rate rising by
 * {@code idk_rate_rise}, the mean retrieval top score falling by {@code top_score_drop}, the query-embedding
 * centroid moving a cosine distance of {@code centroid_distance} from the baseline's.
 */
public record EvalConfig(String judgeModel, Online online) {
    public static final EvalConfig DEFAULTS = new EvalConfig(null, Online.DEFAULTS);

    /** Online evaluation settings; see {@link EvalConfig}. */
    public record Online(boolean enabled, double sampleRate, int queue, int windowMinutes, int baselineDays, double dropThreshold, double pValue,
                         double idkRateRise, double topScoreDrop, double centroidDistance, int minSamples, java.net.URI webhook) {
        public static final Online DEFAULTS = new Online(true, 0.05, 1_000, 60, 7, 0.3, 0.05, 0.15, 0.1, 0.1, 20, null);

        static Online read(ConfigNode n) {
            return new Online(
                    n.bool("enabled", DEFAULTS.enabled),
                    n.decimal("sample_rate", DEFAULTS.sampleRate, 0, 1),
                    n.integer("queue", DEFAULTS.queue, 1, 1_000_000),
                    n.integer("window_minutes", DEFAULTS.windowMinutes, 1, 7 * 24 * 60),
                    n.integer("baseline_days", DEFAULTS.baselineDays, 1, 90),
                    n.decimal("drop_threshold", DEFAULTS.dropThreshold, 0, 4),
                    n.decimal("p_value", DEFAULTS.pValue, 0, 1),
                    n.decimal("idk_rate_rise", DEFAULTS.idkRateRise, 0, 1),
                    n.decimal("top_score_drop", DEFAULTS.topScoreDrop, 0, 10),
                    n.decimal("centroid_distance", DEFAULTS.centroidDistance, 0, 2),
                    n.integer("min_samples", DEFAULTS.minSamples, 2, 1_000_000),
                    n.httpUrl("webhook"));
        }
    }

    static EvalConfig read(ConfigNode n) {
        ConfigNode judge = n.child("judge");
        String model = judge.string("model", null);
        return new EvalConfig(model == null || model.isBlank() ? null : model, Online.read(n.child("online")));
    }

    /** Whether answers are judged by a model ({@code judge.model} set). */
    public boolean llmJudge() {
        return judgeModel != null;
    }
}
