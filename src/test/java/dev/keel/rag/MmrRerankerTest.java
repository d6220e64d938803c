package dev.keel.rag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchHit;
import java.util.List;
import org.junit.jupiter.api.Test;

class MmrRerankerTest {
    static SearchHit hit(String tenant, String docId, float[] vector) {
        return new SearchHit(new ChunkRecord(tenant, docId, "v1", 0, docId + ".md", "Title " + docId, List.of("Section"), "Body of " + docId, null,
                "m", 0, vector), 1.0, 1, 1.0, 1, 1.0);
    }

    private static List<Integer> picked(double lambda, List<SearchHit> candidates, int k) {
        return new MmrReranker(lambda).rerank("q", candidates, k).stream().map(Reranker.Ranked::index).toList();
    }

    @Test
    void skipsANearDuplicateOfAnAlreadyPickedResult() {
        List<SearchHit> candidates = List.of(hit("t", "a", new float[] {1, 0}), hit("t", "a-copy", new float[] {1, 0}), hit("t", "b", new float[] {0, 1}));
        assertThat(picked(0.5, candidates, 2)).containsExactly(0, 2);
    }

    @Test
    void lambdaOneKeepsTheFusedOrder() {
        List<SearchHit> candidates = List.of(hit("t", "a", new float[] {1, 0}), hit("t", "a-copy", new float[] {1, 0}), hit("t", "b", new float[] {0, 1}));
        assertThat(picked(1.0, candidates, 3)).containsExactly(0, 1, 2);
    }

    @Test
    void aCandidateWithoutAVectorIsNeverRedundant() {
        List<SearchHit> candidates = List.of(hit("t", "a", new float[] {1, 0}), hit("t", "unknown", null), hit("t", "a-copy", new float[] {1, 0}));
        assertThat(picked(0.5, candidates, 3)).containsExactly(0, 1, 2);
    }

    @Test
    void returnsAtMostTheCandidatesItWasGiven() {
        assertThat(picked(0.5, List.of(hit("t", "a", new float[] {1, 0})), 10)).containsExactly(0);
        assertThat(picked(0.5, List.of(), 10)).isEmpty();
    }
}
