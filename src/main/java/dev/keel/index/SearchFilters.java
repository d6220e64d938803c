package dev.keel.index;

import java.util.List;

/**
 * Metadata filters applied inside both retrievers (never after them, so top-N stays full).
 * Null or empty members do not filter; {@code withoutFlagged} leaves out chunks the ingest scan
 * flagged as carrying instructions (what answers retrieve under {@code guard.indirect.policy: exclude}).
 */
public record SearchFilters(String sourcePrefix, List<String> docIds, String sectionPrefix, boolean withoutFlagged) {
    public static final SearchFilters NONE = new SearchFilters(null, List.of(), null);
    /**
     * Longest prefix, in characters. Lucene matches a prefix with an automaton of one state per
     * UTF-8 byte and refuses one of about 1,000; 256 characters are at most 768 bytes.
     */
    public static final int MAX_PREFIX_CHARS = 256;

    /**
     * Characters of a source or section path an index matches prefix filters against (the stored
     * value stays whole): more than {@link #MAX_PREFIX_CHARS}, so matching is exact, and far below
     * the 32,766 UTF-8 bytes Lucene allows in a term.
     */
    static final int MAX_KEYWORD_CHARS = 1_024;

    /** A caller's filters: flagged chunks stay in. */
    public SearchFilters(String sourcePrefix, List<String> docIds, String sectionPrefix) {
        this(sourcePrefix, docIds, sectionPrefix, false);
    }

    /** These filters, leaving out flagged chunks too. */
    public SearchFilters excludingFlagged() {
        return new SearchFilters(sourcePrefix, docIds, sectionPrefix, true);
    }

    /** @throws IllegalArgumentException when a prefix is longer than {@link #MAX_PREFIX_CHARS} */
    public SearchFilters {
        docIds = docIds == null ? List.of() : List.copyOf(docIds);
        requireShort("source prefix", sourcePrefix);
        requireShort("section prefix", sectionPrefix);
    }

    /** What an index matches prefixes against: the first {@link #MAX_KEYWORD_CHARS} characters, never ending inside a surrogate pair. */
    static String keyword(String value) {
        if (value.length() <= MAX_KEYWORD_CHARS) return value;
        int end = Character.isHighSurrogate(value.charAt(MAX_KEYWORD_CHARS - 1)) ? MAX_KEYWORD_CHARS - 1 : MAX_KEYWORD_CHARS;
        return value.substring(0, end);
    }

    private static void requireShort(String what, String prefix) {
        if (prefix != null && prefix.length() > MAX_PREFIX_CHARS) {
            throw new IllegalArgumentException("the " + what + " filter is longer than " + MAX_PREFIX_CHARS + " characters");
        }
    }
}
