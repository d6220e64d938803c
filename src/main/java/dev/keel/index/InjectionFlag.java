package dev.keel.index;

/**
 * What the ingest scan for indirect prompt injection found in one chunk: the guard's injection
 * score in [0, 1] and whether it reached {@code guard.indirect.threshold}, which marks the chunk as
 * carrying instructions aimed at a model. Chunks written with the scan off, or by a Keel without
 * it, are {@link #NOT_SCANNED}: not flagged, with no score.
 */
public record InjectionFlag(boolean scanned, double score, boolean flagged) {
    public static final InjectionFlag NOT_SCANNED = new InjectionFlag(false, 0, false);

    /** A scanned chunk's flag: flagged when {@code score} is at least {@code threshold}. */
    public static InjectionFlag scanned(double score, double threshold) {
        return new InjectionFlag(true, score, score >= threshold);
    }
}
