package dev.keel.config;

/**
 * Where metadata lives (API keys, the usage ledger, the embedding cache, traces): the embedded
 * SQLite database in the data directory when {@code url} is absent, else a shared PostgreSQL
 * ({@code postgres://host:port/db} or {@code jdbc:postgresql://…}) that several replicas use
 * together. {@code user} and {@code password} usually come from the environment ({@code ${PGPASSWORD}}).
 */
public record StoreConfig(String url, String user, String password, int poolSize) {
    public static final StoreConfig DEFAULTS = new StoreConfig(null, null, null, 10);

    /** True when the store is shared (PostgreSQL), false for the embedded SQLite file. */
    public boolean shared() {
        return url != null;
    }

    static StoreConfig read(ConfigNode n) {
        return new StoreConfig(n.string("url", null), n.string("user", null), n.string("password", null),
                n.integer("pool_size", DEFAULTS.poolSize, 1, 1_000));
    }
}
