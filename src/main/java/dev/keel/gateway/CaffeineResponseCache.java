package dev.keel.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.keel.config.CacheConfig;
import dev.keel.embed.Vectors;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The in-process {@link ResponseCache}: two Caffeine caches (exact and semantic, each with its own
 * size bound and time to live from {@link CacheConfig}) and an index of each (tenant, scope)'s
 * entries. A nearest lookup scans only its own tenant's scope, so its cost never depends on
 * another tenant's entries. Thread-safe.
 */
public final class CaffeineResponseCache implements ResponseCache {
    private record Key(String tenant, String key) {}

    private record Scoped(Key scope, float[] vector, Entry entry, Duration ttl) {}

    private final Cache<Key, Entry> exact;
    private final Cache<Key, Scoped> similar;
    private final Duration similarTtl;
    private final ConcurrentHashMap<Key, Set<Key>> scopes = new ConcurrentHashMap<>();

    public CaffeineResponseCache(CacheConfig config) {
        this(config, Ticker.systemTicker());
    }

    /** With the clock that times entries out (tests pass one they move). */
    CaffeineResponseCache(CacheConfig config, Ticker ticker) {
        exact = Caffeine.newBuilder().ticker(ticker).maximumSize(config.exact().maxEntries())
                .expireAfterWrite(Duration.ofSeconds(config.exact().ttlSeconds())).build();
        similarTtl = Duration.ofSeconds(config.semantic().ttlSeconds());
        similar = Caffeine.newBuilder().ticker(ticker).maximumSize(config.semantic().maxEntries())
                .expireAfter(Expiry.writing((Key k, Scoped s) -> s.ttl))
                .executor(Runnable::run)
                .<Key, Scoped>removalListener((key, value, cause) -> unindex(key, value, cause))
                .build();
    }

    @Override
    public Optional<Entry> exact(String tenant, String key) {
        return Optional.ofNullable(exact.getIfPresent(new Key(tenant, key)));
    }

    @Override
    public Optional<Similar> nearest(String tenant, String scope, Supplier<float[]> vector, double threshold, Predicate<Entry> comparable) {
        Set<Key> members = scopes.get(new Key(tenant, scope));
        if (members == null || members.isEmpty()) return Optional.empty();
        float[] query = vector.get();
        Similar best = null;
        for (Key k : members) {
            Scoped s = similar.getIfPresent(k);
            if (s == null || s.vector.length != query.length) continue;
            double cosine = Vectors.dot(query, s.vector);
            // The caller's test runs only on the few entries close enough to win: it may cost more than a dot product.
            if (cosine >= threshold && (best == null || cosine > best.similarity()) && comparable.test(s.entry)) best = new Similar(k.key(), s.entry, cosine);
        }
        return Optional.ofNullable(best);
    }

    @Override
    public void putExact(String tenant, String key, Entry entry) {
        exact.put(new Key(tenant, key), entry);
    }

    @Override
    public void putSimilar(String tenant, String scope, String key, float[] vector, Entry entry) {
        putSimilar(tenant, scope, key, vector, entry, similarTtl);
    }

    /**
     * {@link #putSimilar(String, String, String, float[], Entry)} for at most {@code ttl} (never longer than the
     * configured time to live): a copy of an entry stored elsewhere earlier keeps only what is left of its life.
     */
    void putSimilar(String tenant, String scope, String key, float[] vector, Entry entry, Duration ttl) {
        Key id = new Key(tenant, key), at = new Key(tenant, scope);
        if (!ttl.isPositive()) {
            similar.invalidate(id);
            return;
        }
        similar.put(id, new Scoped(at, vector.clone(), entry, ttl.compareTo(similarTtl) < 0 ? ttl : similarTtl));
        // Indexed under the scope map's lock, as unindex runs, and only while still cached: an entry evicted meanwhile stays out.
        scopes.compute(at, (s, members) -> {
            if (!similar.asMap().containsKey(id)) return members;
            Set<Key> indexed = members == null ? ConcurrentHashMap.newKeySet() : members;
            indexed.add(id);
            return indexed;
        });
    }

    @Override
    public void remove(String tenant, String key) {
        Key id = new Key(tenant, key);
        exact.invalidate(id);
        similar.invalidate(id);
    }

    /** Drops an evicted, expired or removed entry from its scope's index (a replaced one keeps its place: same key, same scope). */
    private void unindex(Key id, Scoped value, RemovalCause cause) {
        if (value == null || cause == RemovalCause.REPLACED) return;
        scopes.computeIfPresent(value.scope, (s, members) -> {
            if (!similar.asMap().containsKey(id)) members.remove(id);
            return members.isEmpty() ? null : members;
        });
    }
}
