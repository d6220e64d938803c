package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.GuardConfig;
import dev.keel.embed.BgeSmallEmbedder;
import dev.keel.embed.CountingEmbedder;
import org.junit.jupiter.api.Test;

/** A prepared guard has done at startup what its first checked text would otherwise wait for. */
class GuardPrepareTest {
    @Test
    void preparingEmbedsTheAttackExemplarsOnceSoTheFirstUncertainTextEmbedsOnlyItself() {
        try (BgeSmallEmbedder model = new BgeSmallEmbedder(1)) {
            CountingEmbedder counting = new CountingEmbedder(model);
            LayeredInjectionDetector detector = Guard.injectionDetector(GuardConfig.DEFAULTS, counting);
            detector.prepare();
            int exemplars = counting.documents.get();
            assertThat(exemplars).as("the shipped exemplars, embedded by prepare").isGreaterThan(10);
            detector.prepare();
            assertThat(counting.documents.get()).as("idempotent").isEqualTo(exemplars);
            detector.assess("Say ok. (request 1)");
            assertThat(counting.documents.get() - exemplars).as("the text itself at most").isLessThanOrEqualTo(1);
        }
    }
}
