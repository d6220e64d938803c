package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class StatisticsTest {
    @Test
    void welchTestMatchesAReferenceComputation() {
        // scipy.stats.ttest_ind(a, b, equal_var=False): t = -2.4554, df = 24.99, p = 0.021378
        double[] a = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
        double[] b = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
        assertThat(Statistics.welchP(a, b)).isCloseTo(0.021378, within(0.0001));
    }

    @Test
    void studentTailsMatchTables() {
        assertThat(Statistics.studentTwoSidedP(2.228, 10)).isCloseTo(0.05, within(0.0005));
        assertThat(Statistics.studentTwoSidedP(1.96, 1e6)).isCloseTo(0.05, within(0.0005));
        assertThat(Statistics.studentTwoSidedP(0, 5)).isCloseTo(1.0, within(1e-9));
    }

    @Test
    void bootstrapIntervalCoversTheMeanAndIsReproducibleForASeed() {
        double[] v = new double[50];
        for (int i = 0; i < v.length; i++) v[i] = i % 5 == 0 ? 0 : 1;
        Statistics.Interval one = Statistics.bootstrapMean(v, 7), two = Statistics.bootstrapMean(v, 7);
        assertThat(one).isEqualTo(two);
        assertThat(one.mean()).isCloseTo(0.8, within(1e-12));
        assertThat(one.low()).isBetween(0.65, 0.8);
        assertThat(one.high()).isBetween(0.8, 0.95);
    }

    @Test
    void identicalPairedSamplesAreNeverSignificant() {
        double[] v = {0.2, 0.9, 0.4, 1, 0};
        assertThat(Statistics.pairedPermutationP(v, v, 3)).isEqualTo(1.0);
        Statistics.Interval d = Statistics.pairedDifference(v, v, 3);
        assertThat(d.low()).isZero();
        assertThat(d.high()).isZero();
    }

    @Test
    void aConsistentDropIsSignificant() {
        double[] base = new double[40], cand = new double[40];
        for (int i = 0; i < 40; i++) {
            base[i] = 0.8 + (i % 3) * 0.05;
            cand[i] = base[i] - 0.2 + (i % 2) * 0.02;
        }
        assertThat(Statistics.pairedPermutationP(base, cand, 1)).isLessThan(0.01);
        assertThat(Statistics.pairedDifference(base, cand, 1).high()).isLessThan(0);
    }
}
