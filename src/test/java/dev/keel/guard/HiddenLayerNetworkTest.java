package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HiddenLayerNetworkTest {
    private static final HiddenLayerNetwork.Settings SETTINGS = new HiddenLayerNetwork.Settings(8, 200, 0.1, 1e-5);
    private static final float[][] CORNERS = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    private static final int[] XOR = {0, 1, 1, 0};

    private static HiddenLayerNetwork fitXor(long seed) {
        List<float[]> xs = new ArrayList<>();
        List<Integer> ys = new ArrayList<>();
        for (int repeat = 0; repeat < 25; repeat++) {
            for (int i = 0; i < CORNERS.length; i++) {
                xs.add(CORNERS[i]);
                ys.add(XOR[i]);
            }
        }
        return HiddenLayerNetwork.fit(xs, ys, SETTINGS, seed);
    }

    @Test
    void itSeparatesClassesNoStraightLineCanSeparate() {
        HiddenLayerNetwork network = fitXor(7);

        for (int i = 0; i < CORNERS.length; i++) {
            assertThat(network.probability(CORNERS[i])).as("corner %d", i).isCloseTo(XOR[i], org.assertj.core.data.Offset.offset(0.3));
        }
    }

    @Test
    void theSameSeedGivesTheSameWeightsAndAnotherSeedOthers() {
        assertThat(fitXor(7).hidden()).isEqualTo(fitXor(7).hidden());
        assertThat(fitXor(7).hidden()).isNotEqualTo(fitXor(8).hidden());
    }
}
