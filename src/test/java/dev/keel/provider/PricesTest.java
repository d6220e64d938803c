package dev.keel.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.keel.config.ModelConfig;
import dev.keel.model.Usage;
import org.junit.jupiter.api.Test;

class PricesTest {
    private final Prices prices = Prices.builtIn();

    @Test
    void configuredPriceBillsInputOutputAndCachedTokensSeparately() {
        ModelConfig.Target t = new ModelConfig.Target("p", "custom", 2.0, 8.0, 0.5, null);
        Prices.Cost c = prices.cost(t, new Usage(1_000, 500, 400, false));
        assertThat(c.priceKnown()).isTrue();
        assertThat(c.usd()).isCloseTo((600 * 2.0 + 400 * 0.5 + 500 * 8.0) / 1e6, within(1e-12));
    }

    @Test
    void builtInTableMatchesTheLongestPrefixOfDatedModelIds() {
        Prices.Price p = prices.priceOf(new ModelConfig.Target("openai", "gpt-4o-mini-2024-07-18"));
        assertThat(p.input()).isEqualTo(0.15);
        assertThat(prices.priceOf(new ModelConfig.Target("openai", "gpt-4o-2024-11-20")).input()).isEqualTo(2.50);
    }

    @Test
    void outputLimitsComeFromTheTargetElseTheTableElseAreUnknown() {
        assertThat(prices.outputLimit(new ModelConfig.Target("openai", "gpt-4o-mini-2024-07-18"))).hasValue(16_384);
        assertThat(prices.outputLimit(new ModelConfig.Target("p", "gpt-4o-mini", null, null, null, 512))).hasValue(512);
        assertThat(prices.outputLimit(new ModelConfig.Target("local", "my-finetune"))).isEmpty();
    }

    @Test
    void unknownModelsCostNothingAndAreFlagged() {
        Prices.Cost c = prices.cost(new ModelConfig.Target("local", "my-finetune"), new Usage(100, 100, 0, false));
        assertThat(c.usd()).isZero();
        assertThat(c.priceKnown()).isFalse();
    }
}
