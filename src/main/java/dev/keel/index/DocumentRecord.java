package dev.keel.index;

import java.util.Map;

/** A document's catalogue entry: its version (content hash), provenance and size. */
public record DocumentRecord(String tenant, String docId, String version, String source, String title, String contentType,
                             long bytes, int chunkCount, long ingestedAtMillis, long modifiedAtMillis, Map<String, String> metadata) {}
