package dev.keel.embed;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Keel's in-process model never lets DJL report the machine it runs on (Keel works offline). */
class DjlTrackingTest {
    @Test
    void theInProcessEmbedderTurnsDjlsUsageTrackingOffBeforeItLoadsItsTokenizer() {
        System.clearProperty(DjlTracking.OPT_OUT);
        try (BgeSmallEmbedder embedder = new BgeSmallEmbedder(1)) {
            assertThat(embedder.embedDocuments(java.util.List.of("hello"))).hasSize(1);
        }
        assertThat(ai.djl.util.Utils.getEnvOrSystemProperty(DjlTracking.OPT_OUT)).as("what DJL reads before it calls out").isEqualTo("true");
    }
}
