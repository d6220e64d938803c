package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** API keys from the admin API: hashed storage, tenants, model allowances, rate limits, budgets and cost caps. */
class KeysAndLimitsTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private String createSecret(String json) throws Exception {
        return createKey(json).get("key").asText();
    }

    private HttpResponse<String> chat(String key, String extra) throws Exception {
        return send("POST", "/v1/chat/completions", key, "{\"model\":\"fast\"" + extra + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}");
    }

    @Test
    void theAdminApiNeedsTheAdminKey() throws Exception {
        assertThat(send("GET", "/admin/keys", null, null).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/admin/keys", "wrong", null).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/admin/keys", GatewayFixture.ADMIN_KEY, null).statusCode()).isEqualTo(200);
    }

    @Test
    void keysAreShownOnceAndStoredOnlyAsHashes() throws Exception {
        String secret = createSecret("{\"name\":\"ci\",\"tenant\":\"acme\"}");
        assertThat(secret).startsWith("sk-keel-");
        String listed = send("GET", "/admin/keys", GatewayFixture.ADMIN_KEY, null).body();
        assertThat(listed).contains("\"tenant\":\"acme\"").doesNotContain(secret);
        byte[] db = Files.readAllBytes(fixture.keel.dataDir().resolve("keel.db"));
        byte[] wal = Files.exists(fixture.keel.dataDir().resolve("keel.db-wal")) ? Files.readAllBytes(fixture.keel.dataDir().resolve("keel.db-wal")) : new byte[0];
        assertThat(new String(db, java.nio.charset.StandardCharsets.ISO_8859_1) + new String(wal, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain(secret);
    }

    @Test
    void onceKeysExistRequestsNeedAValidUnrevokedKey() throws Exception {
        JsonNode key = createKey("{\"name\":\"app\",\"tenant\":\"acme\"}");
        String secret = key.get("key").asText(), id = key.get("id").asText();
        assertThat(chat(null, "").statusCode()).isEqualTo(401);
        assertThat(chat("sk-keel-forged", "").statusCode()).isEqualTo(401);
        assertThat(chat(secret, "").statusCode()).isEqualTo(200);
        assertThat(send("DELETE", "/admin/keys/" + id, GatewayFixture.ADMIN_KEY, null).statusCode()).isEqualTo(200);
        assertThat(chat(secret, "").statusCode()).isEqualTo(401);
    }

    @Test
    void theKeyDecidesTheTenant() throws Exception {
        String a = createSecret("{\"name\":\"a\",\"tenant\":\"tenant-a\"}");
        String b = createSecret("{\"name\":\"b\",\"tenant\":\"tenant-b\"}");
        assertThat(send("POST", "/v1/documents", a, "{\"id\":\"memo\",\"text\":\"Tenant A's memo about the harbour.\"}").statusCode()).isEqualTo(201);
        assertThat(send("GET", "/v1/documents/memo", a, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/v1/documents/memo", b, null).statusCode()).isEqualTo(404);
    }

    @Test
    void anUnauthenticatedRequestNamingATenantLeavesNoTraceInIt() throws Exception {
        String victim = createSecret("{\"name\":\"victim\",\"tenant\":\"victim\"}");
        for (String path : List.of("/v1/chat/completions", "/v1/search")) {
            java.net.http.HttpResponse<String> refused = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(fixture.base + path)).header("Content-Type", "application/json").header("X-Keel-Tenant", "victim")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(401);
            String traceId = refused.headers().firstValue("x-keel-trace-id").orElseThrow();
            assertThat(send("GET", "/v1/traces/" + traceId, victim, null).statusCode()).as(path + ": an anonymous request's trace is nobody's")
                    .isEqualTo(404);
        }
    }

    @Test
    void modelsOutsideTheKeysAllowanceAre403() throws Exception {
        String secret = createSecret("{\"name\":\"narrow\",\"tenant\":\"t\",\"models\":[\"resilient\"]}");
        HttpResponse<String> r = chat(secret, "");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(fixture.primary.received).isEmpty();
    }

    @Test
    void requestsPerMinuteAreLimitedBeforeAnyUpstreamCall() throws Exception {
        String secret = createSecret("{\"name\":\"slow\",\"tenant\":\"t\",\"requests_per_minute\":2}");
        assertThat(chat(secret, "").statusCode()).isEqualTo(200);
        assertThat(chat(secret, "").statusCode()).isEqualTo(200);
        HttpResponse<String> third = chat(secret, "");
        assertThat(third.statusCode()).isEqualTo(429);
        assertThat(third.headers().firstValue("Retry-After")).isPresent();
        assertThat(JSON.readTree(third.body()).at("/error/message").asText()).contains("requests per minute");
        assertThat(fixture.primary.received).hasSize(2);
    }

    @Test
    void tokenEstimatesAreCorrectedByActualUsage() throws Exception {
        String secret = createSecret("{\"name\":\"tokens\",\"tenant\":\"t\",\"tokens_per_minute\":400}");
        assertThat(chat(secret, ",\"max_tokens\":300").statusCode()).as("estimate ~315 fits the bucket").isEqualTo(200);
        assertThat(chat(secret, ",\"max_tokens\":300").statusCode()).as("the first request really used 14 tokens").isEqualTo(200);
        HttpResponse<String> big = chat(secret, ",\"max_tokens\":5000");
        assertThat(big.statusCode()).as("a request that could use more than a minute's tokens can never fit").isEqualTo(400);
        assertThat(JSON.readTree(big.body()).at("/error/code").asText()).isEqualTo("request_exceeds_rate_limit");
        assertThat(fixture.primary.received).hasSize(2);
    }

    @Test
    void anExhaustedDailyBudgetIs429NamingTheBudgetAndItsReset() throws Exception {
        String secret = createSecret("{\"name\":\"budget\",\"tenant\":\"t\",\"daily_budget_usd\":0.00008}");
        assertThat(chat(secret, ",\"max_tokens\":20").statusCode()).isEqualTo(200);
        assertThat(chat(secret, ",\"max_tokens\":20").statusCode()).isEqualTo(200);
        HttpResponse<String> r = chat(secret, ",\"max_tokens\":20");
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("daily budget").contains("resets at");
        assertThat(fixture.primary.received).hasSize(2);
    }

    @Test
    void aRequestEstimatedOverTheCostCapIs400WithTheEstimate() throws Exception {
        String secret = createSecret("{\"name\":\"capped\",\"tenant\":\"t\",\"max_cost_per_request_usd\":0.001}");
        HttpResponse<String> r = chat(secret, ",\"max_tokens\":100000");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("can cost up to $0.2");
        assertThat(fixture.primary.received).isEmpty();
        assertThat(chat(secret, ",\"max_tokens\":100").statusCode()).isEqualTo(200);
    }

    @Test
    void overTheCostCapAModelWithADowngradeRoutesToTheCheaperModel() throws Exception {
        String secret = createSecret("{\"name\":\"thrifty\",\"tenant\":\"t\",\"max_cost_per_request_usd\":0.001}");
        HttpResponse<String> r = send("POST", "/v1/chat/completions", secret,
                "{\"model\":\"pricey\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("model").asText()).isEqualTo("fast");
        assertThat(fixture.primary.received.get(0).body().get("model").asText()).isEqualTo("upstream-fast-001");
    }

    @Test
    void crossingEightyPercentOfABudgetPostsTheWebhookOncePerPeriod() throws Exception {
        JsonNode key = createKey("{\"name\":\"watched\",\"tenant\":\"t\",\"daily_budget_usd\":0.00009}");
        String secret = key.get("key").asText(), id = key.get("id").asText();
        for (int i = 0; i < 5; i++) chat(secret, ",\"max_tokens\":10");
        long until = System.nanoTime() + 10_000_000_000L;
        while (fixture.webhooks.stream().noneMatch(w -> w.contains(id)) && System.nanoTime() < until) Thread.onSpinWait();
        List<String> mine = fixture.webhooks.stream().filter(w -> w.contains(id)).toList();
        assertThat(mine).hasSize(1);
        JsonNode event = JSON.readTree(mine.get(0));
        assertThat(event.get("event").asText()).isEqualTo("budget.threshold");
        assertThat(event.get("period").asText()).isEqualTo("daily");
        assertThat(event.get("percent").asInt()).isGreaterThanOrEqualTo(80);
    }

    @Test
    void listedKeysShowRevocationOnlyOnRevokedKeys() throws Exception {
        JsonNode active = createKey("{\"name\":\"listed-active\",\"tenant\":\"t\"}");
        JsonNode revoked = createKey("{\"name\":\"listed-revoked\",\"tenant\":\"t\"}");
        assertThat(send("DELETE", "/admin/keys/" + revoked.get("id").asText(), GatewayFixture.ADMIN_KEY, null).statusCode()).isEqualTo(200);
        JsonNode listed = JSON.readTree(send("GET", "/admin/keys", GatewayFixture.ADMIN_KEY, null).body()).get("data");
        for (JsonNode k : listed) {
            if (k.get("id").equals(active.get("id"))) assertThat(k.get("revoked_at").isNull()).isTrue();
            if (k.get("id").equals(revoked.get("id"))) assertThat(k.get("revoked_at").asText()).startsWith("20");
        }
    }

    @Test
    void aMisspeltLimitIsRefusedRatherThanCreatingAKeyWithoutIt() throws Exception {
        HttpResponse<String> r = send("POST", "/admin/keys", GatewayFixture.ADMIN_KEY, "{\"name\":\"typo\",\"tenant\":\"t\",\"daily_budget\":1}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("daily_budget");
    }

    @Test
    void budgetsInMessagesKeepTheirCents() {
        assertThat(Limits.usd(0.001)).isEqualTo("0.001");
        assertThat(Limits.usd(3)).isEqualTo("3.00");
        assertThat(Limits.usd(2.5)).isEqualTo("2.50");
        assertThat(Limits.usd(0.00201123456)).isEqualTo("0.00201123");
    }

    @Test
    void onceKeysExistOperationalDetailsNeedTheAdminKeyOrMetricsToken() throws Exception {
        createKey("{\"name\":\"ops\",\"tenant\":\"t\"}");
        JsonNode anonymous = JSON.readTree(send("GET", "/health/ready", null, null).body());
        assertThat(anonymous.has("chunks")).as("an index-wide count would show one tenant another's ingest").isFalse();
        assertThat(anonymous.get("status").asText()).isEqualTo("ready");
        assertThat(send("GET", "/metrics", null, null).statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(send("GET", "/health/ready", GatewayFixture.ADMIN_KEY, null).body()).has("chunks")).isTrue();
        assertThat(send("GET", "/metrics", GatewayFixture.ADMIN_KEY, null).statusCode()).isEqualTo(200);
    }
}
