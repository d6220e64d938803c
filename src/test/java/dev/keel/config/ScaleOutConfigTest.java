package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ScaleOutConfigTest {
    @Test
    void withoutScaleOutSectionsEverythingStaysInThisProcess() {
        KeelConfig c = KeelConfig.parse("", k -> null);
        assertThat(c.store().shared()).isFalse();
        assertThat(c.redis().shared()).isFalse();
        assertThat(c.index().kind()).isEqualTo(IndexConfig.Kind.LUCENE);
        assertThat(c.telemetry().exporting()).isFalse();
    }

    @Test
    void readsSharedEnginesWithSecretsFromTheEnvironment() {
        KeelConfig c = KeelConfig.parse("""
                store:
                  url: postgres://db:5432/keel
                  user: keel
                  password: ${PGPASSWORD}
                redis:
                  url: redis://cache:6379
                  rate_limits_on_failure: closed
                index:
                  kind: solr
                  solr:
                    urls: [http://solr1:8983/solr, http://solr2:8983/solr]
                telemetry:
                  otlp:
                    endpoint: http://collector:4318
                """, Map.of("PGPASSWORD", "s3cret")::get);
        assertThat(c.store().password()).isEqualTo("s3cret");
        assertThat(c.redis().budgets()).isEqualTo(RedisConfig.OnFailure.CLOSED);
        assertThat(c.redis().rateLimits()).isEqualTo(RedisConfig.OnFailure.CLOSED);
        assertThat(c.index().solrUrls()).hasSize(2);
        assertThat(c.telemetry().otlpEndpoint()).isEqualTo("http://collector:4318");
    }

    @Test
    void telemetryReadsHeadersFromTheEnvironmentAndNeverPrintsThem() {
        TelemetryConfig t = KeelConfig.parse("""
                telemetry:
                  service_name: keel-eu
                  sample_ratio: 0.25
                  otlp:
                    endpoint: https://otlp.example.com:4318/
                    headers: {Authorization: "Bearer ${OTLP_TOKEN}"}
                    timeout_ms: 2000
                """, Map.of("OTLP_TOKEN", "tok-s3cret")::get).telemetry();
        assertThat(t.headers()).containsEntry("Authorization", "Bearer tok-s3cret");
        assertThat(t.tracesUri()).hasToString("https://otlp.example.com:4318/v1/traces");
        assertThat(t.sampleRatio()).isEqualTo(0.25);
        assertThat(t.timeoutMs()).isEqualTo(2000);
        assertThat(t.serviceName()).isEqualTo("keel-eu");
        assertThat(t.toString()).contains("Authorization").doesNotContain("s3cret");
    }

    @Test
    void aBlankTelemetryEndpointLeavesExportOffSoAnUnsetVariableCanStandForIt() {
        String yaml = "telemetry: {otlp: {endpoint: \"${OTEL_EXPORTER_OTLP_ENDPOINT:-}\"}}";
        assertThat(KeelConfig.parse(yaml, k -> null).telemetry().exporting()).isFalse();
        assertThat(KeelConfig.parse(yaml, Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")::get).telemetry().otlpEndpoint()).isEqualTo("http://c:4318");
    }

    @Test
    void telemetryEndpointAlreadyNamingTheTracesPathIsKept() {
        assertThat(KeelConfig.parse("telemetry: {otlp: {endpoint: http://c:4318/v1/traces}}", k -> null).telemetry().tracesUri())
                .hasToString("http://c:4318/v1/traces");
    }

    @Test
    void telemetryRefusesCredentialsInTheEndpointWithoutEchoingThem() {
        assertThatThrownBy(() -> KeelConfig.parse("telemetry: {otlp: {endpoint: \"http://user:hunter2@collector:4318\"}}", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("telemetry.otlp.endpoint").hasMessageContaining("headers")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void telemetryBadValuesNameTheirField() {
        assertThatThrownBy(() -> KeelConfig.parse("telemetry: {otlp: {endpoint: ftp://c}}", k -> null)).hasMessageContaining("telemetry.otlp.endpoint");
        assertThatThrownBy(() -> KeelConfig.parse("telemetry: {sample_ratio: 1.5}", k -> null)).hasMessageContaining("telemetry.sample_ratio");
        assertThatThrownBy(() -> KeelConfig.parse("telemetry: {otlp: {timeout_ms: 5}}", k -> null)).hasMessageContaining("telemetry.otlp.timeout_ms");
        assertThatThrownBy(() -> KeelConfig.parse("telemetry: {otlp: {headers: {\"bad name\": x}}}", k -> null))
                .hasMessageContaining("telemetry.otlp.headers.bad name");
        assertThatThrownBy(() -> KeelConfig.parse("telemetry: {otlp: {headers: {X-Token: \"${T}\"}}}", Map.of("T", "sec\r\nret")::get))
                .hasMessageContaining("telemetry.otlp.headers.X-Token").hasMessageNotContaining("sec\r");
        assertThatThrownBy(() -> KeelConfig.parse("telemetry: {otlp: {endpoint: http://c:4318, tiemout_ms: 5}}", k -> null))
                .hasMessageContaining("telemetry.otlp.tiemout_ms");
    }

    @Test
    void solrIndexWithoutAddressNamesTheField() {
        assertThatThrownBy(() -> KeelConfig.parse("index: {kind: solr}", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("index.solr.urls");
    }
}
