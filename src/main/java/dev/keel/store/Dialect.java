package dev.keel.store;

/** The few SQL expressions that differ between SQLite and PostgreSQL; everything else Keel writes runs on both. */
enum Dialect {
    SQLITE("sqlite") {
        @Override
        String utcDay(String millis) {
            return "strftime('%Y-%m-%d', " + millis + " / 1000, 'unixepoch')";
        }
    },
    POSTGRESQL("postgresql") {
        @Override
        String utcDay(String millis) {
            return "to_char(to_timestamp(" + millis + " / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
        }
    };

    /** The folder of this database's Flyway scripts under {@code db/migration}, and its name in readiness. */
    final String folder;

    Dialect(String folder) {
        this.folder = folder;
    }

    /** The UTC day (YYYY-MM-DD) of a column or expression holding epoch milliseconds. */
    abstract String utcDay(String millis);
}
