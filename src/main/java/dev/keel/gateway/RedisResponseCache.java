package dev.keel.gateway;

import dev.keel.config.CacheConfig;
import dev.keel.store.Redis;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ResponseCache} of replicas that share a Redis: exact entries live in Redis, so a
 * response cached by one replica is served by every other, each with {@code cache.exact.ttl_seconds}
 * to live and none larger than {@code cache.max_entry_bytes} (how many Redis keeps is Redis's
 * {@code maxmemory} policy). Nearest-neighbour lookups stay with {@code similar}, an in-process cache
 * of this replica, until the semantic table moves to a shared engine; {@link #remove} forgets an
 * entry in both. A Redis key is {@code keel:cache:} then the tenant and the exact key, each
 * length-prefixed, so no two (tenant, key) pairs share one whatever their characters. A Redis
 * failure or timeout is a miss or a skipped store (counted in {@code keel_redis_failures_total}),
 * never a failed request; an unreadable stored value is a miss. Thread-safe.
 */
public final class RedisResponseCache implements ResponseCache {
    private static final Logger LOG = LoggerFactory.getLogger(RedisResponseCache.class);
    /**
     * Leads every stored value; a value without it (or of a later layout) is not ours to read. Format 2 added the
     * question's word order; a format-1 value (written before) reads with none, so an upgrade keeps the cache warm.
     */
    private static final int FORMAT = 2, FORMAT_WITHOUT_WORDS = 1;

    private final Redis redis;
    private final ResponseCache similar;
    private final Duration ttl;
    private final int maxEntryBytes;

    /** Exact entries in {@code redis} under {@code config}'s exact time to live and entry size bound; nearest lookups in {@code similar}. */
    public RedisResponseCache(Redis redis, CacheConfig config, ResponseCache similar) {
        this.redis = redis;
        this.similar = similar;
        this.ttl = Duration.ofSeconds(config.exact().ttlSeconds());
        this.maxEntryBytes = config.maxEntryBytes();
    }

    @Override
    public Optional<Entry> exact(String tenant, String key) {
        try {
            return redis.get("cache_get", redisKey(tenant, key)).flatMap(RedisResponseCache::decode);
        } catch (Redis.RedisUnavailableException e) {
            LOG.debug("cache lookup missed: {}", e.getMessage());
            return Optional.empty();
        }
    }

    @Override
    public Optional<Similar> nearest(String tenant, String scope, Supplier<float[]> vector, double threshold, Predicate<Entry> comparable) {
        return similar.nearest(tenant, scope, vector, threshold, comparable);
    }

    @Override
    public void putExact(String tenant, String key, Entry entry) {
        if (entry.body().length > maxEntryBytes) return;
        try {
            redis.set("cache_put", redisKey(tenant, key), encode(entry), ttl);
        } catch (Redis.RedisUnavailableException e) {
            LOG.debug("cache store skipped: {}", e.getMessage());
        }
    }

    @Override
    public void putSimilar(String tenant, String scope, String key, float[] vector, Entry entry) {
        similar.putSimilar(tenant, scope, key, vector, entry);
    }

    @Override
    public void remove(String tenant, String key) {
        similar.remove(tenant, key);
        try {
            redis.delete("cache_remove", redisKey(tenant, key));
        } catch (Redis.RedisUnavailableException e) {
            LOG.debug("cache removal skipped: {}", e.getMessage());
        }
    }

    /**
     * {@code keel:cache:<bytes>:<tenant><bytes>:<key>}: a length prefix ends each part wherever its own
     * colons are. Strings UTF-8 cannot hold (lone surrogates, which it would turn into '?') are written
     * as UTF-16 hex under {@code keel:cache-utf16:} instead, so they cannot meet a well-formed one.
     */
    static byte[] redisKey(String tenant, String key) {
        if (!utf8RoundTrips(tenant) || !utf8RoundTrips(key)) {
            return ("keel:cache-utf16:" + utf16Hex(tenant) + ":" + utf16Hex(key)).getBytes(StandardCharsets.US_ASCII);
        }
        byte[] t = tenant.getBytes(StandardCharsets.UTF_8), k = key.getBytes(StandardCharsets.UTF_8);
        return ("keel:cache:" + t.length + ":" + tenant + k.length + ":" + key).getBytes(StandardCharsets.UTF_8);
    }

    private static boolean utf8RoundTrips(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s);
    }

    /** Four hex digits per UTF-16 unit, lone surrogates included (a charset encoder would replace them). */
    private static String utf16Hex(String s) {
        StringBuilder hex = new StringBuilder(s.length() * 4);
        for (int i = 0; i < s.length(); i++) hex.append(java.util.HexFormat.of().toHexDigits(s.charAt(i)));
        return hex.toString();
    }

    static byte[] encode(Entry entry) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(entry.body().length + 64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(FORMAT);
            out.writeDouble(entry.costUsd());
            out.writeInt(entry.documents().size());
            for (DocumentVersion d : entry.documents()) {
                out.writeUTF(d.docId());
                out.writeUTF(d.version());
            }
            out.writeInt(entry.questionWords().length);
            for (int word : entry.questionWords()) out.writeInt(word);
            out.writeInt(entry.body().length);
            out.write(entry.body());
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory", e);
        }
        return bytes.toByteArray();
    }

    /** The entry in {@code value}, or empty when it is not a whole entry of this format. */
    static Optional<Entry> decode(byte[] value) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(value))) {
            int format = in.readInt();
            if (format != FORMAT && format != FORMAT_WITHOUT_WORDS) return Optional.empty();
            double cost = in.readDouble();
            int n = in.readInt();
            if (n < 0 || n > value.length) return Optional.empty();
            List<DocumentVersion> documents = new ArrayList<>(n);
            for (int i = 0; i < n; i++) documents.add(new DocumentVersion(in.readUTF(), in.readUTF()));
            int w = format == FORMAT ? in.readInt() : 0;
            if (w < 0 || w > in.available() / Integer.BYTES) return Optional.empty();
            int[] words = new int[w];
            for (int i = 0; i < w; i++) words[i] = in.readInt();
            int length = in.readInt();
            if (length < 0 || length != in.available()) return Optional.empty();
            return Optional.of(new Entry(in.readNBytes(length), cost, documents, words));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
