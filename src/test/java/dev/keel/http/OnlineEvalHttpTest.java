package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.eval.OnlineEvaluation;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.SourceDocument;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/evals/online} over a server that samples every answer: each tenant sees its own window only, the admin
 * key may name a tenant, a client key may not; answers reach the sample streamed or not, answered or declined.
 */
class OnlineEvalHttpTest {
    private static final String ADMIN_KEY = "admin-secret-for-online-eval";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Keel keel;
    private static HttpServer server;
    private static String base, acmeKey, betaKey;

    @BeforeAll
    static void serve() throws Exception {
        keel = Keel.open(KeelConfig.parse("server: {port: 0, admin_key: " + ADMIN_KEY + "}\neval:\n  online:\n    sample_rate: 1\n", k -> null),
                Files.createTempDirectory("keel-online-"));
        ingest("acme", "# Billing\n\n## Refunds\n\nAnnual plans can be refunded within 30 days of purchase. Monthly plans are not refunded.\n");
        ingest("beta", "# Office\n\n## Parking\n\nVisitors park on level 2 of the garage. The gate code is given at reception.\n");
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
        acmeKey = key("acme");
        betaKey = key("beta");
        ask(acmeKey, "How long can annual plans be refunded?", false);
        ask(acmeKey, "Can monthly plans be refunded?", true); // another question: a repeat would be served from the answer cache, which is not sampled
        ask(acmeKey, "What is the boiling point of mercury on Jupiter's third moon?", false);
        ask(betaKey, "Where do visitors park?", false);
        assertThat(keel.onlineEvaluation().awaitIdle(Duration.ofSeconds(60))).isTrue();
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
    }

    private static void ingest(String tenant, String markdown) {
        keel.ingestor().ingest(tenant, new SourceDocument(tenant + "-doc", "api:" + tenant, tenant + ".md", DocumentFormat.MARKDOWN,
                markdown.getBytes(StandardCharsets.UTF_8), 0, Map.of(), null), keel.traces().start("ingest", tenant));
        keel.index().commit();
    }

    private static String key(String tenant) throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/admin/keys")).header("Authorization", "Bearer " + ADMIN_KEY)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"k\",\"tenant\":\"" + tenant + "\"}")));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key").asText();
    }

    private static void ask(String key, String question, boolean stream) throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/v1/answer" + (stream ? "?stream=true" : "")))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("question", question)))));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> online(String bearer, String query) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + "/v1/evals/online" + query)).GET();
        if (bearer != null) r.header("Authorization", "Bearer " + bearer);
        return send(r);
    }

    private static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static JsonNode signal(JsonNode report, String section, String name) {
        for (JsonNode s : report.get(section)) if (s.get("name").asText().equals(name)) return s;
        throw new AssertionError("no " + name + " in " + report);
    }

    @Test
    void aTenantSeesItsOwnAnswersStreamedOrNotAnsweredOrDeclined() throws Exception {
        JsonNode acme = ok(online(acmeKey, ""));
        assertThat(acme.get("object").asText()).isEqualTo("eval.online");
        assertThat(acme.get("tenant").asText()).isEqualTo("acme");
        JsonNode idk = signal(acme, "drift", OnlineEvaluation.IDK_RATE);
        assertThat(idk.path("window").path("n").asLong()).as("two answers and one decline").isEqualTo(3);
        assertThat(idk.path("window").path("mean").asDouble()).isCloseTo(1 / 3.0, org.assertj.core.data.Offset.offset(0.001));
        assertThat(signal(acme, "metrics", "faithfulness").path("window").path("n").asLong()).as("the judge scores the answered two").isEqualTo(2);
    }

    @Test
    void theReportHasEveryMetricAndDriftSignalWithItsWindowBaselineAndThreshold() throws Exception {
        JsonNode acme = ok(online(acmeKey, ""));
        List<String> metrics = new ArrayList<>(), drift = new ArrayList<>();
        acme.get("metrics").forEach(s -> metrics.add(s.get("name").asText()));
        acme.get("drift").forEach(s -> drift.add(s.get("name").asText()));
        assertThat(metrics).containsExactly("faithfulness", "answer_relevance", "citation_accuracy", "correctness_judge");
        assertThat(drift).containsExactly("idk_rate", "top_score", "centroid_distance");
        JsonNode faithfulness = signal(acme, "metrics", "faithfulness");
        assertThat(faithfulness.fieldNames()).toIterable().containsExactly("name", "window", "baseline", "change", "threshold", "p_value", "alerting");
        assertThat(faithfulness.path("threshold").asDouble()).isEqualTo(0.3);
        assertThat(faithfulness.path("baseline").path("n").asLong()).isZero();
        assertThat(acme.path("window").path("from").asText()).isLessThan(acme.path("window").path("to").asText());
        assertThat(acme.path("baseline").path("to").asText()).isEqualTo(acme.path("window").path("from").asText());
        assertThat(acme.get("alerts")).isEmpty();
    }

    @Test
    void anotherTenantsNumbersNeverShow() throws Exception {
        JsonNode beta = ok(online(betaKey, ""));
        assertThat(signal(beta, "drift", OnlineEvaluation.IDK_RATE).path("window").path("n").asLong()).isEqualTo(1);
        assertThat(beta.toString()).doesNotContain("acme");
        HttpResponse<String> refused = online(betaKey, "?tenant=acme");
        assertThat(refused.statusCode()).isEqualTo(403);
        JsonNode error = JSON.readTree(refused.body()).get("error");
        assertThat(error.get("type").asText()).isEqualTo("permission_error");
        assertThat(error.get("param").asText()).isEqualTo("tenant");
        assertThat(refused.body()).doesNotContain("idk_rate");
    }

    @Test
    void theAdminKeyNamesTheTenantItReads() throws Exception {
        JsonNode beta = ok(online(ADMIN_KEY, "?tenant=beta"));
        assertThat(beta.get("tenant").asText()).isEqualTo("beta");
        assertThat(signal(beta, "drift", OnlineEvaluation.IDK_RATE).path("window").path("n").asLong()).isEqualTo(1);
        HttpResponse<String> bad = online(ADMIN_KEY, "?tenant=../acme");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).path("error").path("param").asText()).isEqualTo("tenant");
    }

    @Test
    void theAdminKeyOpensNoOtherApiRoute() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/v1/search")).header("Authorization", "Bearer " + ADMIN_KEY)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"query\":\"parking\"}")));
        assertThat(r.statusCode()).isEqualTo(401);
    }

    @Test
    void withoutAKeyTheReportIsRefused() throws Exception {
        HttpResponse<String> r = online(null, "");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(r.body()).path("error").path("type").asText()).isEqualTo("authentication_error");
    }
}
