package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@code guard.cache}: on by default with a bound, switched off or resized in the file, and a bound below one refused by name. */
class GuardCacheConfigTest {
    private static GuardConfig guard(String yaml) {
        return KeelConfig.parse("guard:\n" + yaml.indent(2), k -> null).guard();
    }

    @Test
    void theMemoryOfFindingsIsOnAndBoundedByDefault() {
        GuardConfig.Cache cache = guard("enabled: true").cache();

        assertThat(cache.enabled()).isTrue();
        assertThat(cache.maxEntries()).isEqualTo(GuardConfig.DEFAULTS.cache().maxEntries()).isPositive();
    }

    @Test
    void theExampleFileStatesTheDefaults() {
        assertThat(KeelConfig.load(java.nio.file.Path.of("keel.example.yaml")).guard().cache()).isEqualTo(GuardConfig.DEFAULTS.cache());
    }

    @Test
    void theFileSwitchesTheMemoryOffOrSetsItsBound() {
        assertThat(guard("cache: {enabled: false}").cache().enabled()).isFalse();
        assertThat(guard("cache: {max_entries: 500}").cache().maxEntries()).isEqualTo(500);
    }

    @Test
    void aBoundBelowOneIsRefusedNamingTheField() {
        assertThatThrownBy(() -> guard("cache: {max_entries: 0}")).isInstanceOf(ConfigException.class).hasMessageContaining("guard.cache.max_entries");
    }

    @Test
    void aPolicyKeepsTheGlobalMemorySettings() {
        GuardConfig g = guard("""
                cache: {max_entries: 500}
                policies:
                  support: {profile: trusted}""");

        assertThat(g.under(g.policy("support").orElseThrow()).cache()).isEqualTo(g.cache());
    }
}
