package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.config.StoreConfig;
import dev.keel.engines.Await;
import dev.keel.engines.PostgresServer;
import dev.keel.store.ApiKeys;
import dev.keel.store.StoreException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Two Keel servers over one real PostgreSQL (store.url): either answers for what the other did. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SharedStoreReplicasTest {
    private static final String ADMIN = "admin-secret-of-the-replicas";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static PostgresServer postgres;
    private static Replica one, two;

    private record Replica(Keel keel, HttpServer server, String base) implements AutoCloseable {
        static Replica start(StoreConfig store) throws Exception {
            String yaml = "server: {port: 0, admin_key: " + ADMIN + "}\nstore: {url: '" + store.url() + "', user: " + store.user() + ", password: '${PGPASSWORD}'}\n";
            Keel keel = Keel.open(KeelConfig.parse(yaml, Map.of("PGPASSWORD", store.password())::get), Files.createTempDirectory("keel-replica-"));
            HttpServer server = new HttpServer(keel);
            return new Replica(keel, server, "http://127.0.0.1:" + server.start());
        }

        HttpResponse<String> send(String method, String path, String bearer, String body) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + bearer)
                    .header("Content-Type", "application/json");
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        String key(String tenant) throws Exception {
            HttpResponse<String> r = send("POST", "/admin/keys", ADMIN, "{\"name\":\"k\",\"tenant\":\"" + tenant + "\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            return JSON.readTree(r.body()).get("key").asText();
        }

        @Override
        public void close() {
            server.close();
            keel.close();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        postgres = PostgresServer.start();
        StoreConfig store = postgres.storeConfig();
        one = Replica.start(store);
        two = Replica.start(store);
    }

    @AfterAll
    static void stop() {
        if (two != null) two.close();
        if (one != null) one.close();
        if (postgres != null) postgres.close();
    }

    @Test
    @Order(1)
    void aKeyCreatedThroughOneReplicaIsAcceptedByTheOther() throws Exception {
        String key = one.key("acme");
        assertThat(two.send("GET", "/v1/usage", key, null).statusCode()).isEqualTo(200);
        assertThat(two.send("GET", "/v1/usage", key + "x", null).statusCode()).isEqualTo(401);
    }

    @Test
    @Order(2)
    void aTraceRecordedByOneReplicaIsServedByTheOtherToItsTenantOnly() throws Exception {
        String acme = one.key("acme"), other = one.key("other");
        String traceId = one.send("GET", "/v1/usage", acme, null).headers().firstValue("x-keel-trace-id").orElseThrow();
        Await.until(Duration.ofSeconds(10), "replica two serves the trace of replica one",
                () -> status(two, "/v1/traces/" + traceId, acme) == 200);
        JsonNode trace = JSON.readTree(two.send("GET", "/v1/traces/" + traceId, acme, null).body());
        assertThat(trace.get("id").asText()).isEqualTo(traceId);
        assertThat(two.send("GET", "/v1/traces/" + traceId, other, null).statusCode()).as("another tenant").isEqualTo(404);
        assertThat(one.send("GET", "/v1/traces/" + traceId, other, null).statusCode()).as("another tenant, same replica").isEqualTo(404);
    }

    @Test
    @Order(3)
    void aKeyRevokedThroughOneReplicaIsRefusedByTheOtherWithinTheBound() throws Exception {
        String key = one.key("acme");
        assertThat(two.send("GET", "/v1/usage", key, null).statusCode()).isEqualTo(200);
        String id = JSON.readTree(one.send("GET", "/admin/keys", ADMIN, null).body()).findValuesAsText("id").getLast();
        assertThat(one.send("DELETE", "/admin/keys/" + id, ADMIN, null).statusCode()).isBetween(200, 204);
        assertThat(one.send("GET", "/v1/usage", key, null).statusCode()).isEqualTo(401);
        Await.until(ApiKeys.SHARED_CACHE_TTL.plusSeconds(5), "replica two refuses the revoked key", () -> status(two, "/v1/usage", key) == 401);
    }

    @Test
    @Order(4)
    void readinessReportsTheStoreWithoutItsCredentials() throws Exception {
        HttpResponse<String> r = one.send("GET", "/health/ready", ADMIN, null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode store = JSON.readTree(r.body()).get("store");
        assertThat(store.get("kind").asText()).isEqualTo("postgresql");
        assertThat(store.get("reachable").asBoolean()).isTrue();
        assertThat(store.get("address").asText()).startsWith("127.0.0.1:" + postgres.port() + "/");
        assertThat(r.body()).doesNotContain(postgres.password());
    }

    @Test
    @Order(5)
    void whileTheStoreIsDownRequestsGetA503AndReadinessSaysNotReadyThenBothRecover() throws Exception {
        String cached = one.key("acme");
        assertThat(one.send("GET", "/v1/usage", cached, null).statusCode()).isEqualTo(200);
        postgres.stop();
        try {
            HttpResponse<String> r = two.send("GET", "/v1/usage", "sk-keel-never-seen-before", null);
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("store_unavailable");
            assertThat(r.body()).doesNotContain(postgres.password()).doesNotContain("127.0.0.1:" + postgres.port());
            // A load balancer's health check gives up after a few seconds: readiness answers well within that, not after the pool's 10 s.
            HttpResponse<String> ready = HTTP.send(HttpRequest.newBuilder(URI.create(two.base() + "/health/ready")).timeout(Duration.ofSeconds(6))
                    .header("Authorization", "Bearer " + ADMIN).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("not_ready").contains("postgresql").doesNotContain(postgres.password());
            assertThat(JSON.readTree(ready.body()).at("/store/reachable").asBoolean(true)).as(ready.body()).isFalse();
        } finally {
            postgres.restart();
        }
        Await.until(Duration.ofSeconds(30), "replica two is ready again", () -> status(two, "/health/ready", ADMIN) == 200);
        assertThat(two.send("GET", "/v1/usage", cached, null).statusCode()).isEqualTo(200);
    }

    @Test
    @Order(6)
    void aReplicaWhoseStoreCannotBeReachedRefusesToStartNamingItsAddressButNotThePassword() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String yaml = "store: {url: 'postgres://keel:hunter2@127.0.0.1:" + closed + "/keel', timeout_ms: 2000}\n";
        assertThatThrownBy(() -> Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-replica-")))
                .isInstanceOf(StoreException.class).hasMessageContaining("cannot reach PostgreSQL at 127.0.0.1:" + closed + "/keel")
                .hasMessageNotContaining("hunter2");
    }

    private static int status(Replica replica, String path, String bearer) {
        try {
            return replica.send("GET", path, bearer, null).statusCode();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
