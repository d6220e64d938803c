package dev.keel.rag;

import dev.keel.index.SearchHit;
import java.util.List;

/**
 * Receives a streamed answer as it is produced, on the answering thread: the retrieved sources once,
 * before any text, then pieces of text that concatenate to the answer as written (a model's
 * citation check happens after the last piece, so the final {@link Answer} may drop invalid markers).
 */
public interface AnswerEvents {
    /** Ignores everything: a non-streamed answer. */
    AnswerEvents NONE = new AnswerEvents() {
        @Override
        public void sources(List<SearchHit> sources) {}

        @Override
        public boolean delta(String text) {
            return true;
        }
    };

    void sources(List<SearchHit> sources);

    /** A piece of the answer; returning false (the client went away) stops the model's stream. */
    boolean delta(String text);
}
