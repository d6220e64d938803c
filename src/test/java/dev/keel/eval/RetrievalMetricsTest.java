package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.keel.index.ChunkRecord;
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

    @Test
    void precisionIsTheRelevantShareOfTheFirstKAndOfFewerWhenFewerWereRetrieved() {
        assertThat(RetrievalMetrics.precision(List.of("a", "x", "b", "c"), judged, 4)).isEqualTo(0.5);
        assertThat(RetrievalMetrics.precision(List.of("a", "x", "b", "c"), judged, 2)).isEqualTo(0.5);
        assertThat(RetrievalMetrics.precision(List.of("a", "x"), judged, 10)).isEqualTo(0.5);
        assertThat(RetrievalMetrics.precision(List.of(), judged, 10)).isZero();
    }

    @Test
    void hitRateIsOneWhenAnyRelevantIdIsWithinTheCutoff() {
        assertThat(RetrievalMetrics.hitRate(List.of("x", "c", "b"), judged, 3)).isEqualTo(1.0);
        assertThat(RetrievalMetrics.hitRate(List.of("x", "c", "b"), judged, 2)).isZero();
    }

    @Test
    void contextPrecisionAveragesPrecisionAtEachRelevantBlockAsRagasDefinesIt() {
        // relevant at ranks 1 and 3: (1/1 + 2/3) / 2
        assertThat(RetrievalMetrics.contextPrecision(List.of(true, false, true))).isCloseTo((1 + 2.0 / 3) / 2, within(1e-12));
        // the same blocks ranked worse score lower: (1/2 + 2/3) / 2
        assertThat(RetrievalMetrics.contextPrecision(List.of(false, true, true))).isCloseTo((0.5 + 2.0 / 3) / 2, within(1e-12));
        assertThat(RetrievalMetrics.contextPrecision(List.of(false, false))).isZero();
        assertThat(RetrievalMetrics.contextPrecision(List.of())).isZero();
    }

    @Test
    void aRankingNamesChunksByTheEntryTheyMatchAndKeepsEachEntrysFirstRank() {
        List<ChunkRecord> chunks = List.of(chunk("d1", "docs/refunds.md", "Annual plans"), chunk("d2", "docs/billing.md", "Payment methods"),
                chunk("d1", "docs/refunds.md", "Monthly plans"), chunk("d3", "docs/faq.md", ""));
        List<String> ranking = RetrievalMetrics.ranking(chunks, List.of("refunds.md#Monthly plans", "refunds.md", "faq.md"));
        assertThat(ranking).hasSize(4);
        assertThat(ranking.get(0)).isEqualTo("refunds.md");
        assertThat(ranking.get(2)).isEqualTo("refunds.md#Monthly plans");
        assertThat(ranking.get(3)).isEqualTo("faq.md");
        assertThat(ranking.get(1)).as("a document no entry names is no entry").doesNotContain("billing.md#").isNotIn("refunds.md", "faq.md");
    }

    @Test
    void aDocumentNoEntryNamesNeverCountsAsRelevantEvenWhenAnEntryLooksLikeItsLabel() {
        List<String> ranking = RetrievalMetrics.ranking(List.of(chunk("x", "a.md", "")), List.of("doc:x"));
        assertThat(RetrievalMetrics.recall(ranking, Map.of("doc:x", 1), 10)).isZero();
    }

    private static ChunkRecord chunk(String docId, String source, String section) {
        return new ChunkRecord("t", docId, "v1", 0, source, "title", section.isEmpty() ? List.of() : List.of(section), "body", null, "m", 0, null);
    }
}
