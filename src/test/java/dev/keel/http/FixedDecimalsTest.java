package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The cost and overhead headers' numbers: {@link ChatRoutes#fixed} writes what {@code String.format("%.Nf")} does. */
class FixedDecimalsTest {
    @Test
    void writesWhatFormatWritesForCostsDurationsAndEdges() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 1_000_000; i++) {
            double value = switch (i % 8) {
                case 0 -> random.nextDouble() * 1e-3;
                case 1 -> random.nextDouble() * 10;
                case 2 -> Math.round(random.nextDouble() * 1e9) / 1e9;
                case 3 -> random.nextInt(100_000) * 1e-9;
                case 4 -> random.nextInt(10_000) / 2e4;
                case 5 -> -random.nextDouble() * 5;
                case 6 -> Math.scalb(random.nextDouble(), random.nextInt(-60, 40));
                default -> random.nextInt(1000) * 0.0005 + random.nextInt(3) * 1e-12;
            };
            for (int decimals : new int[] {3, 8}) {
                assertThat(ChatRoutes.fixed(value, decimals)).as("%s to %d decimals", value, decimals)
                        .isEqualTo(String.format(Locale.ROOT, "%." + decimals + "f", value).replaceFirst("^-(0\\.0*)$", "$1"));
            }
        }
        for (double edge : new double[] {0, -0.0, 0.0005, 0.0015, 0.00049999, 9.9995, 0.000000005, 0.000000004999, 1e-20, 123456789.123456789, 9.2e10, 1e300,
                Double.MIN_VALUE, Double.MAX_VALUE, -0.0004}) {
            assertThat(ChatRoutes.fixed(edge, 3)).as("%s", edge).isEqualTo(ChatRoutes.fixedExactly(edge, 3));
            assertThat(ChatRoutes.fixed(edge, 8)).as("%s", edge).isEqualTo(ChatRoutes.fixedExactly(edge, 8));
        }
        assertThat(ChatRoutes.fixed(Double.NaN, 3)).isEqualTo("NaN");
    }
}
