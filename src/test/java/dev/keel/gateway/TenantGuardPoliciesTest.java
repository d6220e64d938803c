package dev.keel.gateway;

import static dev.keel.gateway.GuardedGateway.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.GuardConfig;
import dev.keel.model.ApiException;
import dev.keel.model.StreamListener;
import dev.keel.store.ApiKey;
import dev.keel.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Guard policies on the chat path: a tenant's or a key's policy applies to its own requests and
 * never to another tenant's; a key's policy wins over its tenant's, which wins over the global one.
 */
class TenantGuardPoliciesTest {
    /** E-mail addresses are blocked everywhere but in tenant lenient-co, and for keys with the open or careful policy as those say. */
    private static final String POLICIES = """
            pii: {EMAIL_ADDRESS: block}
            policies:
              open: {pii: {EMAIL_ADDRESS: allow}}
              careful: {pii: {EMAIL_ADDRESS: block}, output: {pii: {SECRET: block}}}
            tenants:
              lenient-co: {pii: {EMAIL_ADDRESS: allow}}
              legacy: trusted""";
    private static final String WITH_EMAIL = "Please reply to ann@example.com about my order.";

    private static ApiKey key(String tenant, String policy) {
        return new ApiKey("key_" + tenant, "app", tenant, "sk-keel-ab", List.of(), 0, 0, 0, 0, 0, 0, null, true, null, List.of(), policy);
    }

    private static ChatGateway.Caller caller(String tenant, String policy) {
        return new ChatGateway.Caller(tenant, key(tenant, policy));
    }

    private static String complete(GuardedGateway g, ChatGateway.Caller caller, ObjectNode request) {
        Trace trace = g.traces.start("test", caller.tenant());
        return g.gateway.complete(request, caller, trace).completion().body().path("choices").path(0).path("message").path("content").asText();
    }

    private static ApiException refusal(GuardedGateway g, ChatGateway.Caller caller, String text) {
        return catchThrowableOfType(ApiException.class, () -> complete(g, caller, request("chat", "user", text)));
    }

    @Test
    void oneTenantsAllowForEmailNeverAppliesToAnotherTenant() throws Exception {
        try (GuardedGateway g = new GuardedGateway(POLICIES)) {
            assertThat(complete(g, caller("lenient-co", null), request("chat", "user", WITH_EMAIL))).isEqualTo("Hello from the fake.");

            assertThat(refusal(g, caller("other-co", null), WITH_EMAIL).code()).isEqualTo("pii_blocked");
            assertThat(refusal(g, new ChatGateway.Caller("other-co", null), WITH_EMAIL).code()).as("nor to a keyless caller").isEqualTo("pii_blocked");
            assertThat(GuardedGateway.received(g.publicUpstream)).containsOnlyOnce("ann@example.com");
        }
    }

    @Test
    void aKeyWithAStricterPolicyInsideALenientTenantIsStrict() throws Exception {
        try (GuardedGateway g = new GuardedGateway(POLICIES)) {
            assertThat(refusal(g, caller("lenient-co", "careful"), WITH_EMAIL).code()).isEqualTo("pii_blocked");
        }
    }

    @Test
    void aKeyWithALenientPolicyInsideAStrictTenantIsLenient() throws Exception {
        try (GuardedGateway g = new GuardedGateway(POLICIES)) {
            assertThat(complete(g, caller("other-co", "open"), request("chat", "user", WITH_EMAIL))).isEqualTo("Hello from the fake.");
        }
    }

    @Test
    void aKeyNamingAPolicyTheConfigurationNoLongerHasGetsItsTenants() throws Exception {
        try (GuardedGateway g = new GuardedGateway(POLICIES)) {
            assertThat(complete(g, caller("lenient-co", "removed-since"), request("chat", "user", WITH_EMAIL))).isEqualTo("Hello from the fake.");
            assertThat(refusal(g, caller("other-co", "removed-since"), WITH_EMAIL).code()).isEqualTo("pii_blocked");
        }
    }

