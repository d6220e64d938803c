package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LiteralAutomatonTest {
    @Test
    void findsEveryOccurrenceOfEveryLiteralOverlapsIncluded() {
        LiteralAutomaton automaton = new LiteralAutomaton(List.of("you", "your", "our", "ignore"));

        int[][] at = automaton.occurrences("your ignore; you, yours");

        assertThat(at[0]).containsExactly(0, 13, 18);
        assertThat(at[1]).containsExactly(0, 18);
        assertThat(at[2]).containsExactly(1, 19);
        assertThat(at[3]).containsExactly(5);
    }

    @Test
    void aLiteralThatDoesNotOccurHasNoOffsets() {
        assertThat(new LiteralAutomaton(List.of("system", "prompt")).occurrences("the system")[1]).isNull();
    }

    @Test
    void nonAsciiLiteralsAreFoundAmongOtherScripts() {
        LiteralAutomaton automaton = new LiteralAutomaton(List.of("ignoriere", "игнорируй", "忽略", "略之"));

        int[][] at = automaton.occurrences("bitte игнорируй — 忽略之前 ignoriere ignorieren");

        assertThat(at[0]).containsExactly(23, 33);
        assertThat(at[1]).containsExactly(6);
        assertThat(at[2]).containsExactly(18);
        assertThat(at[3]).containsExactly(19);
    }
}
