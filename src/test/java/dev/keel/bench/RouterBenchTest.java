package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintStream;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * The router benchmark's harness is sound: its mix has the advertised shares, every visible failure
 * of the fake tiers is caught and escalated (so auto passes as often as the large tier), and
 * without escalation some requests fail. Its cost figures are the benchmark's business, not asserted.
 */
class RouterBenchTest {
    @Test
    void escalationCatchesEveryVisibleFailureOfTheFakeTiers() throws Exception {
        RouterBench.Result r = RouterBench.run(100, 8, Files.createTempDirectory("keel-router-bench-"), new PrintStream(PrintStream.nullOutputStream()));
        assertThat(r.levels()).containsEntry(1, 70L).containsEntry(2, 25L).containsEntry(3, 5L);
        assertThat(r.allLarge().passRate()).isEqualTo(1.0);
        assertThat(r.routed().passRate()).isEqualTo(1.0);
        assertThat(r.routeOnly().passRate()).isLessThan(1.0);
        assertThat(r.routed().costUsd()).isLessThan(r.allLarge().costUsd());
        assertThat(r.routed().upstreamCalls()).isGreaterThanOrEqualTo(100 + r.routed().escalated());
    }
}
