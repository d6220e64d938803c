package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.ModelConfig.Tier;
import dev.keel.config.RouterConfig;
import org.junit.jupiter.api.Test;

/** Sticky tiers belong to a session of one key of a tenant and only ever rise. */
class SessionTiersTest {
    private final SessionTiers sessions = new SessionTiers(RouterConfig.DEFAULTS);

    @Test
    void aSessionIdNamesASessionOfTheCallersTenantOnly() {
        sessions.raise("acme", "key-1", "s1", Tier.LARGE);
        assertThat(sessions.tier("acme", "key-1", "s1")).contains(Tier.LARGE);
        assertThat(sessions.tier("globex", "key-1", "s1")).isEmpty();
        assertThat(sessions.tier("acme", "key-1", "s2")).isEmpty();
    }

    @Test
    void anotherKeyOfTheSameTenantNeitherReadsNorPinsTheSession() {
        sessions.raise("acme", "key-1", "s1", Tier.LARGE);
        assertThat(sessions.tier("acme", "key-2", "s1")).isEmpty();
        assertThat(sessions.tier("acme", null, "s1")).as("nor open local use").isEmpty();
        sessions.raise("acme", "key-2", "s2", Tier.LARGE);
        assertThat(sessions.tier("acme", "key-1", "s2")).isEmpty();
    }

    @Test
    void aSessionKeepsItsHighestTier() {
        sessions.raise("acme", "key-1", "s1", Tier.LARGE);
        sessions.raise("acme", "key-1", "s1", Tier.MEDIUM);
        assertThat(sessions.tier("acme", "key-1", "s1")).contains(Tier.LARGE);
    }

    @Test
    void anotherTenantsFloodOfSessionsNeverEvictsThisTenants() {
        SessionTiers small = new SessionTiers(new RouterConfig(true, false, RouterConfig.DEFAULTS.sessionTtl(), 2));
        small.raise("acme", "key-1", "kept", Tier.MEDIUM);
        for (int i = 0; i < 10_000; i++) small.raise("attacker", "key-1", "s" + i, Tier.LARGE);
        assertThat(small.tier("acme", "key-1", "kept")).contains(Tier.MEDIUM);
    }

    @Test
    void noSessionIdMeansNothingIsKept() {
        sessions.raise("acme", "key-1", null, Tier.LARGE);
        assertThat(sessions.tier("acme", "key-1", null)).isEmpty();
    }
}
