package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RetrievalMetricsTest {
    private final Map<String, Integer> judged = Map.of("a", 3, "b", 1, "c", 0);

    @Test
    void ndcgUsesLinearGainsAndTheIdealOrdering() {
        assertThat(RetrievalMetrics.ndcg(List.of("a", "b"), judged, 10)).isCloseTo(1.0, within(1e-12));
        double dcg = 1 / (Math.log(3) / Math.log(2)) + 3 / (Math.log(4) / Math.log(2));
        double idcg = 3 + 1 / (Math.log(3) / Math.log(2));
        assertThat(RetrievalMetrics.ndcg(List.of("x", "b", "a"), judged, 10)).isCloseTo(dcg / idcg, within(1e-12));
    }

    @Test
    void recallCountsOnlyPositiveJudgementsWithinTheCutoff() {
        assertThat(RetrievalMetrics.recall(List.of("c", "a", "x"), judged, 10)).isEqualTo(0.5);
        assertThat(RetrievalMetrics.recall(List.of("x", "a"), judged, 1)).isEqualTo(0.0);
    }

    @Test
    void reciprocalRankOfTheFirstRelevantDocument() {
        assertThat(RetrievalMetrics.reciprocalRank(List.of("c", "x", "b"), judged, 10)).isCloseTo(1.0 / 3, within(1e-12));
        assertThat(RetrievalMetrics.reciprocalRank(List.of("c"), judged, 10)).isZero();
    }
}
