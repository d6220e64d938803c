package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisConfigTest {
    @Test
    void theDocumentedExampleIsTheDefault() {
        assertThat(KeelConfig.load(Path.of("keel.example.yaml")).redis()).isEqualTo(RedisConfig.DEFAULTS);
    }

    @Test
    void theAddressShownNeverHoldsThePassword() {
        RedisConfig c = KeelConfig.parse("redis: {url: \"redis://:${PW}@cache.internal:6380/2\"}", Map.of("PW", "p%40ss-w0rd")::get).redis();
        assertThat(c.url()).contains("p%40ss");
        assertThat(c.address()).isEqualTo("redis://cache.internal:6380/2");
        assertThat(KeelConfig.parse("redis: {url: \"rediss://user:pw@cache\"}", k -> null).redis().address()).isEqualTo("rediss://cache:6379");
    }

    @Test
    void aMalformedUrlNamesTheFieldWithoutRepeatingIt() {
        for (String bad : new String[] {"http://cache:6379", "redis://:secret-pw@", "redis://:secret-pw@cache/db0", "redis://:secret-pw@ca che", "redis://:secret@pw@cache", "redis://:secret-pw@cache:99999"}) {
            assertThatThrownBy(() -> KeelConfig.parse("redis: {url: \"" + bad + "\"}", k -> null)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("redis.url").satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret-pw"));
        }
    }

    @Test
    void theReservationLeaseIsConfigurableAndBounded() {
        assertThat(KeelConfig.parse("redis: {reservation_lease_seconds: 60}", k -> null).redis().reservationLeaseSeconds()).isEqualTo(60);
        assertThatThrownBy(() -> KeelConfig.parse("redis: {reservation_lease_seconds: 0}", k -> null))
                .hasMessageContaining("redis.reservation_lease_seconds");
    }

    @Test
    void aLeaseShorterThanTheSlowestRequestIsWarnedAboutNamingBothNumbers() {
        KeelConfig c = KeelConfig.parse("""
                redis: {url: "redis://cache:6379", reservation_lease_seconds: 60}
                providers:
                  primary: {type: openai, base_url: "http://127.0.0.1:1/v1", total_timeout_seconds: 30, max_retries: 2}
                  backup: {type: openai, base_url: "http://127.0.0.1:2/v1", total_timeout_seconds: 40, max_retries: 0}
                models:
                  fast:
                    targets: [{provider: primary, model: a}, {provider: backup, model: b}]
                """, k -> null);
        assertThat(c.redis().leaseWarning(c.gateway(), Duration.ofMinutes(5))).hasValueSatisfying(w -> assertThat(w)
                .contains("reservation_lease_seconds is 60 s").contains("130 s a request to model 'fast'").contains("at least 130"));
        assertThat(c.redis().leaseWarning(c.gateway(), Duration.ofSeconds(50))).as("each call is bounded by the request deadline")
                .isEmpty();
    }

    @Test
    void theDefaultLeaseOutlastsTheDefaultProvidersAndNoRedisNeedsNoLease() {
        KeelConfig c = KeelConfig.parse("""
                redis: {url: "redis://cache:6379"}
                providers:
                  primary: {type: openai, base_url: "http://127.0.0.1:1/v1"}
                  backup: {type: openai, base_url: "http://127.0.0.1:2/v1"}
                models:
                  fast:
                    targets: [{provider: primary, model: a}, {provider: backup, model: b}]
                """, k -> null);
        assertThat(c.redis().leaseWarning(c.gateway(), Duration.ofMinutes(5))).isEmpty();
        KeelConfig local = KeelConfig.parse("redis: {reservation_lease_seconds: 1}", k -> null);
        assertThat(local.redis().leaseWarning(local.gateway(), Duration.ofMinutes(5))).isEmpty();
    }
}
