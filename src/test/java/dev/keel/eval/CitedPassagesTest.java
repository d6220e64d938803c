package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchHit;
import dev.keel.rag.Answer;
import dev.keel.rag.Citation;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The judge reads marker [n] against the chunk citation n names, whatever the order the answerer ranked its sources in. */
class CitedPassagesTest {
    private static SearchHit hit(String doc, int ordinal, String body) {
        return new SearchHit(new ChunkRecord("t", doc, "v", ordinal, doc + ".md", doc, List.of(), body, null, "m", 0, null), 1, 1, 1, 1, 1);
    }

    @Test
    void passageNIsTheChunkCitationNNamesEvenWhenTheAnswerCitedALowerRankedSourceFirst() {
        SearchHit first = hit("a", 0, "ranked first"), second = hit("b", 3, "ranked second"), third = hit("c", 1, "ranked third");
        Answer a = new Answer("Second [1]. First [2].", true, List.of(new Citation(1, "b", "b.md", "b", "", 3), new Citation(2, "a", "a.md", "a", "", 0)),
                List.of(first, second, third), 1, "trace");
        assertThat(EvalRunner.passages(a)).extracting(Judge.Passage::text).containsExactly("ranked second", "ranked first", "ranked third");
    }

    @Test
    void withoutCitationsThePassagesKeepTheRankOrder() {
        SearchHit first = hit("a", 0, "one"), second = hit("b", 0, "two");
        Answer a = new Answer("I don't know.", false, List.of(), List.of(first, second), 0, "trace");
        assertThat(EvalRunner.passages(a)).extracting(Judge.Passage::text).containsExactly("one", "two");
    }
}
