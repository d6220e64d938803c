package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.KeelConfig;
import org.junit.jupiter.api.Test;

/** The configuration hash in a run changes with what shapes answers, and never with a secret. */
class ConfigHashTest {
    private static final String PROVIDERS = """
            providers:
              llm: {type: openai, base_url: "https://user:%s@llm.example.com/v1", api_key: "%s"}
            models:
              writer: {targets: [{provider: llm, model: gpt-x}]}
            answer: {model: writer, context_chunks: %d}
            server: {port: %d}
            """;

    private static String hash(String secret, int contextChunks, int port) {
        return ConfigHash.of(KeelConfig.parse(PROVIDERS.formatted(secret, secret, contextChunks, port), k -> null));
    }

    @Test
    void aRotatedApiKeyOrUrlPasswordLeavesTheHashAlone() {
        assertThat(hash("sk-one-secret", 5, 0)).isEqualTo(hash("sk-two-secret", 5, 0));
    }

    @Test
    void anAnswerSettingChangesTheHash() {
        assertThat(hash("sk-one-secret", 5, 0)).isNotEqualTo(hash("sk-one-secret", 6, 0)).hasSize(16);
    }

    @Test
    void whereTheServerListensIsNotPartOfThePipeline() {
        assertThat(hash("sk-one-secret", 5, 0)).isEqualTo(hash("sk-one-secret", 5, 8081));
    }

    @Test
    void theDefaultsHashAndParsedDefaultsHashAlike() {
        assertThat(ConfigHash.of(KeelConfig.defaults())).isEqualTo(ConfigHash.of(KeelConfig.parse("", k -> null)));
    }

    @Test
    void theEmbeddersThreadsAreHowFastNotWhat() {
        assertThat(ConfigHash.of(KeelConfig.parse("embed: {threads: 1, batch_size: 8}", k -> null)))
                .isEqualTo(ConfigHash.of(KeelConfig.parse("embed: {threads: 4}", k -> null)));
    }

    @Test
    void theValuesARunCarriesNameAnswerSettingsAsKeelYamlSpellsThemAndNoSecret() {
        java.util.Map<String, String> values = ConfigHash.values(KeelConfig.parse(PROVIDERS.formatted("sk-one-secret", "sk-one-secret", 1, 0), k -> null));
        assertThat(values).containsEntry("answer.context_chunks", "1").containsEntry("answer.model", "writer").containsKey("search.top_k")
                .doesNotContainKey("embed.threads");
        assertThat(values.toString()).doesNotContain("sk-one-secret").doesNotContain("llm.example.com");
    }
}
