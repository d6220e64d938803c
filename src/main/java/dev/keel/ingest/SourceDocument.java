package dev.keel.ingest;

import java.util.Map;

/** Raw input to ingest: identity, provenance, format and bytes; a non-null {@code title} overrides the parsed one. */
public record SourceDocument(String docId, String source, String fileName, DocumentFormat format, byte[] content,
                             long modifiedAtMillis, Map<String, String> metadata, String title) {
    public SourceDocument {
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }
}
