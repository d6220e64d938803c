package dev.keel.eval;

import java.util.Map;

/**
 * What online evaluation keeps of one sampled answer until it is added to its bucket: tenant, time, its values by
 * stored metric ({@link OnlineEvaluation#SIGNALS}' judge scores on the 1–5 scale, {@code idk_rate} 0 or 1, {@code top_score})
 * and the unit query vector (null when it could not be embedded). Never the question or the answer.
 */
record OnlineSample(String tenant, long atMillis, Map<String, Double> values, float[] query) {
    OnlineSample {
        values = Map.copyOf(values);
    }
}
