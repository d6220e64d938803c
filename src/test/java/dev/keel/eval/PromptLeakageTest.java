package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** An eval question or reference answer that reached a prompt template is flagged, by containment or a long shared run of words. */
class PromptLeakageTest {
    private static final String TEMPLATE = """
            ### system
            Answer only from the context blocks and cite them as [n].
            ### example.user
            Question: HOW LONG do I have to request a refund on an annual plan?!
            ### example.assistant
            Refunds of annual plans are granted in full within thirty days of the purchase. [1]
            ### user
            {{context}}
            {{question}}
            """;

    private static EvalExample example(String id, String question, String reference) {
        return new EvalExample(id, question, reference, List.of(), true, List.of(), List.of(), EvalExample.Split.DEV, EvalDataset.fingerprint(question, reference));
    }

    @Test
    void aQuestionInAFewShotExampleIsFlaggedWhateverItsCaseAndPunctuation() {
        List<String> warnings = PromptLeakage.check("mine.txt", TEMPLATE, List.of(example("q01", "How long do I have to request a refund on an annual plan?", null)));
        assertThat(warnings).singleElement().asString().contains("mine.txt").contains("q01").contains("question");
    }

    @Test
    void aParaphrasedReferenceSharingEightConsecutiveWordsIsFlagged() {
        List<String> warnings = PromptLeakage.check("mine.txt", TEMPLATE, List.of(example("q02", "What is the refund window?",
                "Yes: refunds of annual plans are granted in full within thirty days, no questions asked.")));
        assertThat(warnings).singleElement().asString().contains("q02").contains("reference answer")
                .contains("\"refunds of annual plans are granted in full\"");
    }

    @Test
    void unrelatedExamplesAndShortQuestionsThatOccurByChanceAreNotFlagged() {
        assertThat(PromptLeakage.check("mine.txt", TEMPLATE, List.of(example("q03", "Which payment methods are accepted?", "Visa and Mastercard."),
                example("q04", "Context blocks?", null)))).isEmpty();
    }

    @Test
    void sevenSharedWordsAreNotEnough() {
        assertThat(PromptLeakage.check("mine.txt", TEMPLATE, List.of(example("q05", "So refunds of annual plans are granted in? Yes", null))))
                .isEmpty();
    }
}
