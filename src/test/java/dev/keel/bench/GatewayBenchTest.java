package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** How {@code bench gateway} reads a pair of runs: added latency per percentile, and whether Keel's own header agrees with it. */
class GatewayBenchTest {
    private static GatewayBench.Stats stats(double p50, double p90, double p99, double headerP50) {
        return new GatewayBench.Stats(p50, p99, 1, 1000, Map.of(), headerP50, headerP50, 0, p90, 0);
    }

    @Test
    void addedLatencyIsKeelsPercentileLessDirectsAtEachPercentile() {
        GatewayBench.RateResult r = new GatewayBench.RateResult(0, stats(0.10, 0.20, 0.50, 0), stats(0.30, 0.45, 1.50, 0.15));
        assertThat(r.addedP50Ms()).isCloseTo(0.20, offset(1e-9));
        assertThat(r.addedP90Ms()).isCloseTo(0.25, offset(1e-9));
        assertThat(r.addedP99Ms()).isCloseTo(1.00, offset(1e-9));
    }

    @Test
    void theHeaderAgreesWhenItsP50IsWithinATenthOfAMillisecondOfTheAddedP50() {
        assertThat(new GatewayBench.RateResult(0, stats(0.10, 0, 0, 0), stats(0.30, 0, 0, 0.15)).headerAgrees()).isTrue();
        assertThat(new GatewayBench.RateResult(0, stats(0.10, 0, 0, 0), stats(0.30, 0, 0, 0.25)).headerAgrees()).isTrue();
    }

    @Test
    void theHeaderDisagreesWhenItMissesTheAddedP50ByMoreThanATenthOfAMillisecond() {
        GatewayBench.RateResult under = new GatewayBench.RateResult(0, stats(0.10, 0, 0, 0), stats(0.30, 0, 0, 0.015));
        assertThat(under.headerMinusAddedP50Ms()).isCloseTo(-0.185, offset(1e-9));
        assertThat(under.headerAgrees()).isFalse();
        assertThat(new GatewayBench.RateResult(0, stats(0.10, 0, 0, 0), stats(0.30, 0, 0, 0.35)).headerAgrees()).isFalse();
    }
}
