package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.keel.config.KeelConfig;
import dev.keel.config.StoreConfig;
import dev.keel.engines.PostgresServer;
import dev.keel.store.ApiKeys;
import dev.keel.store.Database;
import dev.keel.store.Ledger;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** {@code keel migrate}: an embedded installation into a real PostgreSQL, also after the process is killed mid-way. */
class MigrateCommandTest {
    private static final int LEDGER_ROWS = 3_000;
    @RegisterExtension
    static final PostgresServer.PerClass POSTGRES = new PostgresServer.PerClass();

    @TempDir
    Path tmp;


    /** A data directory with two keys and {@code LEDGER_ROWS} ledger entries; the key's secret. */
    private String installation(Path data) {
        try (Database db = Database.open(data); Ledger ledger = new Ledger(db)) {
            for (int i = 0; i < LEDGER_ROWS; i++) {
                ledger.record(new Ledger.Entry(1_704_153_600_000L + i, "key_a", "acme", "m", "p", "u", 1, 1, 0, 0.5, false, true, 1, null, 200, "t",
                        Ledger.Tags.NONE));
            }
            new ApiKeys(db).create("other", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of());
            return new ApiKeys(db).create("ci", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of()).secret();
        }
    }

    private Path config(StoreConfig target) throws Exception {
        Path yaml = tmp.resolve("keel.yaml");
        Files.writeString(yaml, "store:\n  user: " + target.user() + "\n  password: '" + target.password() + "'\n");
        return yaml;
    }

    @Test
    void copiesKeysAndLedgerWithProgressAndNeverShowsThePassword() throws Exception {
        Path data = tmp.resolve("data");
        String secret = installation(data);
        StoreConfig target = POSTGRES.server().storeConfig();
        CliTest.Run run = CliTest.run("migrate", "--from", "sqlite:" + data, "--to", target.url(), "--config", config(target).toString(), "--batch-size", "500");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("migrated: " + (2 + LEDGER_ROWS) + " rows").contains(target.address());
        assertThat(run.err()).contains("api_keys").contains("ledger           3,000/3,000");
        assertThat(run.out() + run.err()).doesNotContain(target.password());
        try (Database db = Database.open(target, data)) {
            assertThat(new ApiKeys(db).authenticate(secret)).isPresent();
            assertThat(new Ledger(db).spentSince("key_a", 0)).isEqualTo(0.5 * LEDGER_ROWS);
        }
    }

