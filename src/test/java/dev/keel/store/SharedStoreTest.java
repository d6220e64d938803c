package dev.keel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.StoreConfig;
import dev.keel.engines.Await;
import dev.keel.engines.PostgresServer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What replicas sharing one PostgreSQL see of each other's keys and traces, and how an unreachable one fails. */
class SharedStoreTest {
    private static final Path NO_DATA_DIR = Path.of("unused");
    @RegisterExtension
    static final PostgresServer.PerClass POSTGRES = new PostgresServer.PerClass();
    private StoreConfig config;
    private Database replica1, replica2;


    private void openReplicas() {
        config = POSTGRES.server().storeConfig();
        replica1 = Database.open(config, NO_DATA_DIR);
        replica2 = Database.open(config, NO_DATA_DIR);
    }

    @AfterEach
    void close() {
        if (replica1 != null) replica1.close();
        if (replica2 != null) replica2.close();
    }

    @Test
    void aKeyCreatedOnOneReplicaAuthenticatesOnTheOtherAtOnce() {
        openReplicas();
        ApiKeys keys1 = new ApiKeys(replica1), keys2 = new ApiKeys(replica2);
        assertThat(keys2.anyCreated()).isFalse();
        ApiKeys.Created created = keys1.create("ci", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of());
        assertThat(keys2.anyCreated()).as("open mode ends on every replica with the first key").isTrue();
        assertThat(keys2.authenticate(created.secret())).contains(created.key());
    }

    @Test
    void aRevocationOnOneReplicaReachesTheOtherWithinItsCacheTime() {
        openReplicas();
        Duration cacheTtl = Duration.ofMillis(300);
        ApiKeys keys1 = new ApiKeys(replica1, cacheTtl), keys2 = new ApiKeys(replica2, cacheTtl);
        ApiKeys.Created created = keys1.create("ci", "acme", List.of(), 0, 0, 0, 0, 0, true, null, List.of());
        assertThat(keys2.authenticate(created.secret())).isPresent();
        long revokedAt = System.nanoTime();
        keys1.revoke(created.key().id());
        assertThat(keys1.authenticate(created.secret())).as("at once where it was revoked").isEmpty();
        Await.until(Duration.ofSeconds(5), "the other replica refuses the revoked key", () -> keys2.authenticate(created.secret()).isEmpty());
        assertThat(Duration.ofNanos(System.nanoTime() - revokedAt)).isLessThan(cacheTtl.plusSeconds(2));
    }

    @Test
    void theDefaultSharedCacheTimeIsTheDocumentedBound() {
        assertThat(ApiKeys.SHARED_CACHE_TTL).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void callersGetConnectionsOfTheirOwnInsteadOfQueueingOnOne() throws Exception {
        openReplicas();
        CyclicBarrier bothInside = new CyclicBarrier(2);
        CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> replica1.withConnection(c -> await(bothInside)));
        boolean second = replica1.withConnection(c -> await(bothInside));
        assertThat(second).isTrue();
        assertThat(first.get(10, TimeUnit.SECONDS)).isTrue();
    }

