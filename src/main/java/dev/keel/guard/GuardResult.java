package dev.keel.guard;

import java.util.List;

/**
 * The guard's verdict on one text with its evidence: the injection score in [0, 1], the categories
 * that fired, the PII entities found (spans in the scanned text), each layer's signal, and whether a
 * policy asks that the request only go to providers marked private. Holds no raw PII.
 */
public record GuardResult(GuardVerdict verdict, double score, List<String> categories, List<PiiEntity> entities, List<GuardSignal> signals,
                          boolean privateOnly) {
    public GuardResult {
        categories = List.copyOf(categories);
        entities = List.copyOf(entities);
        signals = List.copyOf(signals);
    }
}
