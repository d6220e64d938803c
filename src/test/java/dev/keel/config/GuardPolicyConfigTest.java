package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.GuardConfig.Action;
import dev.keel.config.GuardConfig.Profile;
import org.junit.jupiter.api.Test;

/** {@code guard.policies} and the two forms of {@code guard.tenants}: what a field left out falls back to, and errors that name the field. */
class GuardPolicyConfigTest {
    private static GuardConfig guard(String yaml) {
        return KeelConfig.parse("guard:\n" + yaml.indent(2), k -> null).guard();
    }

    @Test
    void aPolicyTakesEveryFieldItLeavesOutFromTheGlobalSettings() {
        GuardConfig g = guard("""
                pii: {EMAIL_ADDRESS: block, PHONE_NUMBER: block}
                output: {grounding: block}
                policies:
                  support: {pii: {EMAIL_ADDRESS: allow}, indirect: {policy: exclude}}""");

        GuardPolicy support = g.policy("support").orElseThrow();

        assertThat(support.pii()).containsEntry("EMAIL_ADDRESS", Action.ALLOW).containsEntry("PHONE_NUMBER", Action.BLOCK);
        assertThat(support.outputPii()).isEqualTo(g.output().pii());
        assertThat(support.grounding()).isEqualTo(GuardConfig.GroundingAction.BLOCK);
        assertThat(support.indirect()).isEqualTo(GuardConfig.IndirectPolicy.EXCLUDE);
        assertThat(support.profile()).isEqualTo(Profile.STRICT);
        assertThat(support.topics()).isEqualTo(g.topics());
    }

    @Test
    void aTenantWrittenAsABareProfileKeepsTheGlobalSettingsWithThatProfile() {
        GuardConfig g = guard("""
                pii: {EMAIL_ADDRESS: block}
                tenants: {acme: trusted}""");

        GuardPolicy acme = g.policyOf("acme");

        assertThat(acme.profile()).isEqualTo(Profile.TRUSTED);
        assertThat(acme.pii()).isEqualTo(g.pii());
        assertThat(acme.name()).isEqualTo("tenant:acme");
    }

    @Test
    void aTenantMappingOverridesTheFieldsItNamesOverThePolicyItNames() {
        GuardConfig g = guard("""
                policies:
                  careful: {profile: strict, pii: {EMAIL_ADDRESS: block}, output: {grounding: block}}
                tenants:
                  acme: {policy: careful, output: {grounding: pass}}
                  globex: {policy: careful}""");

        assertThat(g.policyOf("acme").grounding()).isEqualTo(GuardConfig.GroundingAction.PASS);
        assertThat(g.policyOf("acme").pii()).containsEntry("EMAIL_ADDRESS", Action.BLOCK);
        assertThat(g.policyOf("globex")).as("a mapping that only names a policy is that policy").isSameAs(g.policy("careful").orElseThrow());
    }

    @Test
    void aTenantNotListedGetsTheGlobalPolicy() {
        GuardConfig g = guard("tenants: {acme: {pii: {EMAIL_ADDRESS: allow}}}");

        assertThat(g.policyOf("initech")).isSameAs(g.policy(GuardConfig.DEFAULT_POLICY).orElseThrow());
        assertThat(g.policyOf("initech").pii()).containsEntry("EMAIL_ADDRESS", Action.REDACT);
    }

    @Test
    void aTenantNamingAnUnknownPolicyIsAConfigErrorNamingTheField() {
        assertThatThrownBy(() -> guard("tenants: {acme: {policy: lenientt}}"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("guard.tenants.acme.policy").hasMessageContaining("lenientt");
    }

    @Test
    void aMisspeltFieldInAPolicyIsAConfigErrorNamingIt() {
        assertThatThrownBy(() -> guard("policies: {support: {pi: {EMAIL_ADDRESS: allow}}}"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("guard.policies.support.pi");
        assertThatThrownBy(() -> guard("policies: {support: {pii: {EMAIL: allow}}}"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("guard.policies.support.pii.EMAIL");
        assertThatThrownBy(() -> guard("tenants: {acme: {output: {grounding: maybe}}}"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("guard.tenants.acme.output.grounding");
    }

    @Test
    void aPolicyMayNotTakeTheGlobalPolicysNameOrAColon() {
        assertThatThrownBy(() -> guard("policies: {default: {profile: trusted}}"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("guard.policies.default");
        assertThatThrownBy(() -> guard("policies: {\"tenant:acme\": {profile: trusted}}"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("guard.policies.tenant:acme");
    }

    @Test
    void aPolicysTopicListReplacesTheGlobalOneAndItsThresholdFallsBack() {
        GuardConfig g = guard("""
                topics: {allow: [{name: billing, description: invoices and refunds}], threshold: 0.6}
                tenants:
                  acme: {topics: {allow: [{name: shipping, description: parcels and delivery}]}}
                  globex: {topics: {allow: []}}""");

        assertThat(g.policyOf("acme").topics().allow()).extracting(GuardConfig.Topic::name).containsExactly("shipping");
        assertThat(g.policyOf("acme").topics().threshold()).isEqualTo(0.6);
        assertThat(g.policyOf("globex").topics().allow()).as("an empty list lifts the scope for that tenant").isEmpty();
    }

    @Test
    void aPolicysFingerprintIsItsSettingsSoARenamedOrChangedPolicyGetsAnotherAndTheSameSettingsTheSame() {
        GuardPolicy lenient = guard("policies: {lenient: {pii: {EMAIL_ADDRESS: allow, PHONE_NUMBER: allow}, output: {canary: false}}}").policies().get("lenient");
        GuardPolicy reordered = guard("policies: {lenient: {output: {canary: false}, pii: {PHONE_NUMBER: allow, EMAIL_ADDRESS: allow}}}").policies().get("lenient");
        GuardPolicy tightened = guard("policies: {lenient: {pii: {EMAIL_ADDRESS: allow, PHONE_NUMBER: allow}}}").policies().get("lenient");

        assertThat(lenient.fingerprint()).isEqualTo(reordered.fingerprint());
        assertThat(lenient.fingerprint()).isNotEqualTo(tightened.fingerprint());
    }
}
