package dev.keel.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.GuardConfig;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Client API keys, stored as SHA-256 hashes of 256-bit random secrets: the database never holds a
 * usable key, and a key is shown exactly once, when created. Lookups are cached by hash: a revocation
 * applies at once on the replica that made it and, on a shared database, within
 * {@link #SHARED_CACHE_TTL} on the others; a key another replica created is found at once (misses are
 * not cached on a shared database). Thread-safe.
 */
public final class ApiKeys {
    /** A new key: its policy and the secret, to hand to the client once. */
    public record Created(ApiKey key, String secret) {}

    private static final String PREFIX = "sk-keel-";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();
    /** Only this process changes an embedded database's keys, and it invalidates the cache when it does: the TTL only bounds memory. */
    private static final Duration LOCAL_CACHE_TTL = Duration.ofSeconds(30);
    /**
     * How long a revocation made on another replica may go unnoticed. A lookup by hash costs p50 0.04 ms,
     * p99 0.07–3 ms (by machine load) on PostgreSQL over loopback (StoreTiming), so each replica re-reading
     * each active key once a second costs nothing measurable; a shorter bound is not worth a query per request.
     */
    public static final Duration SHARED_CACHE_TTL = Duration.ofSeconds(1);
    private static final int CACHED_KEYS = 10_000;
    private final Database db;
    private final Cache<String, Optional<ApiKey>> byHash;
    private volatile long created;

    public ApiKeys(Database db) {
        this(db, db.shared() ? SHARED_CACHE_TTL : LOCAL_CACHE_TTL);
    }

    /** Keys whose lookups are cached for {@code cacheTtl} (zero: not cached). */
    ApiKeys(Database db, Duration cacheTtl) {
        this.db = db;
        this.byHash = Caffeine.newBuilder().maximumSize(CACHED_KEYS).expireAfterWrite(cacheTtl).build();
        this.created = countAll();
    }

    /** A key without a guard policy of its own (its tenant's applies). */
    public Created create(String name, String tenant, List<String> models, long rpm, long tpm, double daily, double monthly, double maxPerRequest,
                          boolean cache, GuardConfig.Profile guardProfile, List<String> scopes) {
        return create(name, tenant, models, rpm, tpm, daily, monthly, maxPerRequest, cache, guardProfile, scopes, null);
    }

    /** A new key; {@code guardPolicy} names a policy of {@code guard.policies} (the caller checked it), null: its tenant's. */
    public Created create(String name, String tenant, List<String> models, long rpm, long tpm, double daily, double monthly, double maxPerRequest,
                          boolean cache, GuardConfig.Profile guardProfile, List<String> scopes, String guardPolicy) {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        byte[] idBytes = new byte[8];
        RANDOM.nextBytes(idBytes);
        String id = "key_" + java.util.HexFormat.of().formatHex(idBytes);
        ApiKey key = new ApiKey(id, name, tenant, secret.substring(0, PREFIX.length() + 4), models, rpm, tpm, daily, monthly, maxPerRequest,
                System.currentTimeMillis(), null, cache, guardProfile, scopes, guardPolicy);
        db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys (id, name, tenant, key_hash, prefix, models, requests_per_minute,"
                    + " tokens_per_minute, daily_budget_usd, monthly_budget_usd, max_cost_per_request_usd, created_at, cache, guard_profile,"
                    + " scopes, guard_policy) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
                ps.setString(1, id);
                ps.setString(2, name);
                ps.setString(3, tenant);
                ps.setString(4, ContentHash.sha256(secret));
                ps.setString(5, key.prefix());
                ps.setString(6, JSON.writeValueAsString(models));
                ps.setLong(7, rpm);
                ps.setLong(8, tpm);
                ps.setDouble(9, daily);
                ps.setDouble(10, monthly);
                ps.setDouble(11, maxPerRequest);
                ps.setLong(12, key.createdAtMillis());
                ps.setInt(13, cache ? 1 : 0);
                ps.setString(14, guardProfile == null ? null : guardProfile.name());
                ps.setString(15, JSON.writeValueAsString(scopes));
                ps.setString(16, guardPolicy);
                ps.executeUpdate();
            } catch (JsonProcessingException e) {
                throw new SQLException(e);
            }
            return null;
        });
        byHash.invalidateAll();
        created = countAll();
        return new Created(key, secret);
    }

    /** The active key whose secret this is, if any. */
    public Optional<ApiKey> authenticate(String secret) {
        if (secret == null || !secret.startsWith(PREFIX)) return Optional.empty();
        String hash = ContentHash.sha256(secret);
        Optional<ApiKey> cached = byHash.getIfPresent(hash);
        if (cached != null) return cached;
        Optional<ApiKey> found = query("WHERE key_hash = ? AND revoked_at IS NULL", hash).stream().findFirst();
        // Another replica may create this key any moment: only a hit is worth keeping there.
        if (found.isPresent() || !db.shared()) byHash.put(hash, found);
        return found;
    }

    public List<ApiKey> list() {
        return query("ORDER BY created_at, id", null);
    }

    /** Revokes a key; effective for the next request. False when there is no such active key. */
    public boolean revoke(String id) {
        boolean revoked = db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")) {
                ps.setLong(1, System.currentTimeMillis());
                ps.setString(2, id);
                return ps.executeUpdate() == 1;
            }
        });
        byHash.invalidateAll();
        return revoked;
    }

    /**
     * True once any key was ever created, revoked or not: from then on keys are required, so revoking
     * the last key never reopens the server.
     */
    public boolean anyCreated() {
        if (created == 0 && db.shared()) created = countAll(); // another replica may have created the first key
        return created > 0;
    }

    private long countAll() {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM api_keys"); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    private List<ApiKey> query(String where, String arg) {
        return db.withConnection(c -> {
            List<ApiKey> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, name, tenant, prefix, models, requests_per_minute, tokens_per_minute,"
                    + " daily_budget_usd, monthly_budget_usd, max_cost_per_request_usd, created_at, revoked_at, cache, guard_profile, scopes,"
                    + " guard_policy FROM api_keys " + where)) {
                if (arg != null) ps.setString(1, arg);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        List<String> models, scopes;
                        try {
                            models = JSON.readValue(rs.getString(5), new TypeReference<List<String>>() {});
                            scopes = JSON.readValue(rs.getString(15), new TypeReference<List<String>>() {});
                        } catch (JsonProcessingException e) {
                            throw new SQLException("corrupt models or scopes list of key " + rs.getString(1), e);
                        }
                        long revokedAt = rs.getLong(12);
                        Long revoked = rs.wasNull() ? null : revokedAt;
                        out.add(new ApiKey(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), models, rs.getLong(6), rs.getLong(7),
                                rs.getDouble(8), rs.getDouble(9), rs.getDouble(10), rs.getLong(11), revoked, rs.getInt(13) != 0,
                                rs.getString(14) == null ? null : GuardConfig.Profile.valueOf(rs.getString(14)), scopes, rs.getString(16)));
                    }
                }
            }
            return out;
        });
    }
}
