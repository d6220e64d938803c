package dev.keel.provider;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How the upstream's own time in one exchange is read from the client's instants. */
class TimedExchangeTest {
    @Test
    void runsFromTheRequestsLastByteSentToTheLatestByteReceived() {
        assertThat(ProviderHttp.TimedExchange.upstreamNanos(100, 150, 1_150)).isEqualTo(1_000);
    }

    @Test
    void anAnswerSeenBeforeTheClientToldTheRequestWasSentCountsFromTheRequestsCommit() {
        assertThat(ProviderHttp.TimedExchange.upstreamNanos(100, 2_000, 1_150)).as("not 0: the upstream did take time").isEqualTo(1_050);
        assertThat(ProviderHttp.TimedExchange.upstreamNanos(100, 0, 1_150)).isEqualTo(1_050);
    }

    @Test
    void isZeroBeforeAnyAnswerOrWithoutAnyInstantOfTheRequest() {
        assertThat(ProviderHttp.TimedExchange.upstreamNanos(100, 150, 0)).isZero();
        assertThat(ProviderHttp.TimedExchange.upstreamNanos(0, 0, 1_150)).isZero();
    }
}
