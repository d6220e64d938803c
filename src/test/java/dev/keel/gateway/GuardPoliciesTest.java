package dev.keel.gateway;

import static dev.keel.gateway.GuardedChatTest.ATTACK;
import static dev.keel.gateway.GuardedGateway.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.keel.config.GuardConfig;
import dev.keel.model.ApiException;
import dev.keel.store.ApiKey;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The guard's policies on the chat path: profiles per key and tenant, private providers, caller-supplied values, the off switch. */
class GuardPoliciesTest {
    private static ApiKey key(String tenant, GuardConfig.Profile profile) {
        return new ApiKey("key_1", "app", tenant, "sk-keel-ab", List.of(), 0, 0, 0, 0, 0, 0, null, true, profile, List.of());
    }

    @Test
    void aKeysProfileWinsOverItsTenantsWhichWinsOverTheDefaultAndCallersWithoutAKeyAreStrict() throws Exception {
        try (GuardedGateway g = new GuardedGateway("""
                input: {default_profile: trusted}
                tenants: {acme: strict}""")) {
            ChatGuard guard = new ChatGuard(g.guard, g.traces.registry());

            assertThat(guard.profileOf(new ChatGateway.Caller("acme", key("acme", GuardConfig.Profile.TRUSTED)))).isEqualTo(GuardConfig.Profile.TRUSTED);
            assertThat(guard.profileOf(new ChatGateway.Caller("acme", key("acme", null)))).isEqualTo(GuardConfig.Profile.STRICT);
            assertThat(guard.profileOf(new ChatGateway.Caller("other", key("other", null)))).isEqualTo(GuardConfig.Profile.TRUSTED);
            assertThat(guard.profileOf(new ChatGateway.Caller("other", null))).isEqualTo(GuardConfig.Profile.STRICT);
        }
    }

    @Test
    void aRequestCarryingAnEntityUnderThePrivatePolicyGoesOnlyToPrivateProviders() throws Exception {
        try (GuardedGateway g = new GuardedGateway("pii: {US_SSN: private}")) {
            String reply = g.complete(request("mixed", "user", "Is 078-05-1120 a valid SSN format?"));

            assertThat(reply).isEqualTo("Hello from the fake.");
            assertThat(g.publicUpstream.received).isEmpty();
            assertThat(GuardedGateway.received(g.privateUpstream)).contains("078-05-1120");
        }
    }

    @Test
    void aPrivateRequestToAModelWithoutPrivateProvidersIsRefusedNamingThePolicy() throws Exception {
        try (GuardedGateway g = new GuardedGateway("pii: {US_SSN: private}")) {
            ApiException e = catchThrowableOfType(ApiException.class, () -> g.complete(request("chat", "user", "Is 078-05-1120 a valid SSN format?")));

            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("private_provider_required");
            assertThat(e.getMessage()).contains("guard.pii").contains("private: true").doesNotContain("078-05-1120");
            assertThat(g.publicUpstream.received).isEmpty();
        }
    }

    @Test
    void aStreamedPrivateRequestGoesOnlyToPrivateProviders() throws Exception {
        try (GuardedGateway g = new GuardedGateway("pii: {US_SSN: private}")) {
            g.privateUpstream.then(FakeLlmServer.stream(List.of("Yes", "."), -1));

            assertThat(GuardedGateway.text(g.stream(request("mixed", "user", "Is 078-05-1120 a valid SSN format?")))).isEqualTo("Yes.");
            assertThat(g.publicUpstream.received).isEmpty();
        }
    }

    @Test
    void aValueTheCallerSuppliedIsNoLeakWhenTheModelRepeatsIt() throws Exception {
        try (GuardedGateway g = new GuardedGateway("""
                pii: {EMAIL_ADDRESS: allow}
                output: {pii: {EMAIL_ADDRESS: redact}}""")) {
            g.publicUpstream.then(FakeLlmServer.okFrom(req -> "Write to ann@example.com, not to carl@corp.example."));

            String reply = g.complete(request("chat", "user", "Should I write to ann@example.com?"));

            assertThat(reply).isEqualTo("Write to ann@example.com, not to <EMAIL_1>.");
        }
    }

    @Test
    void anOutputEntityUnderTheBlockPolicyWithholdsTheReply() throws Exception {
        try (GuardedGateway g = new GuardedGateway("output: {pii: {SECRET: block}}")) {
            g.publicUpstream.then(FakeLlmServer.okFrom(req -> "Use the key AKIAIOSFODNN7EXAMPLE to log in."));

            var choice = g.gateway.complete(request("chat", "user", "How do I log in to the bucket?"), GuardedGateway.caller(), g.trace())
                    .completion().body().path("choices").path(0);

            assertThat(choice.path("finish_reason").asText()).isEqualTo("content_filter");
            assertThat(choice.path("reason").asText()).isEqualTo("secret_detected");
            assertThat(choice.toString()).doesNotContain("AKIAIOSFODNN7EXAMPLE");
        }
    }

    @Test
    void withTheGuardOffRequestsAndRepliesPassUnchanged() throws Exception {
        try (GuardedGateway g = new GuardedGateway("enabled: false")) {
            g.publicUpstream.then(FakeLlmServer.okFrom(req -> "Ask carl@corp.example."));

            String reply = g.complete(request("chat", "system", "You are terse.", "user", ATTACK + " and mail ann@example.com"));

            assertThat(reply).isEqualTo("Ask carl@corp.example.");
            assertThat(GuardedGateway.received(g.publicUpstream)).contains("ann@example.com").doesNotContain(g.guard.canary());
            assertThat(g.traces.registry().find("keel.guard.decisions").counters()).isEmpty();
        }
    }
}