    @Test
    void aMigrationKilledMidwayCompletesWhenRunAgainWithNothingTwice() throws Exception {
        Path data = tmp.resolve("data");
        installation(data);
        StoreConfig target = POSTGRES.server().storeConfig();
        Path yaml = config(target);
        List<String> args = List.of("migrate", "--from", "sqlite:" + data, "--to", target.url(), "--config", yaml.toString(), "--batch-size", "10");
        Process child = new ProcessBuilder(java(args)).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader err = new BufferedReader(new InputStreamReader(child.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            int ledgerLines = 0;
            // The second ledger line reports a tenth done: its earlier batches are committed, and it is mid-way.
            while (ledgerLines < 2 && (line = err.readLine()) != null) {
                if (line.contains("ledger")) ledgerLines++;
            }
            assertThat(ledgerLines).as("the child reported ledger progress").isEqualTo(2);
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hooks, an open transaction is simply gone
            child.waitFor(30, TimeUnit.SECONDS);
        }
        long partial = ledgerRows(target, data);
        assertThat(partial).isPositive().isLessThan(LEDGER_ROWS);

        CliTest.Run again = CliTest.run(args.toArray(String[]::new));
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(ledgerRows(target, data)).isEqualTo(LEDGER_ROWS);
        try (Database db = Database.open(target, data)) {
            assertThat(new ApiKeys(db).list()).hasSize(2);
        }
    }

    @Test
    void aSourceThatIsNotAnInstallationIsRefusedClearly() {
        CliTest.Run run = CliTest.run("migrate", "--from", "sqlite:" + tmp.resolve("nothing"), "--to", "postgres://127.0.0.1/keel");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("no embedded installation in").contains("keel.db not found");
        assertThat(CliTest.run("migrate", "--from", tmp.toString(), "--to", "postgres://127.0.0.1/keel").err()).contains("--from must be sqlite:DIR");
    }

    @Test
    void anUnreachableTargetIsNamedWithoutItsPassword() throws Exception {
        Path data = tmp.resolve("data");
        installation(data);
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliTest.Run run = CliTest.run("migrate", "--from", "sqlite:" + data, "--to", "postgres://keel:hunter2@127.0.0.1:" + port + "/keel");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("cannot reach PostgreSQL at 127.0.0.1:" + port + "/keel").doesNotContain("hunter2");
    }

    /** Passwords that broke URL parsing (the driver and Keel printed them); the text in the URL, and the password it means. */
    private static final List<List<String>> HOSTILE = List.of(List.of("ab/cdXYZ", "ab/cdXYZ"), List.of("q?x#y=1", "q?x#y=1"),
            List.of("p@ss@word", "p@ss@word"), List.of("two words", "two words"), List.of("ünï/π", "ünï/π"), List.of("en%2Fcoded", "en/coded"));

    @Test
    void hostilePasswordsInStoreUrlAndMigrateToConnectAndNeverShowInOutputOrLogs() throws Exception {
        Path data = tmp.resolve("data");
        installation(data);
        PostgresServer pg = POSTGRES.server();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(log);
        StringBuilder shown = new StringBuilder();
        try {
            for (int i = 0; i < HOSTILE.size(); i++) {
                String inUrl = HOSTILE.get(i).get(0), password = HOSTILE.get(i).get(1), role = "hostile" + i;
                pg.createRole(role, password);
                String url = "postgres://" + role + ":" + inUrl + "@127.0.0.1:" + pg.port() + pg.createDatabase().substring(pg.jdbcUrl("").length() - 1);
                CliTest.Run run = CliTest.run("migrate", "--from", "sqlite:" + data, "--to", url);
                assertThat(run.code()).as(run.err()).isZero();
                shown.append(run.out()).append(run.err());
                StoreConfig store = KeelConfig.parse("store: {url: '" + url + "'}", k -> null).store();
                try (Database db = Database.open(store, data)) {
                    assertThat(new ApiKeys(db).list()).as(inUrl).hasSize(2);
                }
                int closed;
                try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                    closed = s.getLocalPort();
                }
                CliTest.Run unreachable = CliTest.run("migrate", "--from", "sqlite:" + data, "--to", url.replace(":" + pg.port() + "/", ":" + closed + "/"));
                assertThat(unreachable.code()).isEqualTo(2);
                shown.append(unreachable.out()).append(unreachable.err());
            }
        } finally {
            root.detachAppender(log);
        }
        log.list.forEach(e -> shown.append(e.getFormattedMessage()).append(e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage()));
        for (List<String> p : HOSTILE) assertThat(shown.toString()).doesNotContain(p.get(0)).doesNotContain(p.get(1));
    }

    @Test
    void helpExplainsResumingAndWhereThePasswordComesFrom() {
        CliTest.Run run = CliTest.run("migrate", "--help");
        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("--from").contains("--to").contains("continues where it stopped").contains("PGPASSWORD");
    }

    private static List<String> java(List<String> args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.keel.cli.Main"));
        cmd.addAll(args);
        return cmd;
    }

    private static long ledgerRows(StoreConfig target, Path data) {
        try (Database db = Database.open(target, data)) {
            return db.withConnection(c -> {
                try (var rs = c.createStatement().executeQuery("SELECT count(*) FROM ledger")) {
                    return rs.next() ? rs.getLong(1) : -1L;
                }
            });
        }
    }
}
