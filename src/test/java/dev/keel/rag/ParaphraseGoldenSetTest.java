package dev.keel.rag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.SampleCorpus;
import dev.keel.rag.GoldenQuestions.Figures;
import dev.keel.rag.GoldenQuestions.Result;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The paraphrase golden set: answerable questions worded unlike their answer sentence (other verbs,
 * synonyms, a user's phrasing) and unanswerable ones in the corpus's own vocabulary, in a tune half
 * (the threshold was calibrated on it) and a held-out half. The floors are today's figures, so a
 * regression fails; the targets (95% answered with the right source, at most 5% of the
 * unanswerable answered) are not reached by the offline answerer (see the README).
 */
class ParaphraseGoldenSetTest {
    private static List<Result> results;

    @BeforeAll
    static void askEveryQuestion() {
        results = GoldenQuestions.ask(SampleCorpus.PARAPHRASE);
        for (String split : List.of("tune", "heldout")) {
            System.out.println("paraphrase set, " + split + ": " + GoldenQuestions.figures(results, r -> r.split().equals(split)));
        }
        System.out.println("paraphrase set, all: " + Figures.of(results));
    }

    @Test
    void theSetHasFortyAnswerableAndFifteenUnanswerableQuestionsInBothSplits() {
        Figures all = Figures.of(results);
        assertThat(all.answerable()).isGreaterThanOrEqualTo(40);
        assertThat(all.unanswerable()).isGreaterThanOrEqualTo(15);
        for (String split : List.of("tune", "heldout")) {
            Figures f = GoldenQuestions.figures(results, r -> r.split().equals(split));
            assertThat(f.answerable()).as(split).isGreaterThanOrEqualTo(20);
            assertThat(f.unanswerable()).as(split).isGreaterThanOrEqualTo(6);
        }
    }

    @Test
    void nearlyHalfOfTheParaphrasedQuestionsAreAnsweredWithTheExpectedSource() {
        assertThat(Figures.of(results).rightSourceRate()).as("expected source cited").isGreaterThanOrEqualTo(0.45);
        assertThat(GoldenQuestions.figures(results, r -> r.split().equals("heldout")).rightSourceRate()).as("held-out")
                .isGreaterThanOrEqualTo(0.4);
    }

    @Test
    void atMostFourInFiveUnanswerableQuestionsInTheCorpusVocabularyAreAnswered() {
        assertThat(Figures.of(results).unanswerableAnsweredRate()).as("unanswerable answered").isLessThanOrEqualTo(0.8);
    }

    @Test
    void noAnswerQuotesTheSameStatementTwice() {
        for (Result r : results) {
            List<String> quoted = List.of(r.answer().text().split(" \\[\\d+]\\s*"));
            assertThat(quoted).as(r.question().get("id").asText()).doesNotHaveDuplicates();
        }
    }
}
