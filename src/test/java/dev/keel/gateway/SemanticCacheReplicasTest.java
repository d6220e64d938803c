package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.config.StoreConfig;
import dev.keel.engines.Await;
import dev.keel.engines.PostgresServer;
import dev.keel.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two Keel servers over one real PostgreSQL ({@code store.url}) and one fake upstream: a paraphrase of
 * a question answered through one replica is a semantic hit on the other, for the same tenant only.
 */
class SemanticCacheReplicasTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String ADMIN = "admin-secret-semantic-replicas";
    private static final Duration VISIBLE = Duration.ofSeconds(20);
    private static PostgresServer postgres;
    private static FakeLlmServer upstream;
    private static final List<Replica> replicas = new ArrayList<>();

    private record Replica(Keel keel, HttpServer server, String base) {}

    @BeforeAll
    static void startReplicas() throws Exception {
        postgres = PostgresServer.start();
        upstream = new FakeLlmServer();
        StoreConfig store = postgres.storeConfig();
        String yaml = """
                server: {port: 0, admin_key: %s}
                store: {url: '%s', user: %s, password: '${PGPASSWORD}', pool_size: 2}
                providers:
                  primary: {type: openai, base_url: %s, max_retries: 0}
                models:
                  fast:
                    targets:
                      - {provider: primary, model: upstream-fast-001, input_per_mtok: 1.0, output_per_mtok: 2.0}
                """.formatted(ADMIN, store.url(), store.user(), upstream.baseUrl());
        for (int i = 0; i < 2; i++) {
            Keel keel = Keel.open(KeelConfig.parse(yaml, Map.of("PGPASSWORD", store.password())::get), Files.createTempDirectory("keel-semantic-replica-"));
            HttpServer server = new HttpServer(keel);
            replicas.add(new Replica(keel, server, "http://127.0.0.1:" + server.start()));
        }
    }

    @AfterAll
    static void stopReplicas() {
        for (Replica r : replicas) {
            r.server.close();
            r.keel.close();
        }
        if (upstream != null) upstream.close();
        if (postgres != null) postgres.close();
    }

    @BeforeEach
    void resetUpstream() {
        upstream.reset();
    }

    private static HttpResponse<String> send(int replica, String method, String path, String bearer, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(replicas.get(replica).base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + bearer);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A key of a new tenant, created through replica 0. */
    private static String key() throws Exception {
        HttpResponse<String> r = send(0, "POST", "/admin/keys", ADMIN, "{\"name\":\"k\",\"tenant\":\"t-" + UUID.randomUUID().toString().substring(0, 8) + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key").asText();
    }

    private static HttpResponse<String> chat(int replica, String key, String question) throws Exception {
        ObjectNode r = JSON.createObjectNode().put("model", "fast").put("temperature", 0);
        r.putArray("messages").addObject().put("role", "user").put("content", question);
        return send(replica, "POST", "/v1/chat/completions", key, r.toString());
    }

    /** From now on the upstream refuses: a miss while waiting for the other replica is answered with an error, which is never cached. */
    private static void refuseFromNowOn() {
        upstream.then(FakeLlmServer.status(400, "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"refused\"}}", Map.of()));
    }

    private static String cacheHeader(HttpResponse<String> r) {
        return r.headers().firstValue("x-keel-cache").orElse("absent");
    }

    private static String cacheOn(int replica, String key, String question) {
        try {
            return cacheHeader(chat(replica, key, question));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aParaphraseOfAQuestionAnsweredThroughOneReplicaIsASemanticHitOnTheOther() throws Exception {
        String key = key();
        upstream.then(FakeLlmServer.ok("Within ten business days."));
        assertThat(cacheHeader(chat(0, key, "How long does it take to get a refund?"))).isEqualTo("miss");
        refuseFromNowOn();
        Await.until(VISIBLE, "replica 1 to serve the paraphrase from the cache",
                () -> cacheOn(1, key, "How long does it take to get a refund").equals("hit-semantic"));
        HttpResponse<String> hit = chat(1, key, "How long does it take to get a refund");
        assertThat(JSON.readTree(hit.body()).at("/choices/0/message/content").asText()).isEqualTo("Within ten business days.");
        assertThat(upstream.received.getFirst().body().at("/messages/0/content").asText()).isEqualTo("How long does it take to get a refund?");
    }

    @Test
    void anotherTenantAskingTheSameQuestionOnTheOtherReplicaIsNeverServedTheFirstTenantsAnswer() throws Exception {
        String a = key(), b = key();
        upstream.then(FakeLlmServer.ok("A's merger code name is Falcon."));
        chat(0, a, "What is our merger code name?");
        refuseFromNowOn();
        Await.until(VISIBLE, "tenant A's paraphrase to hit on replica 1", () -> cacheOn(1, a, "What is our merger code name").equals("hit-semantic"));
        upstream.reset(); // the refusal may still be scripted if the first poll hit
        upstream.then(FakeLlmServer.ok("B's own answer."));
        HttpResponse<String> other = chat(1, b, "What is our merger code name");
        assertThat(cacheHeader(other)).isEqualTo("miss");
        assertThat(JSON.readTree(other.body()).at("/choices/0/message/content").asText()).isEqualTo("B's own answer.");
    }

    @Test
    void readinessReportsTheSharedSemanticCacheWithoutCredentials() throws Exception {
        HttpResponse<String> r = send(1, "GET", "/health/ready", ADMIN, null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode cache = JSON.readTree(r.body()).get("semantic_cache");
        assertThat(cache.get("shared").asText()).isEqualTo("postgresql");
        assertThat(cache.get("status").asText()).isEqualTo("up");
        assertThat(r.body()).doesNotContain(postgres.password());
    }
}
