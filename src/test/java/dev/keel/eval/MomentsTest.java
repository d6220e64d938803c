package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Count, sum and sum of squares carry what online evaluation's Welch test needs of the values they replace. */
class MomentsTest {
    private static final double[] A = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
    private static final double[] B = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};

    private static Moments of(double[] values, int from, int to) {
        Moments m = Moments.NONE;
        for (int i = from; i < to; i++) m = m.plus(Moments.of(values[i]));
        return m;
    }

    @Test
    void bucketsAddUpToTheWelchTestOfTheValues() {
        Moments a = of(A, 0, 7).plus(of(A, 7, A.length)), b = of(B, 0, 3).plus(of(B, 3, B.length));
        assertThat(Statistics.welchP(a.n(), a.mean(), a.variance(), b.n(), b.mean(), b.variance())).isCloseTo(Statistics.welchP(A, B), within(1e-9))
                .isCloseTo(0.021378, within(0.0001)); // scipy.stats.ttest_ind(a, b, equal_var=False)
    }

    @Test
    void identicalValuesHaveNoVarianceEvenAfterRounding() {
        Moments m = Moments.NONE;
        for (int i = 0; i < 1_000; i++) m = m.plus(Moments.of(4.2));
        assertThat(m.variance()).isZero();
        assertThat(m.mean()).isCloseTo(4.2, within(1e-9));
    }

    @Test
    void fewerThanTwoValuesTestNothing() {
        assertThat(Statistics.welchP(1, 2.0, 0, 50, 4.0, 1)).isEqualTo(1);
        assertThat(Moments.NONE.mean()).isNaN();
    }
}
