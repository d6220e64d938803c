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
    void solrIndexWithoutAddressNamesTheField() {
        assertThatThrownBy(() -> KeelConfig.parse("index: {kind: solr}", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("index.solr.urls");
    }
}