    private static boolean await(CyclicBarrier barrier) {
        try {
            barrier.await(10, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void replicasStartingTogetherOnAnEmptyDatabaseMigrateItOnce() throws Exception {
        StoreConfig fresh = POSTGRES.server().storeConfig(); // a new, empty database
        List<CompletableFuture<Database>> starting = java.util.stream.IntStream.range(0, 3)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> Database.open(fresh, NO_DATA_DIR))).toList();
        List<Database> started = new java.util.ArrayList<>();
        try {
            for (CompletableFuture<Database> f : starting) started.add(f.get(60, TimeUnit.SECONDS));
            long applied = started.getFirst().withConnection(c -> {
                try (var rs = c.createStatement().executeQuery("SELECT count(*) FROM flyway_schema_history WHERE success")) {
                    return rs.next() ? rs.getLong(1) : -1L;
                }
            });
            assertThat(applied).as("V7 to V14 once each").isEqualTo(8);
        } finally {
            started.forEach(Database::close);
        }
    }

    @Test
    void aSharedDatabaseMigratedByANewerKeelIsRefused() {
        openReplicas();
        replica1.withConnection(c -> c.createStatement().executeUpdate("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
                + " checksum, installed_by, execution_time, success) VALUES (100, '15', 'from the future', 'SQL', 'V15__future.sql', 0, 'keel', 1, true)"));
        assertThatThrownBy(() -> Database.open(config, NO_DATA_DIR)).isInstanceOf(StoreException.class)
                .hasMessageContaining("database schema version 15 is newer than this Keel (14); upgrade Keel");
    }

    @Test
    void anUnreachableServerFailsFastNamingItsAddressButNotThePassword() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        StoreConfig unreachable = StoreConfig.postgres("postgres://keel:hunter2@127.0.0.1:" + closedPort + "/keel", null, null, 2, 2_000, 60);
        long start = System.nanoTime();
        assertThatThrownBy(() -> Database.open(unreachable, NO_DATA_DIR)).isInstanceOf(StoreException.class)
                .hasMessageContaining("PostgreSQL at 127.0.0.1:" + closedPort + "/keel").hasMessageNotContaining("hunter2");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aWrongPasswordIsReportedWithoutIt() {
        StoreConfig good = POSTGRES.server().storeConfig();
        StoreConfig wrong = StoreConfig.postgres(good.url(), good.user(), "not-" + good.password(), 2, 2_000, 60);
        assertThatThrownBy(() -> Database.open(wrong, NO_DATA_DIR)).isInstanceOf(StoreException.class)
                .hasMessageContaining(good.address()).hasMessageContaining("password authentication failed")
                .hasMessageNotContaining(good.password());
    }

    @Test
    void healthNamesKindAndAddressAndNoCredentials() {
        openReplicas();
        Database.Health health = replica1.health();
        assertThat(health.kind()).isEqualTo("postgresql");
        assertThat(health.reachable()).isTrue();
        assertThat(health.address()).isEqualTo("127.0.0.1:" + POSTGRES.server().port() + config.url().substring(config.url().lastIndexOf('/')));
        assertThat(health.toString()).doesNotContain(POSTGRES.server().password());
    }

    @Test
    void aFinishedTraceIsFoundFromAnyReplicaButOnlyByItsTenant() {
        openReplicas();
        try (TraceArchive archive1 = new TraceArchive(replica1, Duration.ofHours(1)); TraceArchive archive2 = new TraceArchive(replica2, Duration.ofHours(1))) {
            archive1.save("trace-1", "acme", json("first"));
            archive1.save("trace-1", "acme", json("with a late attribute"));
            archive1.flush();
            assertThat(archive2.find("trace-1", "acme")).hasValueSatisfying(j -> assertThat(new String(j, StandardCharsets.UTF_8)).contains("late attribute"));
            assertThat(archive2.find("trace-1", "other")).isEmpty();
            assertThat(archive2.find("no-such-trace", "acme")).isEmpty();
        }
    }

    @Test
    void tracesExpireAfterTheRetentionAndAreThenDeleted() {
        openReplicas();
        AtomicLong now = new AtomicLong(1_000_000);
        Duration retention = Duration.ofMinutes(5);
        try (TraceArchive archive = new TraceArchive(replica1, retention, now::get)) {
            archive.save("old", "acme", json("old"));
            archive.flush();
            assertThat(archive.find("old", "acme")).isPresent();
            now.addAndGet(retention.toMillis() + 1);
            assertThat(archive.find("old", "acme")).as("expired: no longer answered").isEmpty();
            archive.save("new", "acme", json("new"));
            archive.flush();
            assertThat(rows(replica1)).as("the next write deleted the expired row").isEqualTo(1);
            assertThat(archive.find("new", "acme")).isPresent();
        }
    }

    private static long rows(Database db) {
        return db.withConnection(c -> {
            try (var rs = c.createStatement().executeQuery("SELECT count(*) FROM traces")) {
                return rs.next() ? rs.getLong(1) : -1L;
            }
        });
    }

    private static byte[] json(String text) {
        return ("{\"note\":\"" + text + "\"}").getBytes(StandardCharsets.UTF_8);
    }
}
