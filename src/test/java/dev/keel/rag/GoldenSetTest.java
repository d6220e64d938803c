package dev.keel.rag;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.index.SearchFilters;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sample corpus's golden questions: answers cite the right document, hold the facts, and refuse what the docs don't say. */
class GoldenSetTest {
    private static final List<Result> results = new ArrayList<>();

    record Result(JsonNode question, Answer answer) {
        boolean answerable() {
            return question.get("answerable").asBoolean();
        }

        boolean citesExpectedSource() {
            List<String> expected = new ArrayList<>();
            question.get("sources").forEach(s -> expected.add(s.asText()));
            return answer.citations().stream().anyMatch(c -> expected.stream().anyMatch(e -> c.source().endsWith("/" + e)));
        }

        boolean containsFacts() {
            for (JsonNode f : question.get("facts")) {
                if (!answer.text().toLowerCase(Locale.ROOT).contains(f.asText().toLowerCase(Locale.ROOT))) return false;
            }
            return true;
        }
    }

    @BeforeAll
    static void askEveryQuestion() throws Exception {
        Keel keel = SampleCorpus.keel();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(SampleCorpus.GOLDEN)) {
            JsonNode q = json.readTree(line);
            Answer a = keel.answers().answer(new AnswerRequest(Keel.DEFAULT_TENANT, q.get("question").asText(), SearchFilters.NONE),
                    keel.traces().start("golden", Keel.DEFAULT_TENANT));
            results.add(new Result(q, a));
        }
    }

    @Test
    void goldenSetHasFiftyQuestionsAndTenUnanswerable() {
        assertThat(results).hasSizeGreaterThanOrEqualTo(50);
        assertThat(results.stream().filter(r -> !r.answerable()).count()).isGreaterThanOrEqualTo(10);
    }

    @Test
    void answerableQuestionsAreAnsweredWithCitationsOfTheExpectedDocument() {
        List<Result> answerable = results.stream().filter(Result::answerable).toList();
        long answered = answerable.stream().filter(r -> r.answer().answered() && !r.answer().citations().isEmpty()).count();
        long rightSource = answerable.stream().filter(Result::citesExpectedSource).count();
        assertThat((double) answered / answerable.size()).as("answered rate").isGreaterThanOrEqualTo(0.9);
        assertThat((double) rightSource / answerable.size()).as("expected source cited").isGreaterThanOrEqualTo(0.9);
    }

    @Test
    void answersContainTheExpectedFacts() {
        List<Result> answerable = results.stream().filter(Result::answerable).toList();
        long withFacts = answerable.stream().filter(Result::containsFacts).count();
        assertThat((double) withFacts / answerable.size()).as("facts present").isGreaterThanOrEqualTo(0.75);
    }

    @Test
    void unanswerableQuestionsSayTheDocumentsDontAnswer() {
        List<Result> unanswerable = results.stream().filter(r -> !r.answerable()).toList();
        long refused = unanswerable.stream().filter(r -> !r.answer().answered()).count();
        assertThat((double) refused / unanswerable.size()).as("refusal rate").isGreaterThanOrEqualTo(0.75);
        unanswerable.stream().filter(r -> !r.answer().answered()).forEach(r -> {
            assertThat(r.answer().citations()).isEmpty();
            assertThat(r.answer().text()).isEqualTo(ExtractiveAnswerer.NO_ANSWER);
        });
    }

    @Test
    void citationMarkersInTheTextMatchTheCitationList() {
        for (Result r : results) {
            for (Citation c : r.answer().citations()) assertThat(r.answer().text()).contains("[" + c.n() + "]");
        }
    }
}
