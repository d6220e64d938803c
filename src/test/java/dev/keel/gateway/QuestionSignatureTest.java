package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What similar questions must share before one is answered with the other's cached reply. */
class QuestionSignatureTest {
    @Test
    void numbersMustMatchAsWrittenValuesWhateverTheirThousandsSeparatorsOrOrder() {
        assertThat(QuestionSignature.of("Is the limit 1,000 requests?")).isEqualTo(QuestionSignature.of("Is the limit 1000 requests?"));
        assertThat(QuestionSignature.of("Between 30 and 60 days?")).isEqualTo(QuestionSignature.of("Between 60 and 30 days?"));
        assertThat(QuestionSignature.of("Is the limit 100 requests?")).isNotEqualTo(QuestionSignature.of("Is the limit 1000 requests?"));
        assertThat(QuestionSignature.of("A 1.5 hour wait?")).isNotEqualTo(QuestionSignature.of("A 15 hour wait?"));
        assertThat(QuestionSignature.of("A 1,5 hour wait?")).isEqualTo(QuestionSignature.of("A 1.5 hour wait?"));
        assertThat(QuestionSignature.of("What is 2+2?")).isNotEqualTo(QuestionSignature.of("What is 2+3?"));
    }

    @Test
    void negationsCountWhetherWordsOrContractionsWithEitherApostrophe() {
        String none = QuestionSignature.of("How do I cancel my plan?");
        assertThat(QuestionSignature.of("How do I not cancel my plan?")).isNotEqualTo(none);
        assertThat(QuestionSignature.of("Why can't I cancel my plan?")).isNotEqualTo(none);
        assertThat(QuestionSignature.of("Why can\u2019t I cancel my plan?")).isEqualTo(QuestionSignature.of("Why cannot I cancel my plan?"));
        assertThat(QuestionSignature.of("Is there no way to cancel without a fee?")).isNotEqualTo(QuestionSignature.of("Is there no way to cancel with a fee?"));
        assertThat(QuestionSignature.of("Noted, thanks. How do I cancel my plan?")).isEqualTo(none);
    }
}
