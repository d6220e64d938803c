package dev.keel.provider;

import java.util.List;

/**
 * Answers a question from a tenant's own documents without a language model: the extractive
 * answerer behind the {@code extractive} provider type. Implemented by the RAG pipeline and handed
 * in by the composition root, so that this package does not call upward.
 */
@FunctionalInterface
public interface DocumentAnswerer {
    /** The longest question, in characters, that the extractive provider answers (as {@code /v1/answer} does). */
    int MAX_QUESTION_CHARS = 4_000;

    /** The answer with its numbered sources; {@code answered} is false for "the documents don't say". */
    Grounded answer(String tenant, String question);

    /** An extractive answer; {@code text} carries [n] markers that refer to {@code sources}. */
    record Grounded(String text, boolean answered, List<Source> sources) {}

    /** A numbered source: document title, where it came from, and the section quoted. */
    record Source(int n, String title, String source, String section) {}
}
