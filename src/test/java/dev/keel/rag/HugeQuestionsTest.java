package dev.keel.rag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchMode;
import dev.keel.provider.DocumentAnswerer;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Questions far past Lucene's 1,024-clause limit — thousands of distinct words, or a few words
 * repeated thousands of times — are answered normally by search, the answer engine and the
 * extractive chat model's answerer, each of which sends them to the index whole.
 */
class HugeQuestionsTest {
    private final Keel keel = SampleCorpus.keel();

    /** 2,000 distinct words: the sample corpus's vocabulary about refunds, then seeded random letters. */
    private static String twoThousandDistinctWords() {
        Random r = new Random(42);
        String random = IntStream.range(0, 1_990).mapToObj(i -> {
            StringBuilder w = new StringBuilder("q");
            for (int c = 0; c < 6; c++) w.append((char) ('a' + r.nextInt(26)));
            return w.toString();
        }).collect(Collectors.joining(" "));
        return "refund policy annual plan cancel invoice billing webhook retry secret " + random;
    }

    private static final List<String> HUGE = List.of(twoThousandDistinctWords(), "refund annual plan ".repeat(1_500));

    @Test
    void searchReturnsHitsInEveryMode() {
        for (String q : HUGE) {
            for (SearchMode mode : SearchMode.values()) {
                assertThat(keel.answers().search(Keel.DEFAULT_TENANT, q, mode, 5, keel.answers().searchSettings(), SearchFilters.NONE, true,
                        keel.traces().start("search", Keel.DEFAULT_TENANT)).hits()).as(mode.name()).isNotEmpty();
            }
        }
    }

    @Test
    void theAnswerEngineAnswersOrSaysTheDocumentsDoNot() {
        for (String q : HUGE) {
            Answer a = keel.answers().answer(new AnswerRequest(Keel.DEFAULT_TENANT, q, SearchFilters.NONE),
                    keel.traces().start("answer", Keel.DEFAULT_TENANT));
            assertThat(a.sources()).isNotEmpty();
            assertThat(a.text()).isNotBlank();
        }
    }

    @Test
    void theExtractiveChatModelsAnswererAnswersOrSaysTheDocumentsDoNot() {
        DocumentAnswerer answerer = keel.answers().asDocumentAnswerer(keel.traces());
        for (String q : HUGE) assertThat(answerer.answer(Keel.DEFAULT_TENANT, q).text()).isNotBlank();
    }
}
