package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Router tiers on catalog models and the {@code router:} section: read, defaulted, and refused naming the field. */
class RouterConfigTest {
    private static final String PROVIDER = "providers: {p: {type: openai, base_url: http://127.0.0.1:1/v1}}\n";

    @Test
    void theExampleFileHoldsTheDefaults() throws Exception {
        assertThat(KeelConfig.load(java.nio.file.Path.of("keel.example.yaml")).router()).isEqualTo(RouterConfig.DEFAULTS);
        String example = java.nio.file.Files.readString(java.nio.file.Path.of("keel.example.yaml"));
        for (String setting : java.util.List.of("escalate:", "escalate_streams:", "session_ttl_minutes:", "max_sessions_per_tenant:")) {
            assertThat(example).as("keel.example.yaml shows every router setting").contains(setting);
        }
        assertThat(KeelConfig.parse("", k -> null).router()).isEqualTo(RouterConfig.DEFAULTS);
    }

    @Test
    void routerSettingsAreRead() {
        RouterConfig r = KeelConfig.parse("router: {escalate: false, session_ttl_minutes: 5, max_sessions_per_tenant: 7}", k -> null).router();
        assertThat(r).isEqualTo(new RouterConfig(false, false, Duration.ofMinutes(5), 7));
        assertThatThrownBy(() -> KeelConfig.parse("router: {session_ttl_minutes: 0}", k -> null)).hasMessageContaining("router.session_ttl_minutes");
    }

    @Test
    void aCatalogModelTakesATier() {
        KeelConfig c = KeelConfig.parse(PROVIDER + "models: {mini: {tier: small, targets: [{provider: p, model: m}]}, plain: {targets: [{provider: p, model: m}]}}",
                k -> null);
        assertThat(c.gateway().models().get("mini").tier()).isEqualTo(ModelConfig.Tier.SMALL);
        assertThat(c.gateway().models().get("plain").tier()).isNull();
    }

    @Test
    void badTiersAreRefusedNamingTheField() {
        assertThatThrownBy(() -> KeelConfig.parse(PROVIDER + "models: {mini: {tier: tiny, targets: [{provider: p, model: m}]}}", k -> null))
                .hasMessageContaining("models.mini.tier").hasMessageContaining("small");
        assertThatThrownBy(() -> KeelConfig.parse(PROVIDER + "models: {a: {tier: small, targets: [{provider: p, model: m}]},"
                + " b: {tier: small, targets: [{provider: p, model: n}]}}", k -> null)).hasMessageContaining("models.b.tier").hasMessageContaining("'a'");
        assertThatThrownBy(() -> KeelConfig.parse(PROVIDER + "models: {e: {kind: embedding, tier: small, targets: [{provider: p, model: m}]}}", k -> null))
                .hasMessageContaining("models.e.tier");
        assertThatThrownBy(() -> KeelConfig.parse(PROVIDER + "models: {auto: {targets: [{provider: p, model: m}]}}", k -> null))
                .hasMessageContaining("models.auto").hasMessageContaining("reserved");
    }
}
