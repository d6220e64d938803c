package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class IndexConfigTest {
    @Test
    void theExampleFileStatesTheDefaults() {
        assertThat(KeelConfig.load(Path.of("keel.example.yaml")).index()).isEqualTo(IndexConfig.DEFAULTS);
    }

    @Test
    void solrSettingsAreRead() {
        KeelConfig c = KeelConfig.parse("""
                index:
                  kind: solr
                  solr:
                    urls: ["http://keel:${SOLR_PASSWORD}@solr1:8983/solr"]
                    collection_prefix: docs-prod
                    replicas: 3
                    timeout_ms: 2500
                """, k -> k.equals("SOLR_PASSWORD") ? "pw" : null);
        assertThat(c.index()).isEqualTo(new IndexConfig(IndexConfig.Kind.SOLR, List.of("http://keel:pw@solr1:8983/solr"), "docs-prod", 3, 2500));
    }

    @Test
    void aCollectionPrefixSolrWouldRefuseNamesTheField() {
        assertThatThrownBy(() -> KeelConfig.parse("index: {kind: solr, solr: {urls: [http://s:8983/solr], collection_prefix: 'a/b'}}", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("index.solr.collection_prefix");
    }

    @Test
    void aSolrUrlThatIsNotHttpNamesTheField() {
        assertThatThrownBy(() -> KeelConfig.parse("index: {kind: solr, solr: {urls: ['solr1:8983']}}", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("index.solr.urls");
    }

    @Test
    void replicasOutOfRangeNameTheField() {
        assertThatThrownBy(() -> KeelConfig.parse("index: {kind: solr, solr: {urls: [http://s/solr], replicas: 0}}", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("index.solr.replicas");
    }
}
