package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Token F1 as SQuAD computes it, and fact coverage, against hand-computed values. */
class AnswerMetricsTest {
    @Test
    void tokenF1IsTheHarmonicMeanOfSharedTokenPrecisionAndRecall() {
        // answer tokens: refunds take 5 to 10 days (6); reference: refunds arrive within 5 to 10 business days (8); shared: refunds 5 to 10 days (5)
        double p = 5.0 / 6, r = 5.0 / 8;
        assertThat(AnswerMetrics.tokenF1("Refunds take 5 to 10 days.", "Refunds arrive within 5 to 10 business days."))
                .isCloseTo(2 * p * r / (p + r), within(1e-12));
    }

    @Test
    void tokenF1IgnoresCaseArticlesPunctuationAndCitationMarkers() {
        assertThat(AnswerMetrics.tokenF1("The refund window is 30 days. [1] [2, 3]", "refund window is 30 days")).isEqualTo(1.0);
        assertThat(AnswerMetrics.tokens("An API key, the ANSWER!")).containsExactly("api", "key", "answer");
    }

    @Test
    void tokenF1CountsRepeatedTokensOnlyAsOftenAsTheReferenceHasThem() {
        // answer: days days days (3); reference: days (1); shared 1: p = 1/3, r = 1
        assertThat(AnswerMetrics.tokenF1("days days days", "days")).isCloseTo(2 * (1.0 / 3) / (1.0 / 3 + 1), within(1e-12));
    }

    @Test
    void tokenF1OfDisjointOrEmptyTexts() {
        assertThat(AnswerMetrics.tokenF1("cats", "dogs")).isZero();
        assertThat(AnswerMetrics.tokenF1("[1]", "dogs")).isZero();
        assertThat(AnswerMetrics.tokenF1("the", "a")).isEqualTo(1.0);
    }

    @Test
    void factsIsTheShareOfPhrasesPresentCaseInsensitively() {
        assertThat(AnswerMetrics.facts("Refunds within 30 Days, minus a 10% fee.", List.of("30 days", "10%", "prorated"))).isCloseTo(2.0 / 3, within(1e-12));
    }
}
