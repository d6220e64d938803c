package dev.keel.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FusionTest {
    private static Fusion.Scored s(int doc, float score) {
        return new Fusion.Scored(doc, score);
    }

    @Test
    void rrfSumsReciprocalRanksFromBothLists() {
        List<Fusion.Fused> fused = Fusion.rrf(List.of(s(1, 9), s(2, 5)), List.of(s(2, 0.9f), s(3, 0.8f)), 60);
        assertThat(fused.get(0).doc()).isEqualTo(2);
        assertThat(fused.get(0).score()).isCloseTo(1.0 / 62 + 1.0 / 61, within(1e-12));
        assertThat(fused.get(0).bm25Rank()).isEqualTo(2);
        assertThat(fused.get(0).vectorRank()).isEqualTo(1);
        assertThat(fused).extracting(Fusion.Fused::doc).containsExactly(2, 1, 3);
    }

    @Test
    void weightedFusionNormalisesEachSideToZeroOne() {
        List<Fusion.Fused> fused = Fusion.weighted(List.of(s(1, 10), s(2, 0)), List.of(s(2, 1.0f), s(1, 0.5f)), 0.5);
        Map<Integer, Double> scores = Map.of(fused.get(0).doc(), fused.get(0).score(), fused.get(1).doc(), fused.get(1).score());
        assertThat(scores.get(1)).isCloseTo(0.5 * 0 + 0.5 * 1, within(1e-9));
        assertThat(scores.get(2)).isCloseTo(0.5 * 1 + 0.5 * 0, within(1e-9));
    }
}
