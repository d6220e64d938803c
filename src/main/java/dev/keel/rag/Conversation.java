package dev.keel.rag;

import java.util.List;

/**
 * What a session remembers: its most recent turns verbatim (oldest first) and a summary of the
 * turns before them (empty when there were none). Immutable.
 */
public record Conversation(List<Turn> turns, String summary) {
    static final Conversation EMPTY = new Conversation(List.of(), "");

    /** One exchange: the question as asked, the standalone question it was read as, and the answer given. */
    public record Turn(String question, String standalone, String answer) {}

    public Conversation {
        turns = List.copyOf(turns);
    }

    public boolean isEmpty() {
        return turns.isEmpty() && summary.isEmpty();
    }

    /** Characters remembered: what the conversation weighs in its tenant's pool. */
    int chars() {
        int n = summary.length();
        for (Turn t : turns) n += t.question().length() + t.standalone().length() + t.answer().length();
        return n;
    }

    /** The latest turn; only on a non-empty conversation. */
    Turn last() {
        return turns.get(turns.size() - 1);
    }
}
