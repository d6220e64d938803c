package dev.keel.eval;

import dev.keel.index.ChunkRecord;
import java.util.List;
import java.util.Locale;

/**
 * Whether a retrieved chunk is one an example's {@code relevant} list names. An entry names a document by its id
 * ({@code beir:cranfield/12} or {@code 12}), by its source's file name or path suffix ({@code refunds.md},
 * {@code docs/refunds.md}), or a section of it as {@code DOC#Section} (any heading on the chunk's section path,
 * case-insensitive). Pure functions.
 */
public final class RelevantIds {
    private RelevantIds() {}

    /** The first entry of {@code relevant} that names {@code chunk}, or null. */
    public static String match(List<String> relevant, ChunkRecord chunk) {
        for (String entry : relevant) if (names(entry, chunk)) return entry;
        return null;
    }

    /** Whether one entry names the chunk's document (or section of it). */
    public static boolean names(String entry, ChunkRecord chunk) {
        int hash = entry.indexOf('#');
        String doc = hash < 0 ? entry : entry.substring(0, hash);
        if (!namesDocument(doc, chunk)) return false;
        if (hash < 0) return true;
        String section = entry.substring(hash + 1).trim().toLowerCase(Locale.ROOT);
        return chunk.sectionPath().stream().anyMatch(s -> s.trim().toLowerCase(Locale.ROOT).equals(section));
    }

    private static boolean namesDocument(String doc, ChunkRecord chunk) {
        if (doc.isEmpty()) return false;
        if (doc.equals(chunk.docId()) || chunk.docId().endsWith("/" + doc)) return true;
        String source = chunk.source() == null ? "" : chunk.source().replace('\\', '/');
        return source.equals(doc) || source.endsWith("/" + doc);
    }
}
