package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Counting tokens of any text a client or an upstream sends, long single words included. */
class TokensTest {
    @Test
    void aLongTextIsCountedInSlicesAsIfWholeWithinATokenPerSlice() {
        StringBuilder prose = new StringBuilder();
        for (int i = 0; prose.length() < 200_000; i++) prose.append("The ledger records word").append(i % 113).append(i % 7 == 0 ? ".\n\n" : " ");
        String text = prose.toString();
        int exact = Tokens.encode(text).size(), slices = text.length() / (Tokens.SLICE / 2) + 1;
        assertThat(Tokens.count(text)).isBetween(exact, exact + slices);
    }

    @Test
    void aWordOfMegabytesIsCountedInBoundedPieces() {
        String word = "B".repeat(3 * 1024 * 1024);
        assertThat(Tokens.count(word)).as("one 3 MB word, as a hostile upstream streamed it").isBetween(word.length() / 16, word.length());
    }

    @Test
    void aSliceNeverSplitsASurrogatePair() {
        String emoji = "😀".repeat(Tokens.SLICE);
        assertThat(Tokens.count(emoji)).isPositive();
        assertThat(Tokens.count(emoji)).isEqualTo(Tokens.count(emoji.substring(0, Tokens.SLICE)) * 2);
    }
}
