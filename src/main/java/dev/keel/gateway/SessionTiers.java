package dev.keel.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keel.config.ModelConfig;
import dev.keel.config.RouterConfig;
import java.util.Optional;

/**
 * The tier each session was escalated to, so its next requests start there. Scoped by tenant and
 * API key: a session id names a session of the caller's tenant and key only, so neither another
 * tenant nor another key of the same tenant (charged for the tier) can read or pin it, and each tenant has its own bounded space (its {@code max_sessions_per_tenant} most
 * recently used sessions), so one tenant's traffic cannot evict another's. Entries expire
 * {@code session_ttl_minutes} after their last use; the number of tenants is bounded too
 * ({@value #MAX_TENANTS}, least recently used first). Memory is in-process only. Thread-safe.
 */
final class SessionTiers {
    /** Far more tenants than one Keel serves; bounds memory when tenants come from an unauthenticated header. */
    static final int MAX_TENANTS = 10_000;

    private final Cache<String, Cache<Session, ModelConfig.Tier>> tenants;

    /** A session of one key of a tenant (key id null: open local use). */
    private record Session(String keyId, String id) {}
    private final RouterConfig config;

    SessionTiers(RouterConfig config) {
        this.config = config;
        this.tenants = Caffeine.newBuilder().maximumSize(MAX_TENANTS).expireAfterAccess(config.sessionTtl()).build();
    }

    /** The tier {@code session} of key {@code keyId} of {@code tenant} was escalated to, if it was and has not expired. */
    Optional<ModelConfig.Tier> tier(String tenant, String keyId, String session) {
        if (session == null) return Optional.empty();
        Cache<Session, ModelConfig.Tier> sessions = tenants.getIfPresent(tenant);
        return sessions == null ? Optional.empty() : Optional.ofNullable(sessions.getIfPresent(new Session(keyId, session)));
    }

    /** Keeps {@code tier} for the session, unless it already holds a higher one. */
    void raise(String tenant, String keyId, String session, ModelConfig.Tier tier) {
        if (session == null) return;
        tenants.get(tenant, t -> Caffeine.newBuilder().maximumSize(config.maxSessionsPerTenant()).expireAfterAccess(config.sessionTtl()).build())
                .asMap().merge(new Session(keyId, session), tier, (a, b) -> a.compareTo(b) >= 0 ? a : b);
    }
}
