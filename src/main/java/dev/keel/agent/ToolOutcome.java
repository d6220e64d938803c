package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;

/** What one tool call produced: a result for the model, or a failure it can read and act on. */
public sealed interface ToolOutcome {
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
}
