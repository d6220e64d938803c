package dev.keel.ingest;

/** Progress of a long ingest, called from the ingesting thread after each batch. */
@FunctionalInterface
public interface IngestListener {
    IngestListener NONE = (done, total, chunks, seconds) -> {};

    void progress(int filesDone, int filesTotal, long chunks, double seconds);
}
