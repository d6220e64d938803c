package dev.keel.config;

/**
 * Ingest settings: chunking and the limits one document must stay within. A file over
 * {@code maxFileBytes}, a document with more than {@code maxSectionsPerDocument} headings or one that
 * needs more than {@code maxChunksPerDocument} chunks is refused whole; a title longer than
 * {@code maxTitleChars} is cut to that length, and a heading that long is read as body text.
 */
public record IngestConfig(ChunkingConfig chunking, long maxFileBytes, int maxTitleChars, int maxSectionsPerDocument,
                           int maxChunksPerDocument) {
    /** Six levels of headings this long still make a section path under Lucene's 32 KB term limit. */
    static final int MAX_TITLE_CHARS = 1024;
    public static final IngestConfig DEFAULTS = new IngestConfig(ChunkingConfig.DEFAULTS, 50L * 1024 * 1024, 512, 20_000, 5_000);

    static IngestConfig read(ConfigNode n) {
        return new IngestConfig(
                ChunkingConfig.read(n.child("chunking")),
                n.longValue("max_file_bytes", DEFAULTS.maxFileBytes, 1, Long.MAX_VALUE),
                n.integer("max_title_chars", DEFAULTS.maxTitleChars, 16, MAX_TITLE_CHARS),
                n.integer("max_sections_per_document", DEFAULTS.maxSectionsPerDocument, 1, 10_000_000),
                n.integer("max_chunks_per_document", DEFAULTS.maxChunksPerDocument, 1, 10_000_000));
    }

    public IngestConfig withChunking(ChunkingConfig c) {
        return new IngestConfig(c, maxFileBytes, maxTitleChars, maxSectionsPerDocument, maxChunksPerDocument);
    }
}
