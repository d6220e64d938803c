package dev.keel.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * Brings a database's schema up to date with Flyway, from {@code db/migration/<dialect>}. An
 * embedded database written before Flyway (its version only in {@code PRAGMA user_version}) is
 * adopted at that version, so only later scripts run on it; a database written by a newer Keel is
 * refused. Each script runs in its own transaction: a failing one is rolled back and reported with the
 * version the database stays at. The SQLite scripts keep {@code user_version} current too, so Keel
 * versions from before Flyway still refuse a database that this one moved past them.
 */
final class SchemaMigrations {
    private static final String HISTORY_TABLE = "flyway_schema_history";

    private SchemaMigrations() {}

    /** Migrates the database at {@code url} (credentials in {@code properties}, never in the URL). */
    static void apply(Dialect dialect, String url, Properties properties) throws SQLException {
        FluentConfiguration config = Flyway.configure()
                .dataSource(url, properties.getProperty("user"), properties.getProperty("password"))
                .jdbcProperties(jdbcProperties(properties))
                .locations("classpath:db/migration/" + dialect.folder)
                .table(HISTORY_TABLE)
                .loggers("slf4j");
        if (dialect == Dialect.SQLITE) {
            int legacy = legacyVersion(url, properties, Integer.parseInt(known(config.load().info().all())));
            if (legacy > 0) config.baselineOnMigrate(true).baselineVersion(String.valueOf(legacy)).baselineDescription("adopted at user_version " + legacy);
        }
        Flyway flyway = config.load();
        refuseNewer(flyway);
        try {
            flyway.migrate();
        } catch (FlywayException e) {
            MigrationInfo current = flyway.info().current();
            throw new SQLException(firstLine(e.getMessage()) + ": " + rootMessage(e) + "; the change was rolled back and the schema stays at version "
                    + (current == null ? "0 (empty)" : current.getVersion()), e);
        }
    }

    private static java.util.Map<String, String> jdbcProperties(Properties properties) {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        properties.forEach((k, v) -> {
            if (!k.equals("user") && !k.equals("password")) out.put((String) k, (String) v);
        });
        return out;
    }

    private static void refuseNewer(Flyway flyway) throws SQLException {
        MigrationInfo[] all = flyway.info().all();
        MigrationInfo newest = Arrays.stream(all).filter(i -> i.getState() == MigrationState.FUTURE_SUCCESS || i.getState() == MigrationState.FUTURE_FAILED)
                .reduce((a, b) -> b).orElse(null);
        if (newest != null) {
            throw new SQLException("database schema version " + newest.getVersion() + " is newer than this Keel (" + known(all) + "); upgrade Keel");
        }
    }

    private static String known(MigrationInfo[] all) {
        return Arrays.stream(all).filter(i -> i.getState().isResolved() && i.getVersion() != null).reduce((a, b) -> b)
                .map(i -> i.getVersion().toString()).orElse("0");
    }

    /** The {@code user_version} of an embedded database that has no Flyway history yet (0 when fresh). */
    private static int legacyVersion(String url, Properties properties, int known) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, properties); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + HISTORY_TABLE + "'")) {
                if (rs.next() && rs.getInt(1) > 0) return 0;
            }
            try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                int version = rs.next() ? rs.getInt(1) : 0;
                if (version > known) throw new SQLException("database schema version " + version + " is newer than this Keel (" + known + "); upgrade Keel");
                return version;
            }
        }
    }

    private static String firstLine(String message) {
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }

    /** The first line of the innermost cause's message: what the driver or the server said. */
    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        return firstLine(String.valueOf(root.getMessage()));
    }
}
