package dev.keel.gateway;

import dev.keel.config.CacheConfig;
import dev.keel.store.Database;
import dev.keel.store.SemanticCacheTable;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The {@link ResponseCache} of replicas that share a PostgreSQL: the semantic table (
 * {@link #putSimilar}, {@link #nearest}, {@link #remove}) is shared, so a paraphrase of what one
 * replica cached is a hit on every other; exact entries stay with {@code exact} (this replica's
 * in-process cache, or Redis when {@link RedisResponseCache} is composed over this one). Each replica
 * answers {@link #nearest} from an in-memory copy of the live entries (a {@link CaffeineResponseCache},
 * so a lookup costs what it costs in process and never waits on the network), which
 * {@link SemanticCacheTable} keeps current: loaded at startup and after every reconnection, then
 * changed as other replicas put and remove. A copy keeps an entry only for what is left of its
 * {@code cache.semantic.ttl_seconds} by the server's clock, and at most
 * {@code cache.semantic.max_entries} entries; none larger than {@code cache.max_entry_bytes} is
 * stored or taken. PostgreSQL down: lookups keep being answered from the copy, stores reach only this
 * replica's copy, nothing fails a request (counted in {@code keel_semantic_cache_failures_total}).
 * Tenant isolation is the copy's: nothing of one tenant is compared or counted for another. Stored
 * entries use {@link RedisResponseCache}'s encoding. Thread-safe; closing flushes queued writes.
 */
public final class PostgresResponseCache implements ResponseCache, AutoCloseable {
    private final CacheConfig config;
    private final ResponseCache exact;
    private final SemanticCacheTable table;
    /** Replaced whole on every (re)load, so a lookup never sees a half-loaded copy. */
    private volatile CaffeineResponseCache copy;

    /** Shares the semantic table through {@code database} (PostgreSQL), waiting up to {@code startup} for the first load; exact entries in {@code exact}. */
    public PostgresResponseCache(Database database, CacheConfig config, ResponseCache exact, Duration startup, MeterRegistry registry) {
        this.config = config;
        this.exact = exact;
        this.copy = new CaffeineResponseCache(config);
        this.table = new SemanticCacheTable(database, config.semantic().maxEntries(), startup, registry, new SemanticCacheTable.Mirror() {
            @Override
            public void reload(List<SemanticCacheTable.Row> live) {
                CaffeineResponseCache fresh = new CaffeineResponseCache(config);
                live.forEach(row -> take(fresh, row));
                copy = fresh;
            }

            @Override
            public void changed(Set<SemanticCacheTable.Ref> refs, List<SemanticCacheTable.Row> live) {
                CaffeineResponseCache now = copy;
                Set<SemanticCacheTable.Ref> gone = new java.util.HashSet<>(refs);
                for (SemanticCacheTable.Row row : live) {
                    gone.remove(new SemanticCacheTable.Ref(row.tenant(), row.key()));
                    take(now, row);
                }
                gone.forEach(ref -> now.remove(ref.tenant(), ref.key()));
            }
        });
    }

    /** Whether this replica follows the shared table now (false while PostgreSQL is unreachable). */
    public boolean following() {
        return table.listening();
    }

    /** Blocks until every entry stored or removed before this call reached PostgreSQL (or was dropped). */
    public void flush() {
        table.flush();
    }

    @Override
    public Optional<Entry> exact(String tenant, String key) {
        return exact.exact(tenant, key);
    }

    @Override
    public Optional<Similar> nearest(String tenant, String scope, Supplier<float[]> vector, double threshold, Predicate<Entry> comparable) {
        return copy.nearest(tenant, scope, vector, threshold, comparable);
    }

    @Override
    public void putExact(String tenant, String key, Entry entry) {
        exact.putExact(tenant, key, entry);
    }

    @Override
    public void putSimilar(String tenant, String scope, String key, float[] vector, Entry entry) {
        if (entry.body().length > config.maxEntryBytes()) return;
        copy.putSimilar(tenant, scope, key, vector, entry);
        table.put(new SemanticCacheTable.Row(tenant, scope, key, bytes(vector), RedisResponseCache.encode(entry),
                Duration.ofSeconds(config.semantic().ttlSeconds())));
    }

    @Override
    public void remove(String tenant, String key) {
        exact.remove(tenant, key);
        copy.remove(tenant, key);
        table.delete(tenant, key);
    }

    /** Puts a stored row into a copy, unless it is not a whole entry within this replica's size bound. */
    private void take(CaffeineResponseCache into, SemanticCacheTable.Row row) {
        if (row.vector().length % Float.BYTES != 0) return;
        RedisResponseCache.decode(row.entry()).filter(e -> e.body().length <= config.maxEntryBytes())
                .ifPresent(e -> into.putSimilar(row.tenant(), row.scope(), row.key(), floats(row.vector()), e, row.ttl()));
    }

    private static byte[] bytes(float[] vector) {
        ByteBuffer b = ByteBuffer.allocate(vector.length * Float.BYTES);
        b.asFloatBuffer().put(vector);
        return b.array();
    }

    private static float[] floats(byte[] bytes) {
        float[] v = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).asFloatBuffer().get(v);
        return v;
    }

    @Override
    public void close() {
        table.close();
    }
}
