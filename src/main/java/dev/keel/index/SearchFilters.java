package dev.keel.index;

import java.util.List;

/**
 * Metadata filters applied inside both retrievers (never after them, so top-N stays full).
 * Null or empty members do not filter.
 */
public record SearchFilters(String sourcePrefix, List<String> docIds, String sectionPrefix) {
    public static final SearchFilters NONE = new SearchFilters(null, List.of(), null);

    public SearchFilters {
        docIds = docIds == null ? List.of() : List.copyOf(docIds);
    }
}
