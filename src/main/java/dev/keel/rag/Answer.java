package dev.keel.rag;

import dev.keel.index.SearchHit;
import java.util.List;

/**
 * A grounded answer: text with {@code [n]} markers, whether the documents answered at all, the
 * citations behind the markers, the retrieved sources, and the support score that decided (the
 * extractive answerer's; for a model's answer, the retrieval confidence). {@code answerer} is
 * {@code extractive} or the model that wrote it; {@code grounding} is the check of a model's
 * sentences against their cited context (null for extractive answers); {@code degraded} means every
 * provider of the model was down and the extractive answer stands in; {@code ttftMs} is the time to
 * the model's first token of a streamed answer (else null); {@code refused} is why Keel declined
 * without calling the model {@code answerer} names ({@code low_confidence}, {@code no_context},
 * {@code context_does_not_fit}), or {@code ungrounded_answer} when the guard withheld a model's
 * answer for its unsupported sentences ({@code guard.output.grounding: block}), or the output
 * guard's code when it withheld the model's reply ({@code system_prompt_leak}…); else null.
 */
public record Answer(String text, boolean answered, List<Citation> citations, List<SearchHit> sources, double support, String traceId,
                     String answerer, Grounding grounding, boolean degraded, Double ttftMs, String rewrittenQuestion, String refused) {
    public Answer(String text, boolean answered, List<Citation> citations, List<SearchHit> sources, double support, String traceId,
                  String answerer, Grounding grounding, boolean degraded, Double ttftMs) {
        this(text, answered, citations, sources, support, traceId, answerer, grounding, degraded, ttftMs, null, null);
    }

    /** An extractive answer. */
    public Answer(String text, boolean answered, List<Citation> citations, List<SearchHit> sources, double support, String traceId) {
        this(text, answered, citations, sources, support, traceId, dev.keel.config.AnswerConfig.EXTRACTIVE, null, false, null);
    }

    /** This extractive answer standing in for a model whose providers were all down. */
    Answer standingIn() {
        return new Answer(text, answered, citations, sources, support, traceId, answerer, grounding, true, ttftMs, rewrittenQuestion, refused);
    }

    /** This answer, Keel's refusal for {@code reason} without a model call. */
    Answer refusedBecause(String reason) {
        return new Answer(text, answered, citations, sources, support, traceId, answerer, grounding, degraded, ttftMs, rewrittenQuestion, reason);
    }

    /** This answer withheld by the guard for {@code code}: {@code message} in its place, no citations. */
    public Answer withheld(String message, String code) {
        return new Answer(message, false, List.of(), sources, support, traceId, answerer, grounding, degraded, ttftMs, rewrittenQuestion, code);
    }

    /** This answer, given to a follow-up that was read as {@code standalone}. */
    Answer rewrittenFrom(String standalone) {
        return new Answer(text, answered, citations, sources, support, traceId, answerer, grounding, degraded, ttftMs, standalone, refused);
    }
}
