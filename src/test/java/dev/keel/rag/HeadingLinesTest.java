package dev.keel.rag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.index.SearchFilters;
import org.junit.jupiter.api.Test;

/** Packed chunks carry their small sections' headings as lines; an answer quotes what a section says, never its heading. */
class HeadingLinesTest {
    @Test
    void theQuestionTheDemoSuggestsIsAnsweredWithTheSentenceNotTheHeadingThatEchoesIt() throws Exception {
        Keel keel = SampleCorpus.keel();
        Answer a = keel.answers().answer(new AnswerRequest(Keel.DEFAULT_TENANT, "Are monthly plans refundable?", SearchFilters.NONE),
                keel.traces().start("heading", Keel.DEFAULT_TENANT));
        assertThat(a.answered()).isTrue();
        assertThat(a.text()).contains("not refundable").doesNotStartWith("Monthly plans [");
        assertThat(a.citations().get(0).section()).isEqualTo("Monthly plans");
    }
}
