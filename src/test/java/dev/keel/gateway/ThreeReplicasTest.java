package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.config.StoreConfig;
import dev.keel.engines.Await;
import dev.keel.engines.KeelProcess;
import dev.keel.engines.PostgresServer;
import dev.keel.engines.RedisServer;
import dev.keel.engines.RoundRobinProxy;
import dev.keel.engines.SolrCloud;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Keel as an operator scales it out: three {@code keel serve} processes over one PostgreSQL, one
 * Redis and a SolrCloud of two nodes, all real servers started here, behind a round-robin balancer,
 * with the fake LLM at the network edge. Any replica answers any request; limits and budgets hold
 * across them; a replica killed with {@code kill -9} under load loses nothing it acknowledged.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThreeReplicasTest {
    private static final String ADMIN = "admin-secret-of-three-replicas";
    private static final String REDIS_PASSWORD = "redis-secret-of-three-replicas";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Input $1/Mtok, output $2/Mtok; a request with max_tokens 1000 reserves about $0.002, so this fits three. */
    private static final double BUDGET_FOR_THREE = 0.0065;

    private static PostgresServer postgres;
    private static RedisServer redis;
    private static SolrCloud solr;
    private static FakeLlmServer upstream;
    private static final List<KeelProcess> replicas = new ArrayList<>();
    private static RoundRobinProxy balancer;

    @BeforeAll
    static void startEnginesReplicasAndBalancer() throws Exception {
        postgres = PostgresServer.start();
        redis = RedisServer.openWithPassword(REDIS_PASSWORD);
        solr = SolrCloud.start();
        upstream = new FakeLlmServer();
        StoreConfig store = postgres.storeConfig();
        Path dir = Files.createTempDirectory("keel-three-replicas-");
        Path config = Files.writeString(dir.resolve("keel.yaml"), """
                server: {port: 0, admin_key: "${KEEL_ADMIN_KEY}"}
                store: {url: "%s", user: %s, password: "${PGPASSWORD}"}
                redis: {url: "redis://:${REDIS_PASSWORD}@127.0.0.1:%d"}
                index: {kind: solr, solr: {urls: [%s]}}
                providers:
                  primary: {type: openai, base_url: %s, max_retries: 0}
                models:
                  fast:
                    targets:
                      - {provider: primary, model: upstream-fast-001, input_per_mtok: 1.0, output_per_mtok: 2.0}
                """.formatted(store.url(), store.user(), redis.port(), String.join(", ", solr.nodeUrls()), upstream.baseUrl()));
        Map<String, String> env = Map.of("KEEL_ADMIN_KEY", ADMIN, "PGPASSWORD", store.password(), "REDIS_PASSWORD", REDIS_PASSWORD);
        for (int i = 1; i <= 3; i++) replicas.add(KeelProcess.start(config, dir.resolve("replica-" + i), env));
        balancer = new RoundRobinProxy(replicas.stream().map(KeelProcess::baseUrl).toList());
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (balancer != null) balancer.close();
        for (KeelProcess r : replicas) r.close();
        if (upstream != null) upstream.close();
        if (solr != null) solr.close();
        if (redis != null) redis.close();
        if (postgres != null) postgres.close();
    }

    @Test
    @Order(1)
    void readinessReportsEveryEngineOnEveryReplica() throws Exception {
        for (KeelProcess replica : replicas) {
            HttpResponse<String> r = send(replica.baseUrl(), "GET", "/health/ready", ADMIN, null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode body = JSON.readTree(r.body());
            assertThat(body.at("/store/kind").asText()).isEqualToIgnoringCase("postgresql");
            assertThat(body.at("/store/reachable").asBoolean()).isTrue();
            assertThat(body.at("/redis/status").asText()).isEqualTo("up");
            assertThat(body.has("index")).as(r.body()).isTrue();
            assertThat(r.body()).doesNotContain(postgres.password()).doesNotContain(REDIS_PASSWORD);
        }
    }

    @Test
    @Order(2)
    void aDocumentIngestedThroughOneReplicaIsAnsweredThroughAnother() throws Exception {
        String key = key("docs");
        HttpResponse<String> put = send(replicas.get(0).baseUrl(), "POST", "/v1/documents", key,
                "{\"id\":\"harbour\",\"text\":\"The harbour master of Keelport is Ada Quayle. She took office in 2019.\"}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
        HttpResponse<String> answer = send(replicas.get(2).baseUrl(), "POST", "/v1/answer", key, "{\"question\":\"Who is the harbour master of Keelport?\"}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(answer.body());
        assertThat(body.get("answer").asText()).contains("Ada Quayle");
        assertThat(body.get("citations").toString()).contains("harbour");
        HttpResponse<String> otherTenant = send(replicas.get(1).baseUrl(), "GET", "/v1/documents/harbour", key("elsewhere"), null);
        assertThat(otherTenant.statusCode()).isEqualTo(404);
    }

    @Test
    @Order(2)
    void aNewTenantsFirstDocumentsWrittenThroughEveryReplicaAtOnceAreAllStored() throws Exception {
        for (int round = 0; round < 3; round++) {
            String key = key("first");
            List<HttpResponse<String>> puts = concurrently(6, i -> send(replicas.get(i % 3).baseUrl(), "POST", "/v1/documents", key,
                    "{\"id\":\"first-" + i + "\",\"text\":\"Opening note number " + i + " of a brand new tenant.\"}"));
            assertThat(puts).allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(201));
            for (int i = 0; i < 6; i++) {
                assertThat(send(replicas.get((i + 1) % 3).baseUrl(), "GET", "/v1/documents/first-" + i, key, null).statusCode()).isEqualTo(200);
            }
        }
    }

    @Test
    @Order(3)
    void aDailyBudgetHoldsForConcurrentRequestsSpreadOverAllReplicas() throws Exception {
        String key = key("budget", ",\"daily_budget_usd\":" + BUDGET_FOR_THREE);
        upstream.reset();
        CountDownLatch release = new CountDownLatch(1);
        upstream.then(FakeLlmServer.spendsItsLimit(release, 60));
        AtomicInteger refused = new AtomicInteger();
        List<Future<HttpResponse<String>>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 30; i++) {
                futures.add(pool.submit(() -> {
                    HttpResponse<String> r = chat(key, ",\"max_tokens\":1000");
                    if (r.statusCode() != 200) refused.incrementAndGet();
                    return r;
                }));
            }
            Await.until(Duration.ofSeconds(60), "every request to reach the upstream or be refused", () -> upstream.received.size() + refused.get() >= 30);
            assertThat(upstream.received).as("requests admitted while all were in flight, over three replicas").hasSize(3);
            release.countDown();
            List<HttpResponse<String>> responses = new ArrayList<>();
            for (Future<HttpResponse<String>> f : futures) responses.add(f.get(2, TimeUnit.MINUTES));
            assertThat(responses).filteredOn(r -> r.statusCode() == 200).hasSize(3);
            assertThat(responses).filteredOn(r -> r.statusCode() != 200)
                    .allSatisfy(r -> assertThat(JSON.readTree(r.body()).at("/error/code").asText()).as(r.body()).isEqualTo("budget_exceeded"));
        }
        Await.until(Duration.ofSeconds(30), "the three requests' ledger rows in PostgreSQL", () -> spent(key) >= 3 * 0.002);
        assertThat(spent(key)).isLessThanOrEqualTo(BUDGET_FOR_THREE);
        assertThat(chat(key, ",\"max_tokens\":1000").statusCode()).isEqualTo(429);
    }

    @Test
    @Order(4)
    void aRequestsPerMinuteLimitHoldsForConcurrentRequestsSpreadOverAllReplicas() throws Exception {
        String key = key("rpm", ",\"requests_per_minute\":5");
        List<HttpResponse<String>> responses = concurrently(24, i -> chat(key, ""));
        assertThat(responses).filteredOn(r -> r.statusCode() == 200).hasSize(5);
        assertThat(responses).filteredOn(r -> r.statusCode() == 429).hasSize(19);
    }

    @Test
    @Order(5)
    void killingOneReplicaUnderLoadLosesNothingAcknowledged() throws Exception {
        String key = key("crash");
        AtomicBoolean killed = new AtomicBoolean();
        List<String> acknowledged = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Integer> afterKill = java.util.Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    for (int i = 0; i < 15; i++) {
                        String id = "doc-" + writer + "-" + i;
                        boolean after = killed.get();
                        HttpResponse<String> r = send(balancer.baseUrl(), "POST", "/v1/documents", key,
                                "{\"id\":\"" + id + "\",\"text\":\"Ledger note " + id + " records cargo number " + writer * 100 + i + ".\"}");
                        if (r.statusCode() == 201) acknowledged.add(id);
                        if (after) afterKill.add(r.statusCode());
                        if (writer == 0 && i == 5) {
                            replicas.get(1).kill();
                            killed.set(true);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : writers) f.get(5, TimeUnit.MINUTES);
        }
        assertThat(replicas.get(1).alive()).isFalse();
        assertThat(afterKill).as("statuses of requests sent after the kill").isNotEmpty().allMatch(s -> s == 201);
        assertThat(acknowledged.size()).isGreaterThan(50);
        for (String id : acknowledged) {
            HttpResponse<String> r = send(replicas.get(2).baseUrl(), "GET", "/v1/documents/" + id, key, null);
            assertThat(r.statusCode()).as("acknowledged document " + id).isEqualTo(200);
        }
        HttpResponse<String> chat = chat(key, "");
        assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
    }

    private static double spent(String key) {
        try {
            double sum = 0;
            for (JsonNode row : JSON.readTree(send(balancer.baseUrl(), "GET", "/v1/usage?group_by=key", key, null).body()).get("data")) {
                sum += row.get("cost_usd").asDouble();
            }
            return sum;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private interface Call {
        HttpResponse<String> run(int i) throws Exception;
    }

    private static List<HttpResponse<String>> concurrently(int n, Call call) throws Exception {
        List<Future<HttpResponse<String>>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> call.run(index)));
            }
            List<HttpResponse<String>> out = new ArrayList<>();
            for (Future<HttpResponse<String>> f : futures) out.add(f.get(2, TimeUnit.MINUTES));
            return out;
        }
    }

    private static HttpResponse<String> chat(String key, String extra) throws Exception {
        return send(balancer.baseUrl(), "POST", "/v1/chat/completions", key,
                "{\"model\":\"fast\"" + extra + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello there " + UUID.randomUUID() + "\"}]}");
    }

    private static String key(String name) throws Exception {
        return key(name, "");
    }

    /** A key for a fresh tenant, created through the balancer (any replica); {@code fields} are more JSON fields after a comma. */
    private static String key(String name, String fields) throws Exception {
        String tenant = name + "-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> r = send(balancer.baseUrl(), "POST", "/admin/keys", ADMIN, "{\"name\":\"" + name + "\",\"tenant\":\"" + tenant + "\"" + fields + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key").asText();
    }

    private static HttpResponse<String> send(String base, String method, String path, String bearer, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (bearer != null) b.header("Authorization", "Bearer " + bearer);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
