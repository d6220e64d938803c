package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.ModelConfig.Tier;
import dev.keel.config.RouterConfig;
import org.junit.jupiter.api.Test;

/** Sticky tiers belong to a tenant's session and only ever rise. */
class SessionTiersTest {
    private final SessionTiers sessions = new SessionTiers(RouterConfig.DEFAULTS);

    @Test
    void aSessionIdNamesASessionOfTheCallersTenantOnly() {
        sessions.raise("acme", "s1", Tier.LARGE);
        assertThat(sessions.tier("acme", "s1")).contains(Tier.LARGE);
        assertThat(sessions.tier("globex", "s1")).isEmpty();
        assertThat(sessions.tier("acme", "s2")).isEmpty();
    }

    @Test
    void aSessionKeepsItsHighestTier() {
        sessions.raise("acme", "s1", Tier.LARGE);
        sessions.raise("acme", "s1", Tier.MEDIUM);
        assertThat(sessions.tier("acme", "s1")).contains(Tier.LARGE);
    }

    @Test
    void anotherTenantsFloodOfSessionsNeverEvictsThisTenants() {
        SessionTiers small = new SessionTiers(new RouterConfig(true, RouterConfig.DEFAULTS.sessionTtl(), 2));
        small.raise("acme", "kept", Tier.MEDIUM);
        for (int i = 0; i < 10_000; i++) small.raise("attacker", "s" + i, Tier.LARGE);
        assertThat(small.tier("acme", "kept")).contains(Tier.MEDIUM);
    }

    @Test
    void noSessionIdMeansNothingIsKept() {
        sessions.raise("acme", null, Tier.LARGE);
        assertThat(sessions.tier("acme", null)).isEmpty();
    }
}
