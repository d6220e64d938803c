package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeelConfigTest {
    @Test
    void emptyFileGivesDocumentedDefaults() {
        KeelConfig c = KeelConfig.parse("", k -> null);
        assertThat(c.server().port()).isEqualTo(8080);
        assertThat(c.server().host()).isEqualTo("127.0.0.1");
        assertThat(c.ingest().chunking().strategy()).isEqualTo(ChunkingConfig.Strategy.STRUCTURAL);
        assertThat(c.ingest().chunking().maxTokens()).isEqualTo(400);
        assertThat(c.ingest().chunking().overlapTokens()).isEqualTo(50);
        assertThat(c.search().fusion()).isEqualTo(SearchConfig.Fusion.WEIGHTED);
        assertThat(c.search().rrfK()).isEqualTo(60);
        assertThat(c.search().candidates()).isEqualTo(50);
    }

    @Test
    void readsSettingsAndInterpolatesEnvironment() {
        KeelConfig c = KeelConfig.parse("""
                server:
                  port: ${PORT}
                  host: ${HOST:-0.0.0.0}
                search:
                  fusion: weighted
                  alpha: 0.3
                ingest:
                  chunking:
                    strategy: fixed
                    max_tokens: 200
                    overlap_tokens: 20
                """, Map.of("PORT", "9090")::get);
        assertThat(c.server().port()).isEqualTo(9090);
        assertThat(c.server().host()).isEqualTo("0.0.0.0");
        assertThat(c.search().fusion()).isEqualTo(SearchConfig.Fusion.WEIGHTED);
        assertThat(c.search().alpha()).isEqualTo(0.3);
        assertThat(c.ingest().chunking().strategy()).isEqualTo(ChunkingConfig.Strategy.FIXED);
    }

    @Test
    void aProviderBaseUrlWithAQueryOrAnUnreadableHostIsRefusedNamingTheField() {
        for (String url : List.of("http://127.0.0.1:8000/v1?key=1", "http://127.0.0.1:8000/v1#x", "http://my_llm:8000/v1")) {
            assertThatThrownBy(() -> KeelConfig.parse("providers:\n  local: {type: openai, base_url: \"" + url + "\"}\n", k -> null)).as(url)
                    .isInstanceOf(ConfigException.class).hasMessageStartingWith("providers.local.base_url: ").hasMessageContaining(url);
        }
    }

    @Test
    void badValueNamesTheFieldAndTheExpectedForm() {
        assertThatThrownBy(() -> KeelConfig.parse("search:\n  fusion: magic\n", k -> null))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("search.fusion")
                .hasMessageContaining("[rrf, weighted]");
        assertThatThrownBy(() -> KeelConfig.parse("server:\n  port: eighty\n", k -> null))
                .hasMessageContaining("server.port").hasMessageContaining("whole number");
        assertThatThrownBy(() -> KeelConfig.parse("server:\n  port: 70000\n", k -> null))
                .hasMessageContaining("server.port").hasMessageContaining("0 to 65535");
    }

    @Test
    void browserFacingServerSettingsAreNormalisedAndBadOnesNameTheField() {
        ServerConfig s = KeelConfig.parse("""
                server:
                  allowed_hosts: ${HOSTS}
                  cors_origins: [HTTPS://App.Example.com, "http://localhost:3000"]
                  metrics_token: 0123456789abcdef
                """, Map.of("HOSTS", "keel.internal, Keel.Example.com")::get).server();
        assertThat(s.allowedHosts()).containsExactly("keel.internal", "keel.example.com");
        assertThat(s.corsOrigins()).containsExactly("https://app.example.com", "http://localhost:3000");
        assertThat(s.metricsToken()).isEqualTo("0123456789abcdef");
        assertThat(s.toString()).doesNotContain("0123456789abcdef");
        assertThatThrownBy(() -> KeelConfig.parse("server: {cors_origins: ['*']}", k -> null))
                .hasMessageContaining("server.cors_origins").hasMessageContaining("wildcard");
        assertThatThrownBy(() -> KeelConfig.parse("server: {cors_origins: [https://app.example.com/]}", k -> null))
                .hasMessageContaining("server.cors_origins").hasMessageContaining("https://app.example.com/");
        assertThatThrownBy(() -> KeelConfig.parse("server: {cors_origins: ['null']}", k -> null)).hasMessageContaining("server.cors_origins");
        assertThatThrownBy(() -> KeelConfig.parse("server: {allowed_hosts: [http://keel.internal]}", k -> null))
                .hasMessageContaining("server.allowed_hosts").hasMessageContaining("no scheme");
        assertThatThrownBy(() -> KeelConfig.parse("server: {allowed_hosts: [{a: b}]}", k -> null)).hasMessageContaining("server.allowed_hosts");
        assertThatThrownBy(() -> KeelConfig.parse("server: {metrics_token: short}", k -> null))
                .hasMessageContaining("server.metrics_token").hasMessageContaining("16");
        assertThatThrownBy(() -> KeelConfig.parse("", Map.of("KEEL_ADMIN_KEY", "short")::get))
                .hasMessageContaining("server.admin_key").hasMessageContaining("16").hasMessageContaining("KEEL_ADMIN_KEY");
    }

    @Test
    void unknownKeyIsRejectedSoTyposDontPassSilently() {
        assertThatThrownBy(() -> KeelConfig.parse("search:\n  fuzion: rrf\n", k -> null))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("search.fuzion")
                .hasMessageContaining("unknown setting");
    }

    @Test
    void cacheSettingsAreReadAndABadOneIsNamed() {
        CacheConfig c = KeelConfig.parse("cache: {max_entry_bytes: 4096, exact: {enabled: false, ttl_seconds: 60}, semantic: {threshold: 0.9, max_entries: 5}}",
                k -> null).cache();
        assertThat(c).isEqualTo(new CacheConfig(new CacheConfig.Exact(false, 60, 10_000), new CacheConfig.Semantic(true, 0.9, 3600, 5), 4096));
        assertThatThrownBy(() -> KeelConfig.parse("cache: {semantic: {threshold: 0.5}}", k -> null)).hasMessageContaining("cache.semantic.threshold");
        assertThatThrownBy(() -> KeelConfig.parse("cache: {exact: {ttl: 5}}", k -> null)).hasMessageContaining("cache.exact.ttl");
    }

    @Test
    void missingEnvironmentVariableIsNamed() {
        assertThatThrownBy(() -> KeelConfig.parse("server:\n  host: ${KEEL_TEST_UNSET}\n", k -> null))
                .hasMessageContaining("server.host").hasMessageContaining("KEEL_TEST_UNSET");
    }

    @Test
    void overlapMustBeSmallerThanChunkSize() {
        assertThatThrownBy(() -> KeelConfig.parse("ingest:\n  chunking:\n    max_tokens: 100\n    overlap_tokens: 100\n", k -> null))
                .hasMessageContaining("ingest.chunking.overlap_tokens");
    }

    @Test
    void invalidYamlSaysSo() {
        assertThatThrownBy(() -> KeelConfig.parse("server: [unclosed", k -> null)).hasMessageContaining("not valid YAML");
    }

    @Test
    void theDocumentedExampleFileParsesToTheDefaults() throws Exception {
        KeelConfig example = KeelConfig.load(java.nio.file.Path.of("keel.example.yaml"));
        KeelConfig defaults = KeelConfig.defaults();
        assertThat(example.server()).isEqualTo(defaults.server());
        assertThat(example.ingest()).isEqualTo(defaults.ingest());
        assertThat(example.search()).isEqualTo(defaults.search());
        assertThat(example.answer()).isEqualTo(defaults.answer());
        assertThat(example.rerank()).isEqualTo(defaults.rerank());
        assertThat(example.cache()).isEqualTo(defaults.cache());
        assertThat(example.telemetry()).isEqualTo(defaults.telemetry());
        assertThat(example.embed().model()).isEqualTo(defaults.embed().model());
        assertThat(example.embed().batchSize()).isEqualTo(defaults.embed().batchSize());
    }

    @Test
    void ingestLimitsAreReadAndATitleLimitOverLuceneTermSizeIsRefused() {
        IngestConfig c = KeelConfig.parse("ingest: {max_title_chars: 200, max_sections_per_document: 30, max_chunks_per_document: 40}", k -> null).ingest();
        assertThat(c).isEqualTo(new IngestConfig(ChunkingConfig.DEFAULTS, IngestConfig.DEFAULTS.maxFileBytes(), 200, 30, 40));
        assertThatThrownBy(() -> KeelConfig.parse("ingest: {max_title_chars: 5000}", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ingest.max_title_chars");
    }

    @Test
    void onlyOpenAisOwnApiGetsReasoningModelRequestsInTheirDialectUnlessTheProviderSaysSo() {
        KeelConfig c = KeelConfig.parse("""
                providers:
                  openai: {type: openai, base_url: https://api.openai.com/v1}
                  local: {type: openai, base_url: "http://127.0.0.1:11434/v1"}
                  proxy: {type: openai, base_url: "https://llm.example.com/v1", openai_reasoning_models: true}
                  direct: {type: openai, base_url: https://api.openai.com/v1, openai_reasoning_models: false}
                """, k -> null);
        assertThat(c.gateway().providers().get("openai").openAiReasoningModels()).isTrue();
        assertThat(c.gateway().providers().get("local").openAiReasoningModels()).isFalse();
        assertThat(c.gateway().providers().get("proxy").openAiReasoningModels()).isTrue();
        assertThat(c.gateway().providers().get("direct").openAiReasoningModels()).isFalse();
    }

    @Test
    void gatewayCatalogReadsProvidersAndModelsAndRejectsUnknownProviders() {
        KeelConfig c = KeelConfig.parse("""
                providers:
                  local:
                    type: openai
                    base_url: http://127.0.0.1:11434/v1/
                    api_key: ${KEY}
                models:
                  small:
                    targets:
                      - {provider: local, model: llama3.2:3b}
                """, Map.of("KEY", "secret")::get);
        assertThat(c.gateway().providers().get("local").baseUrl().toString()).isEqualTo("http://127.0.0.1:11434/v1");
        assertThat(c.gateway().providers().get("local").toString()).doesNotContain("secret");
        assertThat(c.gateway().models().get("small").targets()).containsExactly(new ModelConfig.Target("local", "llama3.2:3b"));
        assertThatThrownBy(() -> KeelConfig.parse("""
                providers:
                  local: {type: openai, base_url: "http://127.0.0.1:1/v1"}
                models:
                  small:
                    targets:
                      - {provider: remote, model: x}
                """, k -> null)).hasMessageContaining("models.small.targets[0].provider").hasMessageContaining("remote");
        assertThatThrownBy(() -> KeelConfig.parse("providers:\n  p: {type: openai, base_url: ftp://x}\n", k -> null))
                .hasMessageContaining("providers.p.base_url");
        assertThatThrownBy(() -> KeelConfig.parse("providers:\n  p: {type: openai, base_url: http://x, tiemout: 3}\n", k -> null))
                .hasMessageContaining("providers.p.tiemout");
    }

    @Test
    void extractiveProvidersNeedNoUrlEmbeddingModelsNeedAnOpenAiProviderAndModelsMayOverrideTimeouts() {
        KeelConfig c = KeelConfig.parse("""
                providers:
                  offline: {type: extractive}
                  oai: {type: openai, base_url: "http://127.0.0.1:1/v1"}
                models:
                  docs:
                    first_byte_timeout_seconds: 7
                    targets: [{provider: oai, model: gpt-4o-mini}, {provider: offline, model: extractive}]
                  vectors:
                    kind: embedding
                    targets: [{provider: oai, model: text-embedding-3-small}]
                """, k -> null);
        assertThat(c.gateway().providers().get("offline").type()).isEqualTo(ProviderConfig.Type.EXTRACTIVE);
        assertThat(c.gateway().models().get("docs").firstByteTimeout()).hasSeconds(7);
        assertThat(c.gateway().models().get("docs").totalTimeout()).isNull();
        assertThat(c.gateway().models().get("vectors").kind()).isEqualTo(ModelConfig.Kind.EMBEDDING);
        assertThatThrownBy(() -> KeelConfig.parse("""
                providers:
                  offline: {type: extractive}
                models:
                  vectors: {kind: embedding, targets: [{provider: offline, model: x}]}
                """, k -> null)).hasMessageContaining("models.vectors.targets[0].provider").hasMessageContaining("openai-type");
        assertThatThrownBy(() -> KeelConfig.parse("providers:\n  offline: {type: extractive, base_url: http://x}\n", k -> null))
                .hasMessageContaining("providers.offline.base_url");
    }
}
