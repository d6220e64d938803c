package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.RerankConfig.Method;
import java.net.URI;
import org.junit.jupiter.api.Test;

class RerankConfigTest {
    private static RerankConfig parse(String yaml) {
        return KeelConfig.parse(yaml, k -> k.equals("RERANK_KEY") ? "rk-secret" : null).rerank();
    }

    @Test
    void offByDefault() {
        RerankConfig c = parse("");
        assertThat(c.method()).isEqualTo(Method.NONE);
        assertThat(c.expansion().queries()).isZero();
        assertThat(c.expansion().hyde()).isFalse();
    }

    @Test
    void readsARemoteRerankerWithItsKeyFromTheEnvironment() {
        RerankConfig c = parse("""
                rerank:
                  method: remote
                  candidates: 40
                  remote: {base_url: "http://127.0.0.1:18111/v1/", api: tei, api_key: "${RERANK_KEY}", model: bge-reranker-base, timeout_ms: 500}
                """);
        assertThat(c.method()).isEqualTo(Method.REMOTE);
        assertThat(c.candidates()).isEqualTo(40);
        assertThat(c.remote()).isEqualTo(new RerankConfig.Remote(URI.create("http://127.0.0.1:18111/v1"), RerankConfig.Api.TEI, "rk-secret",
                "bge-reranker-base", 500));
        assertThat(c.remote().toString()).doesNotContain("rk-secret");
    }

    @Test
    void aRemoteMethodWithoutAUrlNamesTheField() {
        assertThatThrownBy(() -> parse("rerank: {method: remote}")).isInstanceOf(ConfigException.class).hasMessageContaining("rerank.remote.base_url");
        assertThatThrownBy(() -> parse("rerank: {remote: {base_url: 'ftp://x'}}")).hasMessageContaining("rerank.remote.base_url")
                .hasMessageContaining("http(s) URL");
        assertThatThrownBy(() -> parse("rerank: {method: onnx}")).hasMessageContaining("rerank.onnx.model_dir");
    }

    @Test
    void valuesOutOfRangeAndUnknownMethodsNameTheField() {
        assertThatThrownBy(() -> parse("rerank: {method: magic}")).hasMessageContaining("rerank.method").hasMessageContaining("none, mmr, remote, onnx");
        assertThatThrownBy(() -> parse("rerank: {candidates: 0}")).hasMessageContaining("rerank.candidates");
        assertThatThrownBy(() -> parse("rerank: {candidates: 100000}")).hasMessageContaining("rerank.candidates");
        assertThatThrownBy(() -> parse("rerank: {remote: {timeout_ms: 99999999}}")).hasMessageContaining("rerank.remote.timeout_ms");
        assertThatThrownBy(() -> parse("rerank: {expansion: {queries: 50, model: chat}}")).hasMessageContaining("rerank.expansion.queries");
        assertThatThrownBy(() -> parse("rerank: {mystery: 1}")).hasMessageContaining("rerank.mystery");
    }

    @Test
    void expansionNeedsAModel() {
        assertThatThrownBy(() -> parse("rerank: {expansion: {queries: 3}}")).hasMessageContaining("rerank.expansion.model");
        assertThatThrownBy(() -> parse("rerank: {expansion: {hyde: true}}")).hasMessageContaining("rerank.expansion.model");
        assertThat(parse("rerank: {expansion: {queries: 3, hyde: true, model: chat}}").expansion())
                .isEqualTo(new RerankConfig.Expansion("chat", 3, true, 256));
    }

    @Test
    void theDeprecatedSearchMmrKeysStillChooseMmrAndItsLambda() {
        RerankConfig c = parse("search: {mmr: true, mmr_lambda: 0.4}");
        assertThat(c.method()).isEqualTo(Method.MMR);
        assertThat(c.mmrLambda()).isEqualTo(0.4);
        assertThat(parse("search: {mmr_lambda: 0.4}\nrerank: {mmr_lambda: 0.9}").mmrLambda()).isEqualTo(0.9);
        assertThat(parse("search: {mmr: true}\nrerank: {method: mmr}").method()).isEqualTo(Method.MMR);
    }

    @Test
    void theDeprecatedSearchMmrContradictingTheRerankMethodIsRefused() {
        assertThatThrownBy(() -> parse("search: {mmr: true}\nrerank: {method: none}")).hasMessageContaining("search.mmr").hasMessageContaining("deprecated");
    }
}
