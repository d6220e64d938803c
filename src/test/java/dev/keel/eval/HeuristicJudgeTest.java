package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.index.SearchFilters;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerRequest;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The offline judge reads answers as Keel's grounding check does, and scores relevance by embedding. */
class HeuristicJudgeTest {
    private static final String QUESTION = "How long do I have to request a refund on an annual plan?";
    private static HeuristicJudge judge;
    private static List<Judge.Passage> context;

    @BeforeAll
    static void retrieveTheRefundSection() {
        Keel keel = SampleCorpus.keel();
        judge = new HeuristicJudge(keel.answers(), keel.embedder());
        Answer a = keel.answers().answer(new AnswerRequest(Keel.DEFAULT_TENANT, QUESTION, SearchFilters.NONE), keel.traces().start("t", Keel.DEFAULT_TENANT));
        context = a.sources().stream().map(h -> new Judge.Passage(h.chunk().title(), h.chunk().section(), h.chunk().body())).toList();
        assertThat(context).isNotEmpty();
    }

    private static Judge.Verdict judge(String answer) {
        return judge.judge(new Judge.Input(Keel.DEFAULT_TENANT, QUESTION, answer, context, null, false));
    }

    private static String refundWindowSentence() {
        for (Judge.Passage p : context) {
            for (String s : p.text().split("(?<=\\.)\\s+")) if (s.contains("30 days")) return s.strip();
        }
        throw new AssertionError("no context sentence states the refund window");
    }

    private static int refundWindowBlock() {
        return 1 + context.indexOf(context.stream().filter(p -> p.text().contains(refundWindowSentence())).findFirst().orElseThrow());
    }

    @Test
    void anAnswerQuotingItsCitedContextIsFaithfulAndItsCitationsAccurate() {
        Judge.Verdict v = judge(refundWindowSentence() + " [" + refundWindowBlock() + "]");
        assertThat(v.scores().get(Judge.FAITHFULNESS)).isEqualTo(1.0);
        assertThat(v.scores().get(Judge.CITATION_ACCURACY)).isEqualTo(1.0);
    }

    @Test
    void anInventedSentenceLowersFaithfulness() {
        String cite = " [" + refundWindowBlock() + "].";
        Judge.Verdict v = judge(refundWindowSentence().replaceFirst("\\.$", cite) + " Refunds are also paid in Bitcoin to customers in Norway within 90 minutes" + cite);
        assertThat(v.scores().get(Judge.FAITHFULNESS)).isEqualTo(0.5);
        assertThat(v.reasons().get(Judge.FAITHFULNESS)).contains("Bitcoin");
    }

    @Test
    void aMarkerAfterAFullStopEndsTheSentenceSoTheNextIsJudgedOnItsOwn() {
        String cite = " [" + refundWindowBlock() + "]";
        Judge.Verdict v = judge(refundWindowSentence() + cite + " Refunds are also paid in Bitcoin to customers in Norway within 90 minutes.");
        assertThat(v.scores().get(Judge.FAITHFULNESS)).isEqualTo(0.5);
        assertThat(v.reasons().get(Judge.FAITHFULNESS)).contains("first unsupported: Refunds are also paid in Bitcoin");
    }

    @Test
    void aClaimTheContextDeniesIsUnsupportedHoweverManyWordsItShares() {
        Judge.Verdict v = judge.judge(new Judge.Input(Keel.DEFAULT_TENANT, "Are monthly subscriptions refundable?", "Monthly subscriptions are refundable.",
                List.of(new Judge.Passage("Refund policy", "Monthly plans", "Monthly subscriptions are not refundable.")), null, false));
        assertThat(v.scores().get(Judge.FAITHFULNESS)).isEqualTo(0.0);
    }

    @Test
    void aNumberWrittenAsAWordMustBeTheContextsNumber() {
        Judge.Passage backups = new Judge.Passage("Data retention", "Backups", "Backups are taken every 24 hours and kept for 35 days.");
        assertThat(judge.judge(new Judge.Input(Keel.DEFAULT_TENANT, "How long are backups kept?", "Backups are kept for one year.", List.of(backups), null, false))
                .scores().get(Judge.FAITHFULNESS)).isEqualTo(0.0);
        Judge.Passage revoke = new Judge.Passage("API authentication", "Rotating", "Revoking a key takes effect within 1 minute.");
        assertThat(judge.judge(new Judge.Input(Keel.DEFAULT_TENANT, "How fast is revoking?", "Revoking a key takes effect within one minute.", List.of(revoke), null, false))
                .scores().get(Judge.FAITHFULNESS)).isEqualTo(1.0);
    }

    @Test
    void aWordWhoseOppositeTheContextUsesIsUnsupported() {
        Judge.Passage tls = new Judge.Passage("Encryption", "In transit", "TLS 1.0 and 1.1 are rejected by every endpoint.");
        assertThat(judge.judge(new Judge.Input(Keel.DEFAULT_TENANT, "Is TLS 1.0 supported?", "TLS 1.0 and 1.1 are accepted by every endpoint.", List.of(tls), null, false))
                .scores().get(Judge.FAITHFULNESS)).isEqualTo(0.0);
    }

    @Test
    void aSupportedSentenceThatCitesNothingIsNotAccuratelyCited() {
        Judge.Verdict v = judge(refundWindowSentence());
        assertThat(v.scores().get(Judge.FAITHFULNESS)).isEqualTo(1.0);
        assertThat(v.scores().get(Judge.CITATION_ACCURACY)).isEqualTo(0.0);
        assertThat(v.reasons().get(Judge.CITATION_ACCURACY)).contains("cite nothing");
    }

    @Test
    void citingABlockThatDoesNotExistCountsAgainstCitationAccuracy() {
        Judge.Verdict v = judge(refundWindowSentence() + " [99]");
        assertThat(v.scores().get(Judge.CITATION_ACCURACY)).isEqualTo(0.0);
    }

    @Test
    void anOffTopicAnswerScoresLowerRelevanceThanAnAnswerToTheQuestion() {
        double onTopic = judge(refundWindowSentence()).scores().get(Judge.ANSWER_RELEVANCE);
        double offTopic = judge("The office cafeteria serves lunch from noon on weekdays.").scores().get(Judge.ANSWER_RELEVANCE);
        System.out.printf("answer relevance: on topic %.3f (%s), off topic %.3f%n", onTopic, judge(refundWindowSentence()).reasons().get(Judge.ANSWER_RELEVANCE), offTopic);
        assertThat(onTopic).isGreaterThan(0.7);
        assertThat(offTopic).isLessThan(0.3);
    }

    @Test
    void aDeclinedAnswerGetsNoScores() {
        assertThat(judge.judge(new Judge.Input(Keel.DEFAULT_TENANT, QUESTION, "The documents don't say.", context, null, true)).scores()).isEmpty();
    }
}
