package dev.keel.embed;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The in-process model: what it does not read of a text, which two texts differing only there cannot be told apart by. */
class BgeSmallEmbedderTest {
    private static final BgeSmallEmbedder EMBEDDER = new BgeSmallEmbedder(1);

    @AfterAll
    static void close() {
        EMBEDDER.close();
    }

    private static double cosine(String a, String b) {
        List<float[]> v = EMBEDDER.embedDocuments(List.of(a, b));
        double dot = 0;
        for (int i = 0; i < v.get(0).length; i++) dot += v.get(0)[i] * v.get(1)[i];
        return dot;
    }

    @Test
    void aPassageTheModelReadsAsNothingIsEmbeddedAsTheSmallestTextItReads() {
        float[] nothing = EMBEDDER.embedDocuments(List.of(BgeSmallEmbedder.NOTHING_READ)).getFirst();
        for (String text : List.of("", " ", "\n\t", "\u200b", "\u00ad", "\u202e", "\ufeff", "\u0301", "\u0007", "\u200b \u200d\u0301")) {
            assertThat(EMBEDDER.embedDocuments(List.of(text)).getFirst()).as(text.codePoints().boxed().toList().toString()).containsExactly(nothing);
        }
        assertThat(BgeSmallEmbedder.readsNothing("\u200bx")).isFalse();
        assertThat(BgeSmallEmbedder.readsNothing("\u0301")).isTrue();
    }

    @Test
    void charactersOutsideTheVocabularyAreUnseenAndTextsDifferingOnlyThereGetOneVector() {
        assertThat(EMBEDDER.unseen("Is 🍕 vegetarian?")).containsExactly("🍕");
        assertThat(cosine("Is 🍕 vegetarian?", "Is 🥩 vegetarian?")).isGreaterThan(0.999);
        assertThat(EMBEDDER.unseen("Allow １００ requests")).containsExactly("１００");
        assertThat(EMBEDDER.unseen("How do I reset my password?")).isEmpty();
        assertThat(EMBEDDER.unseen("Ωmega café привет ²⁵⁶")).isEmpty();
    }

    @Test
    void whatItTakesAsReadWithoutItsTokenizerTheTokenizerReadsWhole() {
        java.util.Random random = new java.util.Random(11);
        int checked = 0;
        for (int i = 0; i < 2_000; i++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(520);
            for (int j = 0; j < length; j++) {
                int pick = random.nextInt(20);
                text.append(pick == 0 ? ' ' : pick == 1 ? '\n' : pick == 2 ? (char) random.nextInt(32) : (char) (0x21 + random.nextInt(0x5E)));
            }
            if (random.nextInt(10) == 0) text.append("w".repeat(95 + random.nextInt(10)));
            String t = text.toString();
            if (!BgeSmallEmbedder.readsAll(t)) continue;
            checked++;
            assertThat(EMBEDDER.unseenByTokenizer(t)).as(t).isEmpty();
        }
        assertThat(checked).isGreaterThan(1_000);
        assertThat(BgeSmallEmbedder.readsAll("Is 🍕 vegetarian?")).isFalse();
        assertThat(BgeSmallEmbedder.readsAll("code " + "Q".repeat(101))).isFalse();
        String joined = "Q".repeat(60) + "\u0001" + "Q".repeat(60);
        assertThat(BgeSmallEmbedder.readsAll(joined)).as("the model drops the control character and reads one long word").isFalse();
        assertThat(EMBEDDER.unseen(joined)).isNotEmpty();
    }

    @Test
    void aWordTooLongForTheTokenizerAndTextPastTheWindowAreUnseen() {
        String code = "Q".repeat(120);
        assertThat(EMBEDDER.unseen("Is the code " + code + " valid?")).containsExactly(code);
        String tail = " tail words here";
        String longText = "word ".repeat(600) + tail;
        List<String> unseen = EMBEDDER.unseen(longText);
        assertThat(unseen).hasSize(1);
        assertThat(unseen.getFirst()).endsWith(tail).hasSizeGreaterThan(tail.length());
    }
}
