package dev.keel.eval;

import dev.keel.config.EvalConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares a tenant's window with its baseline, signal by signal: a judge metric (1–5 scale) alerts when its mean fell
 * by more than {@code drop_threshold} and Welch's t-test gives p below {@code p_value}; the "I don't know" rate when it
 * rose by more than {@code idk_rate_rise}, the retrieval top score when it fell by more than {@code top_score_drop}
 * (both also with Welch's p below {@code p_value}, so a handful of unlucky answers is not drift); the query centroid
 * when it moved a cosine distance above {@code centroid_distance}. None alerts before both sides have
 * {@code min_samples}. Pure functions.
 */
final class DriftCheck {
    /**
     * An alert ends once its signal's change is back under this share of the threshold (with enough samples to say so):
     * a signal hovering at its threshold makes one episode, not one per evaluation.
     */
    static final double RECOVERY_SHARE = 0.5;

    /** One signal's comparison, and whether an alert on it may end: the signal is back, or no sample of either side is left. */
    record Check(OnlineEvaluation.Signal signal, boolean recovered) {}

    private DriftCheck() {}

    static List<Check> compare(EvalConfig.Online config, Map<String, Moments> window, Map<String, Moments> baseline,
                               OnlineSampleStore.Centroid windowCentroid, OnlineSampleStore.Centroid baselineCentroid) {
        List<Check> out = new ArrayList<>();
        for (String metric : OnlineEvaluation.JUDGE_METRICS) out.add(tested(config, metric, window, baseline, config.dropThreshold(), -1));
        out.add(tested(config, OnlineEvaluation.IDK_RATE, window, baseline, config.idkRateRise(), +1));
        out.add(tested(config, OnlineEvaluation.TOP_SCORE, window, baseline, config.topScoreDrop(), -1));
        double distance = windowCentroid.distance(baselineCentroid);
        out.add(check(config, OnlineEvaluation.CENTROID_DISTANCE, null, windowCentroid.n(), null, baselineCentroid.n(),
                Double.isNaN(distance) ? null : distance, config.centroidDistance(), null));
        return out;
    }

    /** {@code bad}: +1 when a rise is bad, −1 when a fall is. */
    private static Check tested(EvalConfig.Online config, String metric, Map<String, Moments> window, Map<String, Moments> baseline,
                                double threshold, int bad) {
        Moments w = window.getOrDefault(metric, Moments.NONE), b = baseline.getOrDefault(metric, Moments.NONE);
        Double p = w.n() < 2 || b.n() < 2 ? null : Statistics.welchP(w.n(), w.mean(), w.variance(), b.n(), b.mean(), b.variance());
        Double change = w.n() == 0 || b.n() == 0 ? null : bad * (w.mean() - b.mean());
        return check(config, metric, w.n() == 0 ? null : w.mean(), w.n(), b.n() == 0 ? null : b.mean(), b.n(), change, threshold, p);
    }

    /** {@code change} is in the bad direction (a drop of a score, a rise of the "I don't know" rate); {@code p} null when untested. */
    private static Check check(EvalConfig.Online config, String name, Double window, long windowN, Double baseline, long baselineN, Double change,
                               double threshold, Double p) {
        boolean enough = windowN >= config.minSamples() && baselineN >= config.minSamples() && change != null;
        boolean alerting = enough && change > threshold && (p == null || p < config.pValue());
        boolean forgotten = windowN == 0 && baselineN == 0; // retention deleted what the alert was about
        boolean recovered = forgotten || enough && change <= threshold * RECOVERY_SHARE;
        return new Check(new OnlineEvaluation.Signal(name, window, windowN, baseline, baselineN, change, threshold, p, alerting), recovered);
    }
}
