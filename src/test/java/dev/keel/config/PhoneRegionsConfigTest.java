package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PhoneRegionsConfigTest {
    @Test
    void theExampleFileDocumentsTheDefaultRegionsAndEveryOtherGuardDefault() throws Exception {
        GuardConfig example = KeelConfig.load(Path.of("keel.example.yaml")).guard();
        assertThat(example.phoneRegions()).contains("US", "GB", "DE", "FR", "IN");
        assertThat(example).isEqualTo(GuardConfig.DEFAULTS);
    }

    @Test
    void regionsAreReadCaseInsensitivelyAndAnEmptyListKeepsOnlyPlusNumbers() {
        assertThat(KeelConfig.parse("guard: {phone_regions: [ch, AT]}", k -> null).guard().phoneRegions()).containsExactly("CH", "AT");
        assertThat(KeelConfig.parse("guard: {phone_regions: []}", k -> null).guard().phoneRegions()).isEmpty();
    }

    @Test
    void anUnknownRegionIsRefusedNamingTheField() {
        assertThatThrownBy(() -> KeelConfig.parse("guard: {phone_regions: [US, XX]}", k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("guard.phone_regions").hasMessageContaining("XX");
    }
}
