package dev.keel.gateway;

import static dev.keel.gateway.FakeLlmServer.ok;
import static dev.keel.gateway.FakeLlmServer.status;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How upstream answers that are not ill health are classified: credentials and rate limits. */
class ProviderHealthTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> chatAs(String tenant, String model) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(fixture.base + "/v1/chat/completions")).header("Content-Type", "application/json")
                .header("X-Keel-Tenant", tenant).POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String breaker(String provider) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(fixture.base + "/health/ready"))
                .header("Authorization", "Bearer " + GatewayFixture.ADMIN_KEY).build(), HttpResponse.BodyHandlers.ofString())
                .body()).at("/providers/" + provider).asText();
    }

    @Test
    void anUpstream401WithoutAChallengeIsAnAuthenticationFailure502AndLedgered() throws Exception {
        fixture.primary.then(status(401, "{\"error\":{\"message\":\"Incorrect API key provided\"}}", Map.of()));
        HttpResponse<String> r = chatAs("auth-401", "fast");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
        assertThat(JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("authentication");
        fixture.keel.ledger().flush();
        JsonNode rows = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(fixture.base + "/v1/usage?group_by=model"))
                .header("X-Keel-Tenant", "auth-401").build(), HttpResponse.BodyHandlers.ofString()).body()).get("data");
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("failed_requests").asInt()).isEqualTo(1);
    }

    @Test
    void anUpstream401FallsBackToTheNextTarget() throws Exception {
        fixture.primary.then(status(401, "unauthorized", Map.of()));
        fixture.secondary.then(ok("from the fallback"));
        HttpResponse<String> r = chatAs("auth-fallback", "resilient");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-keel-provider")).contains("secondary");
        assertThat(fixture.primary.received).as("credentials are not retried on the same provider").hasSize(1);
    }

    @Test
    void rateLimitsDoNotOpenTheBreakerButServerErrorsDo() throws Exception {
        fixture.flaky.then(status(429, "{\"error\":{\"message\":\"slow down\"}}", Map.of("Retry-After", "0")));
        for (int i = 0; i < 15; i++) {
            HttpResponse<String> r = chatAs("limits", "guarded");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("x-keel-provider")).as("a rate-limited provider falls back").contains("secondary");
        }
        assertThat(fixture.flaky.received).as("every request still tried the rate-limited provider first").hasSize(15);
        assertThat(breaker("flaky")).isEqualTo("closed");

        fixture.flaky.then(status(503, "down", Map.of()));
        for (int i = 0; i < 10; i++) chatAs("limits", "guarded");
        assertThat(breaker("flaky")).isEqualTo("open");
    }

    @Test
    void credentialFailuresDoNotOpenTheBreaker() throws Exception {
        fixture.flaky.then(status(401, "unauthorized", Map.of()));
        for (int i = 0; i < 12; i++) assertThat(chatAs("creds", "guarded").statusCode()).isEqualTo(200);
        assertThat(breaker("flaky")).isEqualTo("closed");
    }

    @Test
    void aReplyCutShortIsClassifiedWithoutNamingLibraryClasses() throws Exception {
        fixture.primary.then((ex, req) -> {
            ex.sendResponseHeaders(200, 1_000);
            ex.getResponseBody().write("{\"id\":\"chatcmpl-cut".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            ex.getResponseBody().flush();
            throw new java.io.IOException("the fake upstream hangs up mid-body");
        });
        HttpResponse<String> r = chatAs("cut", "fast");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("primary:")
                .doesNotContain("Exception").doesNotContain("org.").doesNotContain("java.");
    }
}
