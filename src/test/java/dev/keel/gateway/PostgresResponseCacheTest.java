package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.CacheConfig;
import dev.keel.config.StoreConfig;
import dev.keel.embed.Vectors;
import dev.keel.engines.Await;
import dev.keel.engines.PostgresServer;
import dev.keel.store.Database;
import dev.keel.store.SemanticCacheTable;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The semantic table shared through a real PostgreSQL: two cache objects over one database stand for
 * two replicas (each with its own connection pool, listener and in-memory copy). Each test gets a new
 * database, so no test sees another's entries.
 */
class PostgresResponseCacheTest {
    @RegisterExtension
    static final PostgresServer.PerClass POSTGRES = new PostgresServer.PerClass();
    private static final Path NO_DATA_DIR = Path.of("/nonexistent");
    private static final Duration VISIBLE = Duration.ofSeconds(20);
    private static final int POOL = 2;
    private static final String SCOPE = "scope-1";

    private final List<AutoCloseable> opened = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private String url;

    @AfterEach
    void closeReplicas() throws Exception {
        for (AutoCloseable c : opened.reversed()) c.close();
    }

    private StoreConfig store() {
        if (url == null) url = POSTGRES.server().createDatabase();
        return StoreConfig.postgres(url, PostgresServer.USER, POSTGRES.server().password(), POOL, StoreConfig.DEFAULTS.timeoutMs(),
                StoreConfig.DEFAULTS.traceRetentionMinutes());
    }

    private PostgresResponseCache replica(CacheConfig config) {
        Database db = Database.open(store(), NO_DATA_DIR);
        opened.add(db);
        PostgresResponseCache cache = new PostgresResponseCache(db, config, new CaffeineResponseCache(config), Duration.ofSeconds(10), registry);
        opened.add(cache);
        return cache;
    }

    private PostgresResponseCache replica() {
        return replica(CacheConfig.DEFAULTS);
    }

    private static CacheConfig withSemanticTtl(int seconds) {
        CacheConfig.Semantic s = CacheConfig.DEFAULTS.semantic();
        return new CacheConfig(CacheConfig.DEFAULTS.exact(), new CacheConfig.Semantic(true, s.threshold(), seconds, s.maxEntries()),
                CacheConfig.DEFAULTS.maxEntryBytes());
    }

    private static ResponseCache.Entry entry(String body) {
        return new ResponseCache.Entry(body.getBytes(StandardCharsets.UTF_8), 0.25, List.of(new ResponseCache.DocumentVersion("doc-1", "v1")), WordOrder.NONE);
    }

    /** A unit vector near {@code (1, 0, …)} tilted by {@code tilt}: tilts 0 and 0.1 have cosine ≈ 0.995. */
    private static float[] question(int axis, float tilt) {
        float[] v = new float[8];
        v[axis] = 1;
        v[(axis + 1) % v.length] = tilt;
        return Vectors.normalize(v);
    }

    private static String found(ResponseCache cache, String tenant, float[] vector) {
        Optional<ResponseCache.Similar> s = cache.nearest(tenant, SCOPE, () -> vector, 0.95, e -> true);
        return s.map(x -> new String(x.entry().body(), StandardCharsets.UTF_8)).orElse("none");
    }

    @Test
    void aParaphraseStoredThroughOneReplicaIsFoundByTheOtherWithItsCostAndDocuments() {
        PostgresResponseCache one = replica(), two = replica();
        one.putSimilar("a", SCOPE, "k1", question(0, 0), entry("refunds take ten days"));
        Await.until(VISIBLE, "replica two to find the paraphrase", () -> found(two, "a", question(0, 0.1f)).equals("refunds take ten days"));
        ResponseCache.Similar hit = two.nearest("a", SCOPE, () -> question(0, 0.1f), 0.95, e -> true).orElseThrow();
        assertThat(hit.key()).isEqualTo("k1");
        assertThat(hit.entry().costUsd()).isEqualTo(0.25);
        assertThat(hit.entry().documents()).containsExactly(new ResponseCache.DocumentVersion("doc-1", "v1"));
        assertThat(found(two, "a", question(3, 0))).as("an unrelated question").isEqualTo("none");
    }

