package dev.keel.provider;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When an upstream's answer reached Keel, for the upstream's own time: the client selector's sighting, if it is this answer's. */
class SightingClientConnectorTest {
    private static final long COMMITTED = 1_000_000, NOW = 1_500_000;

    @Test
    void anAnswerArrivesWhenTheSelectorSawItsBytes() {
        assertThat(SightingClientConnector.arrival(1_400_000, COMMITTED, NOW)).isEqualTo(1_400_000);
    }

    @Test
    void aSightingBeforeTheRequestWasWrittenIsAnEarlierAnswersAndIsNotUsed() {
        assertThat(SightingClientConnector.arrival(900_000, COMMITTED, NOW)).isEqualTo(NOW);
    }

    @Test
    void withoutASightingOrAWrittenRequestTheParseCounts() {
        assertThat(SightingClientConnector.arrival(0, COMMITTED, NOW)).isEqualTo(NOW);
        assertThat(SightingClientConnector.arrival(1_400_000, 0, NOW)).as("the request's commit not noted yet").isEqualTo(NOW);
        assertThat(SightingClientConnector.arrival(1_600_000, COMMITTED, NOW)).isEqualTo(NOW);
    }

    @Test
    void theClockMayBeNegative() {
        assertThat(SightingClientConnector.arrival(-400_000, -1_000_000, -100_000)).isEqualTo(-400_000);
    }
}
