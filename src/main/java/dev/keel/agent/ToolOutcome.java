package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;

/** What one tool call produced: a result for the model, or a failure it can read and act on. */
public sealed interface ToolOutcome {
    /**
     * The most characters of one result a model reads and a run's log keeps: one large page or file fits, while a
     * result of megabytes cannot end a run at its token limit or fill the event log.
     */
    int MAX_RESULT_CHARS = 32_000;

    /** The result, as JSON the model reads; an empty array, object or string tells the model "no results". */
    record Success(JsonNode value) implements ToolOutcome {}

    /**
     * A failure: {@code message} is short, readable by a model, and never a stack trace or a secret; {@code retryable}
     * when calling again later may succeed (a timeout, a 503) rather than never (a 404, a refused URL).
     */
    record Failure(String message, boolean retryable) implements ToolOutcome {}

    static ToolOutcome success(JsonNode value) {
        return new Success(value);
    }

    static ToolOutcome failure(String message) {
        return new Failure(message, false);
    }

    /** {@code value} as the model reads it: unchanged when its text fits {@link #MAX_RESULT_CHARS}, else that text cut, saying so. */
    static JsonNode bounded(JsonNode value) {
        if (value == null) return null;
        String text = value.isTextual() ? value.asText() : value.toString();
        return text.length() <= MAX_RESULT_CHARS ? value : com.fasterxml.jackson.databind.node.TextNode.valueOf(cut(text, MAX_RESULT_CHARS));
    }

    /** {@code s} cut to {@code max} characters, saying how much was cut. */
    static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + " …[cut: " + (s.length() - max) + " more characters]";
    }
}