    @Test
    void aKeysPolicyGivesItsProfileAndAKeysOwnProfileStillWins() throws Exception {
        try (GuardedGateway g = new GuardedGateway(POLICIES)) {
            ChatGuard guard = new ChatGuard(g.guard, g.traces.registry());
            ApiKey trustedKey = new ApiKey("k", "app", "legacy", "sk-keel-ab", List.of(), 0, 0, 0, 0, 0, 0, null, true, GuardConfig.Profile.TRUSTED,
                    List.of(), "open");

            assertThat(guard.profileOf(caller("legacy", null))).as("the bare-profile tenant form").isEqualTo(GuardConfig.Profile.TRUSTED);
            assertThat(guard.profileOf(caller("legacy", "open"))).as("the key's policy, not its tenant's").isEqualTo(GuardConfig.Profile.STRICT);
            assertThat(guard.profileOf(new ChatGateway.Caller("legacy", trustedKey))).as("the key's guard_profile over its policy's")
                    .isEqualTo(GuardConfig.Profile.TRUSTED);
            assertThat(guard.profileOf(new ChatGateway.Caller("legacy", null))).as("no key: strict").isEqualTo(GuardConfig.Profile.STRICT);
        }
    }

    @Test
    void aTenantsOutputBlockCutsItsStreamAndNoOtherTenants() throws Exception {
        try (GuardedGateway g = new GuardedGateway(POLICIES.replace("legacy: trusted", "vault: {output: {pii: {SECRET: block}}}"))) {
            String leak = "Use the key AKIAIOSFODNN7EXAMPLE to log in.";
            g.publicUpstream.then(FakeLlmServer.stream(List.of("Use the key ", "AKIAIOSFODNN7EXAMPLE", " to log in."), -1));
            List<ObjectNode> vault = stream(g, caller("vault", null));
            g.publicUpstream.then(FakeLlmServer.stream(List.of("Use the key ", "AKIAIOSFODNN7EXAMPLE", " to log in."), -1));
            List<ObjectNode> other = stream(g, caller("other-co", null));

            assertThat(vault.getLast().path("choices").path(0).path("reason").asText()).isEqualTo("secret_detected");
            assertThat(vault.toString()).doesNotContain("AKIAIOSFODNN7EXAMPLE");
            assertThat(GuardedGateway.text(other)).as("redacted under the global policy, not cut").isEqualTo("Use the key <SECRET_1> to log in.")
                    .isNotEqualTo(leak);
        }
    }

    @Test
    void aTenantWithTheCanaryOffGetsNoCanaryAndOthersStillDo() throws Exception {
        try (GuardedGateway g = new GuardedGateway(POLICIES.replace("legacy: trusted", "nocanary: {output: {canary: false}}"))) {
            complete(g, caller("nocanary", null), request("chat", "system", "You are terse.", "user", "Hi"));
            assertThat(GuardedGateway.received(g.publicUpstream)).doesNotContain(g.guard.canary());

            complete(g, caller("other-co", null), request("chat", "system", "You are terse.", "user", "Hi"));
            assertThat(GuardedGateway.received(g.publicUpstream)).contains(g.guard.canary());
        }
    }

    @Test
    void theGuardSpansAndTheDecisionsMetricNameThePolicyNeverItsContents() throws Exception {
        try (GuardedGateway g = new GuardedGateway(POLICIES)) {
            Trace trace = g.traces.start("test", "lenient-co");
            g.gateway.complete(request("chat", "user", WITH_EMAIL), caller("lenient-co", "open"), trace);

            assertThat(trace.view().spans()).filteredOn(s -> s.name().startsWith("guard."))
                    .extracting(s -> s.attributes().get("policy")).containsExactly("open", "open");
            assertThat(g.traces.registry().find("keel.guard.decisions").tags("direction", "input", "policy", "open").counter()).isNotNull();
            String recorded = GuardedGateway.JSON.writeValueAsString(trace.view().spans()) + trace.view().attributes();
            assertThat(recorded).doesNotContain("ann@example.com").doesNotContain("ALLOW");
        }
    }

    private static List<ObjectNode> stream(GuardedGateway g, ChatGateway.Caller caller) {
        List<ObjectNode> chunks = new ArrayList<>();
        StreamListener client = chunk -> chunks.add(chunk.deepCopy());
        ObjectNode request = request("chat", "user", "How do I log in?");
        request.put("stream", true);
        g.gateway.stream(request, caller, g.traces.start("test", caller.tenant()), client);
        return chunks;
    }
}
