package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.ConfigException;
import dev.keel.config.KeelConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shared engines {@code keel bench gateway --redis/--store} puts a bench Keel on, as the config that Keel then reads. */
class BenchCommandTest {
    private static final String BASE = "server: {admin_key: bench-admin-key-0123456789}\n";

    @Test
    void namedEnginesBecomeTheRedisAndStoreSectionsWithThePasswordLeftInTheEnvironment() {
        Map<String, String> env = Map.of("PGPASSWORD", "s3cret");
        String yaml = BenchCommand.sharedEngines("redis://127.0.0.1:18379", "postgres://keel@127.0.0.1:18432/keel", env::get);

        KeelConfig config = KeelConfig.parse(BASE + yaml, env::get);

        assertThat(yaml).doesNotContain("s3cret");
        assertThat(config.redis().url()).isEqualTo("redis://127.0.0.1:18379");
        assertThat(config.store().address()).isEqualTo("127.0.0.1:18432/keel");
        assertThat(config.store().user()).isEqualTo("keel");
        assertThat(config.store().password()).isEqualTo("s3cret");
    }

    @Test
    void withoutPgpasswordTheStoreKeepsTheUrlsOwnCredentials() {
        Map<String, String> env = Map.of();
        KeelConfig config = KeelConfig.parse(BASE + BenchCommand.sharedEngines(null, "postgres://keel:pw@127.0.0.1:18432/keel", env::get), env::get);

        assertThat(config.store().password()).isEqualTo("pw");
        assertThat(config.redis().url()).isNull();
    }

    @Test
    void noEngineNamedAddsNothing() {
        assertThat(BenchCommand.sharedEngines(null, null, Map.<String, String>of()::get)).isEmpty();
    }

    @Test
    void aUrlCannotSmuggleInConfigurationOfItsOwn() {
        String hostile = "redis://127.0.0.1:18379\"}\nguard: {enabled: false}\n#";
        String yaml = BenchCommand.sharedEngines(hostile, null, Map.<String, String>of()::get);

        assertThat(yaml.lines()).hasSize(1);
        assertThatThrownBy(() -> KeelConfig.parse(BASE + yaml, Map.<String, String>of()::get))
                .isInstanceOf(ConfigException.class).hasMessageContaining("redis.url");
    }
}
