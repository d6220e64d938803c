package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class StoreConfigTest {
    private static StoreConfig parse(String yaml) {
        return KeelConfig.parse(yaml, Map.of("PGPASSWORD", "pw-from-env")::get).store();
    }

    @Test
    void credentialsInAPostgresUrlMoveToTheirFieldsAndLeaveTheUrl() {
        StoreConfig c = parse("store: {url: 'postgres://app:p%40ss+word@db.internal:6432/keel?sslmode=require'}");
        assertThat(c.url()).isEqualTo("jdbc:postgresql://db.internal:6432/keel?sslmode=require");
        assertThat(c.user()).isEqualTo("app");
        assertThat(c.password()).isEqualTo("p@ss+word");
        assertThat(c.address()).isEqualTo("db.internal:6432/keel");
    }

    @Test
    void passwordParametersOfAJdbcUrlAreTakenOutOfIt() {
        StoreConfig c = parse("store: {url: 'jdbc:postgresql://h1:5432,h2:5432/keel?user=app&password=secret&targetServerType=primary'}");
        assertThat(c.url()).isEqualTo("jdbc:postgresql://h1:5432,h2:5432/keel?targetServerType=primary");
        assertThat(c.user()).isEqualTo("app");
        assertThat(c.password()).isEqualTo("secret");
    }

    @Test
    void theFieldsWinOverCredentialsInTheUrl() {
        StoreConfig c = parse("store: {url: 'postgres://old:old@db/keel', user: keel, password: '${PGPASSWORD}'}");
        assertThat(c.user()).isEqualTo("keel");
        assertThat(c.password()).isEqualTo("pw-from-env");
    }

    @Test
    void thePasswordNeverShowsInTheConfigurationsText() {
        StoreConfig c = parse("store: {url: 'postgres://db/keel', user: keel, password: '${PGPASSWORD}'}");
        assertThat(c.toString()).doesNotContain("pw-from-env").contains("jdbc:postgresql://db/keel");
        assertThat(KeelConfig.parse("store: {url: 'postgres://db/keel', password: hunter2}", k -> null).toString()).doesNotContain("hunter2");
    }

    @Test
    void anUrlThatIsNotPostgresNamesTheFieldWithoutRepeatingThePassword() {
        assertThatThrownBy(() -> parse("store: {url: 'mysql://root:hunter2@db/keel'}")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("store.url").hasMessageContaining("postgres://").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> parse("store: {url: 'jdbc:mysql://db/keel?password=hunter2'}")).isInstanceOf(ConfigException.class)
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> parse("store: {url: 'postgres://db:5432'}")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("store.url").hasMessageContaining("database");
    }

    @Test
    void aPasswordMayHoldSlashesQuestionMarksHashesAtsSpacesAndUnicodeUnencoded() {
        for (String password : java.util.List.of("ab/cdXYZ", "a?b=c&d", "x#y", "p@ss@word", "two words", "ünïcødé/π", "a/b?c#d@e:f")) {
            StoreConfig c = parse("store: {url: 'postgres://keel:" + password + "@127.0.0.1:18432/keel?sslmode=disable'}");
            assertThat(c.password()).as(password).isEqualTo(password);
            assertThat(c.user()).isEqualTo("keel");
            assertThat(c.url()).isEqualTo("jdbc:postgresql://127.0.0.1:18432/keel?sslmode=disable");
            assertThat(c.address() + c).doesNotContain(password);
        }
    }

    @Test
    void aPercentEncodedPasswordIsDecodedAsInAnyUrl() {
        assertThat(parse("store: {url: 'postgres://keel:ab%2Fcd%3F%23%40%20%C3%BC@db/keel'}").password()).isEqualTo("ab/cd?#@ ü");
    }

    @Test
    void anAtInAParameterValueCannotMoveTheHostThePasswordGoesTo() {
        for (String url : new String[] {"postgres://keel:secret@db.internal:5432/keel?application_name=keel@web/1",
                "postgres://keel@db.internal:5432/keel?sslcert=/etc/keel@prod/client.crt",
                "jdbc:postgresql://h/db?application_name=a@evil.example/x"}) {
            assertThatThrownBy(() -> parse("store: {url: '" + url + "'}")).as(url).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("%40").hasMessageNotContaining("secret").hasMessageNotContaining("evil");
        }
        assertThat(parse("store: {url: 'postgres://keel:secret@db.internal:5432/keel?application_name=keel%40web'}").address())
                .isEqualTo("db.internal:5432/keel");
    }

    @Test
    void itsTextNamesNoParameterValuesThatMayBeSecrets() {
        assertThat(parse("store: {url: 'postgres://keel@db/keel?sslpassword=hush&sslmode=require'}").toString()).doesNotContain("hush");
    }

    @Test
    void anUnparseablePasswordIsRefusedWithoutRepeatingIt() {
        assertThatThrownBy(() -> parse("store: {url: 'postgres://keel:50%off-secret@db/keel'}")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("store.url").hasMessageContaining("%25").hasMessageNotContaining("off-secret");
        assertThatThrownBy(() -> parse("store: {url: 'postgres://keel:s3cret/x@db:5432'}")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("store.url").hasMessageNotContaining("s3cret");
    }

    @Test
    void timeoutsAndRetentionAreBounded() {
        assertThat(parse("store: {trace_retention_minutes: 1440, timeout_ms: 2000}")).extracting(StoreConfig::traceRetentionMinutes, StoreConfig::timeoutMs)
                .containsExactly(1440, 2000);
        assertThatThrownBy(() -> parse("store: {timeout_ms: 0}")).hasMessageContaining("store.timeout_ms");
        assertThatThrownBy(() -> parse("store: {trace_retention_minutes: 0}")).hasMessageContaining("store.trace_retention_minutes");
    }

    @Test
    void theDocumentedExampleFileHasTheStoreDefaults() throws Exception {
        assertThat(KeelConfig.load(java.nio.file.Path.of("keel.example.yaml")).store()).isEqualTo(StoreConfig.DEFAULTS);
    }
}
