package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The {@code search:} section: field weights and pseudo-relevance feedback are read, and bad values name their field. */
class SearchConfigTest {
    private static SearchConfig search(String yaml) {
        return KeelConfig.parse("search:\n" + yaml, k -> null).search();
    }

    @Test
    void readsFieldWeightsAndFeedbackSettings() {
        SearchConfig c = search("  title_weight: 2\n  body_weight: 0.5\n  prf: true\n  prf_docs: 5\n  prf_terms: 20\n  prf_weight: 0.3\n");
        assertThat(c.titleWeight()).isEqualTo(2.0);
        assertThat(c.bodyWeight()).isEqualTo(0.5);
        assertThat(c.prf()).isTrue();
        assertThat(c.prfDocs()).isEqualTo(5);
        assertThat(c.prfTerms()).isEqualTo(20);
        assertThat(c.prfWeight()).isEqualTo(0.3);
    }

    @Test
    void aNegativeOrHugeFieldWeightIsRefusedNamingTheField() {
        assertThatThrownBy(() -> search("  title_weight: -1\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("search.title_weight").hasMessageContaining("0 to 100");
        assertThatThrownBy(() -> search("  body_weight: 1e9\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("search.body_weight");
        assertThatThrownBy(() -> search("  title_weight: NaN\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("search.title_weight");
    }

    @Test
    void bothFieldWeightsZeroIsRefusedSinceBm25CouldMatchNothing() {
        assertThatThrownBy(() -> search("  title_weight: 0\n  body_weight: 0\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("search.body_weight").hasMessageContaining("both 0");
    }

    @Test
    void feedbackSettingsOutOfRangeAreRefusedNamingTheField() {
        assertThatThrownBy(() -> search("  prf_docs: 0\n")).hasMessageContaining("search.prf_docs").hasMessageContaining("1 to 100");
        assertThatThrownBy(() -> search("  prf_terms: 100000\n")).hasMessageContaining("search.prf_terms");
        assertThatThrownBy(() -> search("  prf_weight: 1.5\n")).hasMessageContaining("search.prf_weight").hasMessageContaining("0 to 1");
        assertThatThrownBy(() -> search("  prf: maybe\n")).hasMessageContaining("search.prf").hasMessageContaining("true or false");
    }
}
