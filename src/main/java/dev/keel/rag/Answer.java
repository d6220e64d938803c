package dev.keel.rag;

import dev.keel.index.SearchHit;
import java.util.List;

/**
 * A grounded answer: text with {@code [n]} markers, whether the documents answered at all, the
 * citations behind the markers, the retrieved sources, and the support score that decided.
 */
public record Answer(String text, boolean answered, List<Citation> citations, List<SearchHit> sources, double support, String traceId) {}