    @Test
    void aReplicaStartingLaterHasTheLiveEntriesAsSoonAsItIsOpen() {
        PostgresResponseCache one = replica();
        one.putSimilar("a", SCOPE, "k1", question(0, 0), entry("stored before"));
        one.flush();
        assertThat(found(replica(), "a", question(0, 0.1f))).isEqualTo("stored before");
    }

    @Test
    void aRemovalThroughOneReplicaReachesTheOther() {
        PostgresResponseCache one = replica(), two = replica();
        one.putSimilar("a", SCOPE, "k1", question(0, 0), entry("stale soon"));
        Await.until(VISIBLE, "replica two to find the entry", () -> !found(two, "a", question(0, 0)).equals("none"));
        one.remove("a", "k1");
        Await.until(VISIBLE, "replica two to forget the entry", () -> found(two, "a", question(0, 0)).equals("none"));
        assertThat(found(one, "a", question(0, 0))).isEqualTo("none");
        assertThat(found(replica(), "a", question(0, 0))).as("a replica started afterwards").isEqualTo("none");
    }

    @Test
    void anEntryExpiresOnEveryReplicaAndIsNotLoadedAfterItsTimeToLive() {
        CacheConfig shortLived = withSemanticTtl(2);
        PostgresResponseCache one = replica(shortLived), two = replica(shortLived);
        one.putSimilar("a", SCOPE, "k1", question(0, 0), entry("short-lived"));
        Await.until(VISIBLE, "replica two to find the entry", () -> found(two, "a", question(0, 0)).equals("short-lived"));
        Await.until(VISIBLE, "the entry to expire on replica two", () -> found(two, "a", question(0, 0)).equals("none"));
        assertThat(found(replica(shortLived), "a", question(0, 0))).as("a replica started after expiry").isEqualTo("none");
    }

    @Test
    void anotherTenantNeverFindsAnEntryWhateverTheScopeKeyAndVector() {
        PostgresResponseCache one = replica(), two = replica();
        one.putSimilar("a", SCOPE, "k1", question(0, 0), entry("A's secret"));
        Await.until(VISIBLE, "replica two to find A's entry for A", () -> found(two, "a", question(0, 0)).equals("A's secret"));
        assertThat(found(two, "b", question(0, 0))).isEqualTo("none");
        assertThat(found(one, "b", question(0, 0))).isEqualTo("none");
        two.remove("b", "k1");
        one.putSimilar("b", SCOPE, "k2", question(1, 0), entry("B's marker"));
        Await.until(VISIBLE, "B's own entry on replica two", () -> found(two, "b", question(1, 0)).equals("B's marker"));
        assertThat(found(two, "a", question(0, 0))).as("B's removal of key k1 does not touch A's k1").isEqualTo("A's secret");
    }

    @Test
    void tenantsAndKeysWithColonsAndDigitsCannotPassForEachOther() {
        PostgresResponseCache one = replica(), two = replica();
        one.putSimilar("1:a", SCOPE, "b", question(0, 0), entry("tenant 1:a"));
        one.putSimilar("1:", SCOPE, "ab", question(0, 0), entry("tenant 1:"));
        Await.until(VISIBLE, "both entries on replica two",
                () -> found(two, "1:a", question(0, 0)).equals("tenant 1:a") && found(two, "1:", question(0, 0)).equals("tenant 1:"));
        one.remove("1:", "ab");
        Await.until(VISIBLE, "the removal on replica two", () -> found(two, "1:", question(0, 0)).equals("none"));
        assertThat(found(two, "1:a", question(0, 0))).isEqualTo("tenant 1:a");
    }

