package dev.keel.rag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.index.SearchFilters;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.SourceDocument;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What the offline answerer quotes and when it declines, through the real pipeline on the sample corpus. */
class ExtractiveAnswersTest {
    private static Answer ask(String tenant, String question) {
        Keel keel = SampleCorpus.keel();
        return keel.answers().answer(new AnswerRequest(tenant, question, SearchFilters.NONE), keel.traces().start("test", tenant));
    }

    @Test
    void aOneLetterQuestionIsDeclinedWithAHintInsteadOfAnAnswer() {
        for (String question : new String[] {"x", "?", "what is it", "  a  "}) {
            Answer a = ask(Keel.DEFAULT_TENANT, question);
            assertThat(a.answered()).as(question).isFalse();
            assertThat(a.citations()).isEmpty();
            assertThat(a.text()).isEqualTo(ExtractiveAnswerer.NOT_A_QUESTION);
        }
    }

    @Test
    void aShortQuestionWithARealWordIsStillAnswered() {
        Answer a = ask(Keel.DEFAULT_TENANT, "SSO?");
        assertThat(a.answered()).isTrue();
        assertThat(a.citations()).isNotEmpty();
    }

    @Test
    void aQuestionWordedUnlikeTheDocumentIsAnsweredFromTheRightSection() {
        Answer a = ask(Keel.DEFAULT_TENANT, "If you take the system down for planned upgrades, does that count as an outage?");
        assertThat(a.answered()).isTrue();
        assertThat(a.citations()).anySatisfy(c -> assertThat(c.source()).endsWith("/status-and-sla.md"));
        assertThat(a.text()).contains("do not count as downtime");
    }

    @Test
    void theSameStatementInTwoDocumentsIsQuotedOnce() {
        String tenant = "near-duplicates";
        ingest(tenant, "handbook", "# Handbook\n\n## Leave\n\nEvery employee gets 28 days of paid leave per year. Leave requests go to your manager.\n");
        ingest(tenant, "faq", "# FAQ\n\n## Holidays\n\nEmployees get 28 days of paid leave per year. Public holidays come on top.\n");
        Answer a = ask(tenant, "How many days of paid leave do employees get?");
        assertThat(a.answered()).isTrue();
        Matcher m = Pattern.compile("28 days").matcher(a.text());
        int quoted = 0;
        while (m.find()) quoted++;
        assertThat(quoted).as(a.text()).isEqualTo(1);
    }

    @Test
    void aHowLongQuestionIsAnsweredWithTheSentenceThatStatesADuration() {
        String tenant = "quantities";
        ingest(tenant, "exports", "# Exports\n\n## Download links\n\nAn export's download link stays valid while the export exists, "
                + "and anyone with the link can download it. Links expire after 7 days.\n");
        Answer a = ask(tenant, "How long does an export's download link stay valid?");
        assertThat(a.answered()).isTrue();
        assertThat(a.text()).contains("Links expire after 7 days.");
    }

    /** Into a tenant of its own: the shared sample corpus's default tenant stays as the golden-set tests expect it. */
    private static void ingest(String tenant, String id, String markdown) {
        Keel keel = SampleCorpus.keel();
        keel.ingestor().ingest(tenant, new SourceDocument(id, "api:" + id, id + ".md", DocumentFormat.MARKDOWN,
                markdown.getBytes(StandardCharsets.UTF_8), 0, Map.of(), null), keel.traces().start("ingest", tenant));
    }
}
