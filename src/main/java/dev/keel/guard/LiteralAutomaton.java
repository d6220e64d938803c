package dev.keel.guard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds every occurrence of a fixed set of literals in one pass over a text (Aho-Corasick): the pattern layer
 * reads where each rule's leading words occur instead of running each rule's regex over the whole text, or
 * {@code indexOf} once per literal. Matching is exact, char by char; callers lower-case both sides. Transitions on
 * ASCII are a precomputed table, others follow failure links, and a char that no literal holds goes straight back
 * to the root, so the pass costs a few nanoseconds per char. Immutable and thread-safe.
 */
final class LiteralAutomaton {
    private static final int ASCII = 128;
    private static final int[] NONE = new int[0];

    private final List<String> literals;
    /** ASCII transitions, complete: state × 128 → state. */
    private final int[] asciiNext;
    /** Non-ASCII transitions of the trie only (misses follow {@link #fail}). */
    private final List<Map<Character, Integer>> otherNext;
    private final int[] fail;
    /** Literal ids ending at each state, its failure chain's included. */
    private final int[][] ending;
    /** Chars that occur in some literal: any other char sends the search back to the root. */
    private final boolean[] used = new boolean[Character.MAX_VALUE + 1];

    LiteralAutomaton(List<String> literals) {
        this.literals = List.copyOf(literals);
        List<int[]> ascii = new ArrayList<>();
        List<Map<Character, Integer>> other = new ArrayList<>();
        List<List<Integer>> ends = new ArrayList<>();
        newState(ascii, other, ends);
        for (int id = 0; id < this.literals.size(); id++) {
            String literal = this.literals.get(id);
            if (literal.isEmpty()) throw new IllegalArgumentException("empty literal");
            int s = 0;
            for (int i = 0; i < literal.length(); i++) {
                char c = literal.charAt(i);
                used[c] = true;
                int next = c < ASCII ? ascii.get(s)[c] : other.get(s).getOrDefault(c, -1);
                if (next <= 0) {
                    next = newState(ascii, other, ends);
                    if (c < ASCII) ascii.get(s)[c] = next;
                    else other.get(s).put(c, next);
                }
                s = next;
            }
            ends.get(s).add(id);
        }
        int states = ascii.size();
        fail = new int[states];
        asciiNext = new int[states * ASCII];
        ending = new int[states][];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        queue.add(0);
        while (!queue.isEmpty()) {
            int s = queue.poll();
            List<Integer> own = new ArrayList<>(ends.get(s));
            if (s != 0) for (int id : ending[fail[s]]) own.add(id);
            ending[s] = own.isEmpty() ? NONE : own.stream().mapToInt(Integer::intValue).toArray();
            int[] trie = ascii.get(s);
            for (int c = 0; c < ASCII; c++) {
                int child = trie[c];
                if (child > 0) {
                    fail[child] = s == 0 ? 0 : asciiNext[fail[s] * ASCII + c];
                    asciiNext[s * ASCII + c] = child;
                    queue.add(child);
                } else {
                    asciiNext[s * ASCII + c] = s == 0 ? 0 : asciiNext[fail[s] * ASCII + c];
                }
            }
            for (Map.Entry<Character, Integer> e : other.get(s).entrySet()) {
                fail[e.getValue()] = s == 0 ? 0 : step(fail[s], e.getKey(), other);
                queue.add(e.getValue());
            }
        }
        otherNext = other;
    }

    private static int newState(List<int[]> ascii, List<Map<Character, Integer>> other, List<List<Integer>> ends) {
        ascii.add(new int[ASCII]);
        other.add(new HashMap<>());
        ends.add(new ArrayList<>());
        return ascii.size() - 1;
    }

    /** The literals, in id order. */
    List<String> literals() {
        return literals;
    }

    /**
     * The start offsets of every occurrence of every literal in {@code text}, indexed by literal id: null for a
     * literal that does not occur, otherwise ascending offsets (overlapping occurrences included).
     */
    int[][] occurrences(CharSequence text) {
        int[][] starts = new int[literals.size()][];
        int[] counts = new int[literals.size()];
        int s = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < ASCII) s = asciiNext[s * ASCII + c];
            else s = used[c] ? step(s, c, otherNext) : 0;
            for (int id : ending[s]) {
                int[] list = starts[id];
                if (list == null) list = starts[id] = new int[4];
                else if (counts[id] == list.length) list = starts[id] = Arrays.copyOf(list, list.length * 2);
                list[counts[id]++] = i - literals.get(id).length() + 1;
            }
        }
        for (int id = 0; id < starts.length; id++) if (starts[id] != null) starts[id] = Arrays.copyOf(starts[id], counts[id]);
        return starts;
    }

    /** The next state on a non-ASCII char, following failure links (only while building, {@link #fail} of shallower states is set). */
    private int step(int s, char c, List<Map<Character, Integer>> other) {
        while (true) {
            Integer next = other.get(s).get(c);
            if (next != null) return next;
            if (s == 0) return 0;
            s = fail[s];
        }
    }
}
