package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.rag.Answer;
import dev.keel.rag.Grounding;
import dev.keel.trace.Trace;
import dev.keel.trace.Traces;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which answers {@code /v1/answer} keeps for others: only complete, checked ones. */
class CachedAnswersTest {
    private static final Grounding CHECKED = new Grounding(1, List.of(), List.of());

    private static Trace trace() {
        return new Traces().start("answer", "t");
    }

    private static Answer byModel(String text, Grounding grounding, boolean degraded) {
        return new Answer(text, true, List.of(), List.of(), 0.9, "trace", "gpt-x", grounding, degraded, 12.0);
    }

    @Test
    void aModelsCheckedAnswerAndAnExtractiveAnswerAreKept() {
        assertThat(CachedAnswers.storable(byModel("Employees get 28 days [1].", CHECKED, false), trace())).isTrue();
        assertThat(CachedAnswers.storable(new Answer("Employees get 28 days [1].", true, List.of(), List.of(), 0.9, "trace"), trace())).isTrue();
    }

    @Test
    void anAnswerCutShortByAClientThatLeftIsNotKept() {
        Trace trace = trace();
        trace.attr("client.disconnected", true);
        assertThat(CachedAnswers.storable(byModel("Employees get", null, false), trace)).isFalse();
    }

    @Test
    void aCheckedAnswerWhoseStreamKeelCutAtItsOutputReservationIsNotKept() {
        Trace trace = trace();
        trace.attr(Trace.STREAM_CUT, "output_reservation");
        assertThat(CachedAnswers.storable(byModel("Employees get 28 days [1]. Employees get", CHECKED, false), trace)).isFalse();
    }

    @Test
    void aModelsAnswerWhoseGroundingWasNotCheckedIsNotKept() {
        assertThat(CachedAnswers.storable(byModel("Employees get", null, false), trace())).isFalse();
    }

    @Test
    void anExtractiveAnswerStandingInForAModelThatWasDownIsNotKept() {
        Answer standIn = new Answer("Employees get 28 days [1].", true, List.of(), List.of(), 0.9, "trace", "extractive", null, true, null);
        assertThat(CachedAnswers.storable(standIn, trace())).isFalse();
    }
}
