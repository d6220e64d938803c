package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When a request arrived, for Keel's overhead header: the selector's sighting, if it is the request's own. */
class ArrivalEndPointTest {
    private static final long BEGIN = 1_000_000;

    @Test
    void aRequestArrivesWhenTheSelectorFirstSawItsBytes() {
        assertThat(ArrivalEndPoint.arrivalNanos(BEGIN - 40_000, 0, BEGIN)).isEqualTo(BEGIN - 40_000);
        assertThat(ArrivalEndPoint.arrivalNanos(BEGIN - 40_000, BEGIN - 90_000, BEGIN)).as("after the previous answer was written").isEqualTo(BEGIN - 40_000);
    }

    @Test
    void aSightingBeforeTheConnectionLastWroteIsThePreviousRequestsAndIsNotUsed() {
        assertThat(ArrivalEndPoint.arrivalNanos(BEGIN - 90_000, BEGIN - 40_000, BEGIN)).isEqualTo(BEGIN);
    }

    @Test
    void withoutASightingOrWithOneAfterParsingBeganTheParsesBeginningCounts() {
        assertThat(ArrivalEndPoint.arrivalNanos(0, 0, BEGIN)).isEqualTo(BEGIN);
        assertThat(ArrivalEndPoint.arrivalNanos(BEGIN + 5_000, BEGIN - 40_000, BEGIN)).isEqualTo(BEGIN);
    }

    @Test
    void theClockMayBeNegative() {
        long begin = -5_000_000;
        assertThat(ArrivalEndPoint.arrivalNanos(begin - 40_000, begin - 90_000, begin)).isEqualTo(begin - 40_000);
        assertThat(ArrivalEndPoint.arrivalNanos(begin - 90_000, begin - 40_000, begin)).isEqualTo(begin);
    }
}
