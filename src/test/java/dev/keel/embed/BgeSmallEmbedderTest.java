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
    void charactersOutsideTheVocabularyAreUnseenAndTextsDifferingOnlyThereGetOneVector() {
        assertThat(EMBEDDER.unseen("Is 🍕 vegetarian?")).containsExactly("🍕");
        assertThat(cosine("Is 🍕 vegetarian?", "Is 🥩 vegetarian?")).isGreaterThan(0.999);
        assertThat(EMBEDDER.unseen("Allow １００ requests")).containsExactly("１００");
        assertThat(EMBEDDER.unseen("How do I reset my password?")).isEmpty();
        assertThat(EMBEDDER.unseen("Ωmega café привет ²⁵⁶")).isEmpty();
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