    @Test
    void entriesOverTheSizeBoundOrUnreadableAreNeitherStoredNorTaken() throws Exception {
        PostgresResponseCache one = replica(), two = replica();
        one.putSimilar("a", SCOPE, "big", question(0, 0), entry("x".repeat(CacheConfig.DEFAULTS.maxEntryBytes() + 1)));
        insertUnannounced("a", "garbage", question(1, 0), new byte[] {1, 2, 3});
        insertUnannounced("a", "odd-vector", new byte[] {1, 2, 3}, RedisResponseCache.encode(entry("odd")));
        one.putSimilar("a", SCOPE, "marker", question(2, 0), entry("marker"));
        Await.until(VISIBLE, "the marker stored after them on replica two", () -> found(two, "a", question(2, 0)).equals("marker"));
        assertThat(found(two, "a", question(0, 0))).isEqualTo("none");
        assertThat(found(one, "a", question(0, 0))).isEqualTo("none");
        assertThat(found(replica(), "a", question(1, 0))).as("a replica loading the garbage row").isEqualTo("none");
    }

    @Test
    void aReplicaThatLostItsListeningConnectionReloadsWhatItMissed() throws Exception {
        PostgresResponseCache two = replica();
        insertUnannounced("a", "unannounced", question(0, 0), RedisResponseCache.encode(entry("missed while away")));
        assertThat(found(two, "a", question(0, 0))).isEqualTo("none");
        try (Connection c = superuser(); PreparedStatement ps = c.prepareStatement(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?")) {
            ps.setString(1, SemanticCacheTable.APPLICATION_NAME);
            ps.executeQuery().close();
        }
        Await.until(VISIBLE, "the reconnected replica to load the row", () -> found(two, "a", question(0, 0)).equals("missed while away"));
        assertThat(two.following()).isTrue();
    }

    @Test
    void whilePostgresIsDownLookupsAndStoresCarryOnAndBothReplicasCatchUpWithoutRestarting() throws Exception {
        PostgresResponseCache one = replica(), two = replica();
        one.putSimilar("a", SCOPE, "before", question(0, 0), entry("before"));
        Await.until(VISIBLE, "replica two to find the first entry", () -> found(two, "a", question(0, 0)).equals("before"));
        try {
            POSTGRES.server().stop();
            Await.until(VISIBLE, "both replicas to notice", () -> !one.following() && !two.following());
            assertThat(found(two, "a", question(0, 0))).as("this replica's copy still answers").isEqualTo("before");
            assertThat(found(two, "a", question(1, 0))).isEqualTo("none");
            two.putSimilar("a", SCOPE, "during", question(1, 0), entry("stored during the outage"));
            assertThat(found(two, "a", question(1, 0))).isEqualTo("stored during the outage");
        } finally {
            POSTGRES.server().restart();
        }
        Await.until(VISIBLE, "both replicas to listen again", () -> one.following() && two.following());
        Await.until(VISIBLE, "replica one to pick up what replica two stored during the outage",
                () -> found(one, "a", question(1, 0)).equals("stored during the outage"));
        one.putSimilar("a", SCOPE, "after", question(2, 0), entry("after"));
        Await.until(VISIBLE, "replica two to follow new entries again", () -> found(two, "a", question(2, 0)).equals("after"));
        assertThat(registry.counter("keel.semantic_cache.failures", "operation", "listen").count()).isPositive();
    }

    private Connection superuser() throws Exception {
        return DriverManager.getConnection(url, PostgresServer.USER, POSTGRES.server().password());
    }

    /** A row written behind the replicas' backs: no NOTIFY, as if its announcement was lost. */
    private void insertUnannounced(String tenant, String key, Object vector, byte[] entry) throws Exception {
        byte[] bytes = vector instanceof float[] v ? floats(v) : (byte[]) vector;
        try (Connection c = superuser(); PreparedStatement ps = c.prepareStatement("INSERT INTO semantic_cache (tenant, key, scope, vector, entry, expires_at)"
                + " VALUES (?, ?, ?, ?, ?, (extract(epoch from clock_timestamp()) * 1000)::bigint + 600000)")) {
            ps.setString(1, tenant);
            ps.setString(2, key);
            ps.setString(3, SCOPE);
            ps.setBytes(4, bytes);
            ps.setBytes(5, entry);
            ps.executeUpdate();
        }
    }

    private static byte[] floats(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * Float.BYTES);
        b.asFloatBuffer().put(v);
        return b.array();
    }
}
