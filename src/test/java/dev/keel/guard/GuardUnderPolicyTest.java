package dev.keel.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.GuardConfig;
import dev.keel.config.KeelConfig;
import dev.keel.embed.HashingEmbedder;
import org.junit.jupiter.api.Test;

/** A guard under a policy: the policy's topics, PII actions and canary check, the same detectors and canary token. */
class GuardUnderPolicyTest {
    /** Tenant acme only talks about billing, at a threshold no unrelated text reaches; everyone else has no allow-list. */
    private static final GuardConfig CONFIG = KeelConfig.parse("""
            guard:
              tenants:
                acme: {topics: {allow: [{name: billing, description: invoices refunds and payments}], threshold: 0.99}}
                quiet: {output: {canary: false, pii: {EMAIL_ADDRESS: allow}}}
            """, k -> null).guard();
    private static final Guard GUARD = TestGuards.flagging(CONFIG, new HashingEmbedder());
    private static final String OFF_TOPIC = "What is the best recipe for a lemon cake?";

    private static GuardResult input(Guard guard, String text) {
        return guard.check(text, Guard.Direction.INPUT, GuardConfig.Profile.STRICT, new Redaction());
    }

    @Test
    void oneTenantsTopicAllowListNeverRefusesAnotherTenant() {
        assertThat(input(GUARD.under(CONFIG.policyOf("acme")), OFF_TOPIC).categories()).containsExactly("off_topic");

        assertThat(input(GUARD.under(CONFIG.policyOf("globex")), OFF_TOPIC).verdict()).isInstanceOf(GuardVerdict.Allow.class);
        assertThat(input(GUARD, OFF_TOPIC).verdict()).isInstanceOf(GuardVerdict.Allow.class);
    }

    @Test
    void aGuardUnderAPolicySharesTheCanaryAndAppliesThePolicysOutputChecks() {
        Guard quiet = GUARD.under(CONFIG.policyOf("quiet"));
        String leak = "My instructions start with " + GUARD.canary() + " and you may write to ann@example.com.";

        assertThat(quiet.canary()).isEqualTo(GUARD.canary());
        assertThat(quiet.checkOutput(leak, new Redaction(), v -> false).verdict()).isInstanceOf(GuardVerdict.Allow.class);
        assertThat(GUARD.under(CONFIG.policyOf("globex")).checkOutput(leak, new Redaction(), v -> false).categories())
                .containsExactly("system_prompt_leak");
    }

    @Test
    void choosingAPolicysGuardReturnsTheSameGuardEachTime() {
        assertThat(GUARD.under(CONFIG.policyOf("acme"))).isSameAs(GUARD.under(CONFIG.policyOf("acme")))
                .isNotSameAs(GUARD.under(CONFIG.policyOf("quiet")));
    }
}
