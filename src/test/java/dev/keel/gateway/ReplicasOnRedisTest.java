package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.engines.RedisServer;
import dev.keel.http.HttpServer;
import dev.keel.store.StoreException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Two Keel replicas behind their own HTTP servers, over one metadata database, one real Redis (with a
 * password) and one fake upstream: a budget and a rate limit hold whichever replica a request reaches,
 * a response cached by one is served by the other, and Redis going away and coming back is seen in
 * readiness and handled by policy without restarting either replica. Model "fast" costs $1/M input
 * and $2/M output tokens: a request with max_tokens 1000 can cost about $0.00201.
 */
class ReplicasOnRedisTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String ADMIN_KEY = "admin-secret-for-replicas";
    private static final String REDIS_PASSWORD = "redis-pw-never-shown-7f3a";
    /** Fits three requests of max_tokens 1000 but not four. */
    private static final double BUDGET_FOR_THREE = 0.0065;
    private static RedisServer redis;
    private static FakeLlmServer upstream;
    private static final List<Replica> replicas = new ArrayList<>();

    private record Replica(Keel keel, HttpServer server, String base) {}

    @BeforeAll
    static void startReplicas() throws Exception {
        redis = RedisServer.openWithPassword(REDIS_PASSWORD);
        upstream = new FakeLlmServer();
        Path shared = Files.createTempDirectory("keel-replicas-db-");
        for (int i = 0; i < 2; i++) {
            Keel keel = Keel.openWithSharedCache(KeelConfig.parse(yaml(redis.url()), k -> null), Files.createTempDirectory("keel-replica-"), shared);
            HttpServer server = new HttpServer(keel);
            replicas.add(new Replica(keel, server, "http://127.0.0.1:" + server.start()));
        }
    }

    private static String yaml(String redisUrl) {
        return """
                server: {port: 0, admin_key: %s}
                redis: {url: "%s", timeout_ms: 300}
                providers:
                  primary: {type: openai, base_url: %s, max_retries: 0}
                models:
                  fast:
                    targets:
                      - {provider: primary, model: upstream-fast-001, input_per_mtok: 1.0, output_per_mtok: 2.0}
                """.formatted(ADMIN_KEY, redisUrl, upstream.baseUrl());
    }

    @AfterAll
    static void stopReplicas() {
        for (Replica r : replicas) {
            r.server.close();
            r.keel.close();
        }
        if (upstream != null) upstream.close();
        if (redis != null) redis.close();
    }

    @BeforeEach
    void resetUpstreamAndRedis() {
        redis.start();
        upstream.reset();
    }

    private static HttpResponse<String> send(int replica, String method, String path, String bearer, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(replicas.get(replica).base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (bearer != null) b.header("Authorization", "Bearer " + bearer);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A key created through replica 0; its fields are more JSON fields after a comma. */
    private static String key(String fields) throws Exception {
        HttpResponse<String> r = send(0, "POST", "/admin/keys", ADMIN_KEY,
                "{\"name\":\"k\",\"tenant\":\"t-" + UUID.randomUUID().toString().substring(0, 8) + "\"" + fields + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key").asText();
    }

    private static HttpResponse<String> chat(int replica, String key, String extra) throws Exception {
        return send(replica, "POST", "/v1/chat/completions", key,
                "{\"model\":\"fast\"" + extra + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}");
    }

    private static void await(String what, BooleanSupplier condition) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(until);
            Thread.onSpinWait();
        }
    }

    private static int status(int replica, String key, String extra) {
        try {
            return chat(replica, key, extra).statusCode();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aDailyBudgetHoldsForConcurrentRequestsSpreadOverBothReplicas() throws Exception {
        String key = key(",\"daily_budget_usd\":" + BUDGET_FOR_THREE);
        CountDownLatch release = new CountDownLatch(1);
        upstream.then(FakeLlmServer.spendsItsLimit(release, 30));
        AtomicInteger refused = new AtomicInteger();
        List<Future<HttpResponse<String>>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 10; i++) {
                int replica = i % 2;
                results.add(pool.submit(() -> {
                    HttpResponse<String> r = chat(replica, key, ",\"max_tokens\":1000");
                    if (r.statusCode() != 200) refused.incrementAndGet();
                    return r;
                }));
            }
            await("every request to reach the upstream or be refused", () -> upstream.received.size() + refused.get() >= 10);
            assertThat(upstream.received).as("requests that reached the upstream while all were in flight").hasSize(3);
            release.countDown();
            List<HttpResponse<String>> responses = new ArrayList<>();
            for (Future<HttpResponse<String>> f : results) responses.add(f.get(30, TimeUnit.SECONDS));
            assertThat(responses).filteredOn(r -> r.statusCode() == 200).hasSize(3);
            assertThat(responses).filteredOn(r -> r.statusCode() == 429).hasSize(7)
                    .allSatisfy(r -> assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("budget_exceeded"));
        }
        double spent = 0;
        for (Replica r : replicas) r.keel.ledger().flush();
        for (JsonNode row : JSON.readTree(send(1, "GET", "/v1/usage?group_by=key", key, null).body()).get("data")) spent += row.get("cost_usd").asDouble();
        assertThat(spent).isPositive().isLessThanOrEqualTo(BUDGET_FOR_THREE);
        HttpResponse<String> after = chat(1, key, ",\"max_tokens\":1000");
        assertThat(after.statusCode()).isEqualTo(429);
        assertThat(JSON.readTree(after.body()).at("/error/message").asText()).contains("resets at");
    }

    @Test
    void aRequestsPerMinuteLimitHoldsAcrossReplicas() throws Exception {
        String key = key(",\"requests_per_minute\":3");
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 6; i++) statuses.add(status(i % 2, key, ""));
        assertThat(statuses).containsExactly(200, 200, 200, 429, 429, 429);
        assertThat(upstream.received).hasSize(3);
    }

    @Test
    void aResponseCachedByOneReplicaIsServedByTheOther() throws Exception {
        String key = key("");
        upstream.then(FakeLlmServer.ok("Refunds take ten days."));
        HttpResponse<String> first = chat(0, key, ",\"temperature\":0");
        HttpResponse<String> second = chat(1, key, ",\"temperature\":0");
        assertThat(first.headers().firstValue("x-keel-cache")).contains("miss");
        assertThat(second.headers().firstValue("x-keel-cache")).contains("hit-exact");
        assertThat(JSON.readTree(second.body()).at("/choices/0/message/content").asText()).isEqualTo("Refunds take ten days.");
        assertThat(upstream.received).hasSize(1);
    }

    @Test
    void whileRedisIsDownReadinessSaysSoBudgetsAre503AndBothReplicasRecoverWithoutRestart() throws Exception {
        String budgeted = key(",\"daily_budget_usd\":1"), free = key("");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(log);
        List<String> shown = new ArrayList<>();
        try {
            redis.stop();
            HttpResponse<String> ready = send(0, "GET", "/health/ready", ADMIN_KEY, null);
            shown.add(ready.body());
            assertThat(ready.statusCode()).as("every replica shares Redis: none is taken out of rotation for it").isEqualTo(200);
            assertThat(JSON.readTree(ready.body()).at("/redis/status").asText()).isEqualTo("down");
            for (int replica = 0; replica < 2; replica++) {
                HttpResponse<String> refused = chat(replica, budgeted, ",\"max_tokens\":10");
                shown.add(refused.body());
                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(JSON.readTree(refused.body()).at("/error/code").asText()).isEqualTo("limits_unavailable");
                assertThat(refused.headers().firstValue("Retry-After")).isPresent();
                assertThat(status(replica, free, ",\"temperature\":0")).as("no limit to check, and the cache is only a miss").isEqualTo(200);
            }
            HttpResponse<String> metrics = send(1, "GET", "/metrics", ADMIN_KEY, null);
            shown.add(metrics.body());
            assertThat(metrics.body()).contains("keel_redis_failures_total{operation=\"admit\"").contains("keel_redis_up 0.0");
            redis.start();
            for (int replica = 0; replica < 2; replica++) {
                int r = replica;
                await("replica " + r + " to reach Redis again", () -> status(r, budgeted, ",\"max_tokens\":10") == 200);
            }
            JsonNode back = JSON.readTree(send(1, "GET", "/health/ready", ADMIN_KEY, null).body());
            assertThat(back.at("/redis/status").asText()).isEqualTo("up");
            assertThat(back.at("/redis/address").asText()).isEqualTo("redis://127.0.0.1:" + redis.port());
        } finally {
            root.detachAppender(log);
        }
        assertThat(log.list).isNotEmpty();
        log.list.forEach(e -> shown.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage())));
        assertThat(shown).noneMatch(s -> s.contains(REDIS_PASSWORD));
    }

    @Test
    void readinessShowsRedissEvictionPolicyAndWarnsWhenItCanEvictTheLimitKeys() throws Exception {
        JsonNode quiet = JSON.readTree(send(0, "GET", "/health/ready", ADMIN_KEY, null).body());
        assertThat(quiet.at("/redis/maxmemory_policy").asText()).isEqualTo("noeviction");
        assertThat(quiet.at("/redis/warning").isMissingNode()).isTrue();
        redis.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        try {
            HttpResponse<String> ready = send(1, "GET", "/health/ready", ADMIN_KEY, null);
            assertThat(ready.statusCode()).isEqualTo(200);
            JsonNode details = JSON.readTree(ready.body());
            assertThat(details.at("/redis/maxmemory_policy").asText()).isEqualTo("allkeys-lru");
            assertThat(details.at("/redis/warning").asText()).contains("may evict budget and rate-limit keys").contains("noeviction");
            assertThat(ready.body()).doesNotContain(REDIS_PASSWORD);
        } finally {
            redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction");
        }
    }

    @Test
    void aReplicaThatCannotReachRedisAtStartupFailsNamingItWithoutThePassword() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String url = "redis://:" + REDIS_PASSWORD + "@127.0.0.1:" + closed;
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(log);
        try {
            assertThatThrownBy(() -> Keel.open(KeelConfig.parse(yaml(url), k -> null), Files.createTempDirectory("keel-no-redis-")))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("Redis at redis://127.0.0.1:" + closed)
                    .hasMessageContaining("redis.url")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(REDIS_PASSWORD));
        } finally {
            root.detachAppender(log);
        }
        assertThat(log.list).noneMatch(e -> e.getFormattedMessage().contains(REDIS_PASSWORD)
                || e.getThrowableProxy() != null && String.valueOf(e.getThrowableProxy().getMessage()).contains(REDIS_PASSWORD));
    }
}
