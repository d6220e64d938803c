package dev.keel.config;

/** Ingest settings: chunking and the largest file accepted. */
public record IngestConfig(ChunkingConfig chunking, long maxFileBytes) {
    public static final IngestConfig DEFAULTS = new IngestConfig(ChunkingConfig.DEFAULTS, 50L * 1024 * 1024);

    static IngestConfig read(ConfigNode n) {
        return new IngestConfig(
                ChunkingConfig.read(n.child("chunking")),
                n.longValue("max_file_bytes", DEFAULTS.maxFileBytes, 1, Long.MAX_VALUE));
    }
}
