package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.engines.RedisServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;

/**
 * One {@link GatewayFixture} per test class, its fakes and breakers reset before each test; with a
 * real Redis of its own for classes marked {@link OnRedis}.
 */
abstract class GatewayTestBase {
    static GatewayFixture fixture;
    private static RedisServer redis;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** A JSON request to the fixture's server, with a bearer token when {@code bearer} is not null. */
    static HttpResponse<String> send(String method, String path, String bearer, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fixture.base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (bearer != null) b.header("Authorization", "Bearer " + bearer);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Creates an API key through the admin API; the answer holds its {@code id} and secret {@code key}. */
    static JsonNode createKey(String json) throws Exception {
        HttpResponse<String> r = send("POST", "/admin/keys", GatewayFixture.ADMIN_KEY, json);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return new ObjectMapper().readTree(r.body());
    }

    /** Marks a subclass that runs its superclass's tests with limits, budgets and the exact cache in a real Redis. */
    interface OnRedis {}

    @BeforeAll
    static void startFixture(TestInfo info) throws Exception {
        if (info.getTestClass().filter(OnRedis.class::isAssignableFrom).isPresent()) {
            redis = RedisServer.open();
            fixture = new GatewayFixture("redis: {url: \"" + redis.url() + "\"}\n");
        } else {
            fixture = new GatewayFixture();
        }
    }

    @AfterAll
    static void stopFixture() {
        try {
            fixture.close();
        } finally {
            if (redis != null) redis.close();
            redis = null;
        }
    }

    @BeforeEach
    void resetFixture() {
        fixture.reset();
    }
}
