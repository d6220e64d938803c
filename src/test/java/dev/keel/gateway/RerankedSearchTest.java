package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reranking and query expansion end to end: a Keel whose remote reranker and expansion model are
 * fake servers speaking the real protocols, searched and asked over HTTP.
 */
class RerankedSearchTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String ACME = "acme", RIVAL = "rival";
    static FakeLlmServer reranker, writer;
    static Keel keel;
    static HttpServer server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        reranker = new FakeLlmServer();
        writer = new FakeLlmServer();
        String yaml = """
                server: {port: 0}
                providers:
                  fake: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer: {targets: [{provider: fake, model: writer-1, input_per_mtok: 0, output_per_mtok: 0}]}
                rerank:
                  method: remote
                  candidates: 10
                  remote: {base_url: "%s", api_key: rk-test-key, model: rerank-test, timeout_ms: 500}
                  expansion: {model: writer}
                """.formatted(writer.baseUrl(), reranker.baseUrl());
        keel = Keel.open(KeelConfig.parse(yaml, k -> null), Files.createTempDirectory("keel-rerank-"));
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
        ingest(ACME, "refunds", "public/refunds.md", "# Refunds\n\nRefunds are granted within 30 days for annual plans.");
        ingest(ACME, "monthly", "public/monthly.md", "# Monthly plans\n\nMonthly plans are not refunded, but you can cancel any time.");
        ingest(ACME, "zebra", "public/zebra.md", "# Office animals\n\nThe zebra crossing outside the office is repainted every spring.");
        ingest(ACME, "internal", "internal/refund-fraud.md", "# Refund fraud\n\nInternal: refund fraud cases go to the risk team within a day.");
        ingest(RIVAL, "rival-refunds", "public/refunds.md", "# Refunds\n\nRival secret: refunds are granted to anyone who asks about zebra refunds.");
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
        reranker.close();
        writer.close();
    }

    @BeforeEach
    void resetFakes() {
        reranker.reset();
        writer.reset();
        reranker.then(FakeLlmServer.rerank(text -> text.contains("zebra") ? 0.9 : text.contains("Monthly") ? 0.5 : 0.1));
    }

    private static void ingest(String tenant, String id, String source, String text) throws Exception {
        HttpResponse<String> r = post("/v1/documents", tenant, JSON.createObjectNode().put("id", id).put("source", source).put("text", text).toString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    private static HttpResponse<String> post(String path, String tenant, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json").header("X-Keel-Tenant", tenant)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode search(String body) throws Exception {
        HttpResponse<String> r = post("/v1/search", ACME, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static List<String> docs(JsonNode result) {
        List<String> out = new ArrayList<>();
        result.get("data").forEach(h -> out.add(h.get("doc_id").asText()));
        return out;
    }

    /** The spans of a trace, by name (the last of each name). */
    private static Map<String, JsonNode> spans(JsonNode result) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/traces/" + result.get("trace_id").asText()))
                .header("X-Keel-Tenant", ACME).build(), HttpResponse.BodyHandlers.ofString());
        Map<String, JsonNode> out = new java.util.LinkedHashMap<>();
        JSON.readTree(r.body()).get("spans").forEach(s -> out.put(s.get("name").asText(), s));
        return out;
    }

    @Test
    void theRemoteRerankerOrdersTheResultsAndTheDebugViewShowsBothLists() throws Exception {
        JsonNode fused = search("{\"query\":\"refund policy\",\"top_k\":3,\"rerank\":\"none\"}");
        JsonNode reranked = search("{\"query\":\"refund policy\",\"top_k\":3,\"debug\":true}");
        assertThat(docs(fused).get(0)).isNotEqualTo("zebra");
        assertThat(docs(reranked)).startsWith("zebra", "monthly");
        JsonNode debug = reranked.get("debug");
        assertThat(debug.get("fused").size()).isGreaterThanOrEqualTo(3);
        assertThat(debug.get("reranked").get(0).get("chunk_id").asText()).isEqualTo("zebra#0");
        assertThat(debug.get("reranked").get(0).get("score").asDouble()).isEqualTo(0.9);
        assertThat(debug.get("final").findValuesAsText("chunk_id")).containsExactly("zebra#0", "monthly#0", docs(reranked).get(2) + "#0");
        assertThat(reranked.get("data").get(0).get("rerank_score").asDouble()).as("the reranker's score next to the fused one").isEqualTo(0.9);
        JsonNode fusedZebra = null;
        for (JsonNode e : debug.get("fused")) if (e.get("chunk_id").asText().equals("zebra#0")) fusedZebra = e;
        assertThat(reranked.get("data").get(0).get("score").asDouble()).as("score stays the fused score").isEqualTo(fusedZebra.get("score").asDouble());
        assertThat(fused.get("data").get(0).has("rerank_score")).isFalse();
        assertThat(spans(reranked).get("rerank").get("attributes").get("outcome").asText()).isEqualTo("reranked");

        FakeLlmServer.Received call = reranker.received.get(reranker.received.size() - 1);
        assertThat(call.path()).isEqualTo("/v1/rerank");
        assertThat(call.headers().get("Authorization")).containsExactly("Bearer rk-test-key");
        assertThat(call.body().get("model").asText()).isEqualTo("rerank-test");
        assertThat(call.body().get("query").asText()).isEqualTo("refund policy");
        assertThat(call.body().get("top_n").asInt()).isEqualTo(3);
        assertThat(call.body().get("documents").size()).as("all of the tenant's candidates, up to rerank.candidates").isEqualTo(4);
    }

    @Test
    void concurrentSearchesEachGetTheirOwnReranking() throws Exception {
        List<String> queries = List.of("refund policy", "monthly plans", "annual refunds", "cancel any time", "office", "spring paint");
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<JsonNode>> results = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                String q = queries.get(i % queries.size());
                results.add(pool.submit(() -> search("{\"query\":\"" + q + "\",\"top_k\":2,\"debug\":true}")));
            }
            for (var f : results) {
                JsonNode r = f.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(docs(r)).containsExactly("zebra", "monthly");
                assertThat(r.get("debug").has("reranked")).isTrue();
            }
        }
        assertThat(reranker.received).hasSize(24);
    }

    @Test
    void rerankingNeverBringsInAnotherTenantsChunksOrOnesOutsideTheFilters() throws Exception {
        reranker.reset();
        reranker.then(FakeLlmServer.rerank(text -> text.contains("Rival") || text.contains("Internal") ? 100 : 0));
        JsonNode r = search("{\"query\":\"zebra refunds\",\"top_k\":10,\"filters\":{\"source_prefix\":\"public/\"}}");
        assertThat(docs(r)).isNotEmpty().doesNotContain("rival-refunds", "internal");
        r.get("data").forEach(h -> assertThat(h.get("source").asText()).startsWith("public/"));
        for (JsonNode d : reranker.received.get(0).body().get("documents")) {
            assertThat(d.asText()).doesNotContain("Rival").doesNotContain("Internal");
        }
    }

    @Test
    void aStalledRerankerTimesOutAndTheSearchAnswersInFusedOrder() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        reranker.reset();
        reranker.then(FakeLlmServer.stall(release, 10));
        try {
            assertFallsBackToTheFusedOrder("timeout");
        } finally {
            release.countDown();
        }
    }

    @Test
    void aServerErrorFallsBackToTheFusedOrder() throws Exception {
        reranker.reset();
        reranker.then(FakeLlmServer.status(500, "{\"error\":\"boom\"}", Map.of()));
        assertFallsBackToTheFusedOrder("unavailable");
    }

    @Test
    void garbageFallsBackToTheFusedOrder() throws Exception {
        reranker.reset();
        reranker.then(FakeLlmServer.raw("<html>not json</html>"));
        assertFallsBackToTheFusedOrder("malformed");
        reranker.then(FakeLlmServer.raw("{\"results\":[{\"index\":\"0\",\"relevance_score\":1}]}"));
        assertFallsBackToTheFusedOrder("malformed");
    }

    @Test
    void anOversizedReplyFallsBackToTheFusedOrder() throws Exception {
        reranker.reset();
        reranker.then(FakeLlmServer.raw("{\"results\":[],\"padding\":\"" + "x".repeat(2 << 20) + "\"}"));
        assertFallsBackToTheFusedOrder("malformed");
    }

    @Test
    void indexesOutsideTheCandidatesFallBackToTheFusedOrder() throws Exception {
        reranker.reset();
        reranker.then(FakeLlmServer.raw("{\"results\":[{\"index\":0,\"relevance_score\":0.9},{\"index\":99,\"relevance_score\":0.8}]}"));
        assertFallsBackToTheFusedOrder("invalid_indexes");
    }

    private static void assertFallsBackToTheFusedOrder(String reason) throws Exception {
        double before = fallbacks(reason);
        JsonNode fused = search("{\"query\":\"refund policy\",\"top_k\":3,\"rerank\":\"none\"}");
        JsonNode r = search("{\"query\":\"refund policy\",\"top_k\":3,\"rerank\":\"remote\",\"debug\":true}");
        assertThat(docs(r)).isEqualTo(docs(fused));
        assertThat(r.get("debug").has("reranked")).isFalse();
        JsonNode span = spans(r).get("rerank");
        assertThat(span.get("status").asText()).isEqualTo("error");
        assertThat(span.get("attributes").get("error.type").asText()).isEqualTo(reason);
        assertThat(span.get("attributes").get("outcome").asText()).isEqualTo("fallback_fused_order");
        assertThat(fallbacks(reason)).isEqualTo(before + 1);
    }

    @Test
    void readinessShowsTheRerankersFallbacksAndItsLastFailure() throws Exception {
        reranker.reset();
        reranker.then(FakeLlmServer.status(503, "{\"error\":\"overloaded\"}", Map.of()));
        search("{\"query\":\"refund policy\",\"top_k\":3}");
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode health = JSON.readTree(r.body()).get("reranker");
        assertThat(health.get("method").asText()).isEqualTo("remote");
        assertThat(health.get("fallbacks").asLong()).isPositive();
        assertThat(health.get("last_fallback").get("reason").asText()).isEqualTo("unavailable");
        assertThat(health.get("last_fallback").get("detail").asText()).contains("503").doesNotContain("refund");
        assertThat(health.get("last_fallback").get("at").asText()).isNotEmpty();
    }

    private static double fallbacks(String reason) {
        var c = keel.traces().registry().find("keel.rerank.fallbacks").tag("method", "remote").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void answersAreBuiltFromTheRerankedContext() throws Exception {
        HttpResponse<String> r = post("/v1/answer", ACME, "{\"question\":\"When is the zebra crossing repainted?\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(reranker.received).hasSize(1);
        assertThat(JSON.readTree(r.body()).get("sources").get(0).get("doc_id").asText()).isEqualTo("zebra");
    }

    @Test
    void badRerankParametersAreClear400s() throws Exception {
        assertBadRequest("{\"query\":\"refund\",\"rerank\":\"magic\"}", "rerank", "none, mmr, remote, onnx");
        assertBadRequest("{\"query\":\"refund\",\"rerank\":7}", "rerank", "string");
        assertBadRequest("{\"query\":\"refund\",\"rerank\":\"onnx\"}", "rerank", "rerank.onnx.model_dir");
        assertBadRequest("{\"query\":\"refund\",\"rerank\":\"remote\",\"mmr\":true}", "mmr", "contradicts");
        assertBadRequest("{\"query\":\"refund\",\"mmr_lambda\":2}", "mmr_lambda", "between");
        assertBadRequest("{\"query\":\"refund\",\"multi_query\":6}", "multi_query", "between 0 and 5");
        assertBadRequest("{\"query\":\"refund\",\"multi_query\":true}", "multi_query", "integer");
        assertBadRequest("{\"query\":\"refund\",\"hyde\":\"yes\"}", "hyde", "true or false");
        assertThat(reranker.received).isEmpty();
        assertThat(writer.received).isEmpty();
    }

    private static void assertBadRequest(String body, String param, String messagePart) throws Exception {
        HttpResponse<String> r = post("/v1/search", ACME, body);
        assertThat(r.statusCode()).as(body).isEqualTo(400);
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error.get("param").asText()).isEqualTo(param);
        assertThat(error.get("message").asText()).contains(messagePart);
    }

    @Test
    void multiQueryIsOffByDefault() throws Exception {
        JsonNode r = search("{\"query\":\"striped horse\",\"mode\":\"bm25\",\"rerank\":\"none\"}");
        assertThat(writer.received).isEmpty();
        assertThat(spans(r)).doesNotContainKeys("expand_multi_query", "expand_hyde");
    }

    @Test
    void multiQueryFindsWhatOnlyAnAlternativePhrasingMatchesAndTracesNoText() throws Exception {
        writer.then(FakeLlmServer.ok("1. zebra crossing\n2. Striped horse\n- painted road markings"));
        JsonNode without = search("{\"query\":\"striped horse\",\"mode\":\"bm25\",\"rerank\":\"none\"}");
        JsonNode with = search("{\"query\":\"striped horse\",\"mode\":\"bm25\",\"rerank\":\"none\",\"multi_query\":2,\"debug\":true}");
        assertThat(docs(without)).doesNotContain("zebra");
        assertThat(docs(with)).contains("zebra");
        assertThat(with.get("debug").has("multi_query")).isTrue();

        JsonNode request = writer.received.get(0).body();
        assertThat(request.get("model").asText()).isEqualTo("writer-1");
        assertThat(request.get("temperature").asInt()).isZero();
        assertThat(request.get("max_tokens").asInt()).isEqualTo(256);
        assertThat(request.get("messages").get(0).get("content").asText()).contains("2 alternative phrasings");
        assertThat(request.get("messages").get(1).get("content").asText()).isEqualTo("striped horse");

        Map<String, JsonNode> spans = spans(with);
        JsonNode expand = spans.get("expand_multi_query").get("attributes");
        assertThat(expand.get("generated").asInt()).as("the repeat of the query is dropped").isEqualTo(2);
        assertThat(expand.get("chars").toString()).isEqualTo("[14,21]");
        assertThat(spans.toString()).doesNotContain("zebra crossing").doesNotContain("road markings");
    }

    @Test
    void aFailingGeneratorLeavesTheOriginalQueryAndSaysWhy() throws Exception {
        writer.then(FakeLlmServer.status(500, "{\"error\":{\"message\":\"down\"}}", Map.of()));
        JsonNode plain = search("{\"query\":\"refund policy\",\"rerank\":\"none\"}");
        JsonNode r = search("{\"query\":\"refund policy\",\"rerank\":\"none\",\"multi_query\":3,\"hyde\":true}");
        assertThat(docs(r)).isEqualTo(docs(plain));
        Map<String, JsonNode> spans = spans(r);
        for (String stage : List.of("expand_multi_query", "expand_hyde")) {
            assertThat(spans.get(stage).get("status").asText()).isEqualTo("error");
            assertThat(spans.get(stage).get("attributes").get("fallback").asText()).isEqualTo("original_query");
        }
    }

    @Test
    void hydeSearchesTheVectorSideWithTheHypotheticalPassageBlendedIn() throws Exception {
        writer.then(FakeLlmServer.ok("The zebra crossing in front of the building gets a fresh coat of paint each spring."));
        JsonNode plain = search("{\"query\":\"road paint schedule\",\"mode\":\"vector\",\"rerank\":\"none\"}");
        JsonNode hyde = search("{\"query\":\"road paint schedule\",\"mode\":\"vector\",\"rerank\":\"none\",\"hyde\":true}");
        assertThat(writer.received).hasSize(1);
        assertThat(writer.received.get(0).body().get("messages").get(0).get("content").asText()).contains("passage");
        assertThat(docs(hyde).get(0)).isEqualTo("zebra");
        assertThat(hyde.get("data").get(0).get("vector").get("score").asDouble())
                .isNotEqualTo(plain.get("data").get(0).get("vector").get("score").asDouble());
        Map<String, JsonNode> spans = spans(hyde);
        assertThat(spans.get("expand_hyde").get("attributes").get("chars").asInt()).isEqualTo(83);
        assertThat(spans).containsKey("embed_hyde");
    }

    @Test
    void expansionIsBilledToTheCallersTenantThroughTheGateway() throws Exception {
        ingest("billed-tenant", "lunch", "public/lunch.md", "# Lunch\n\nLunch is served at noon.");
        writer.then(FakeLlmServer.ok("zebra crossing"));
        HttpResponse<String> r = post("/v1/search", "billed-tenant", "{\"query\":\"striped horse\",\"multi_query\":1,\"hyde\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(docs(JSON.readTree(r.body()))).as("another tenant's zebra is never found").containsOnly("lunch");
        keel.ledger().flush();
        List<dev.keel.store.Ledger.Row> usage = keel.ledger().usage("billed-tenant", dev.keel.store.Ledger.GroupBy.MODEL, 0, Long.MAX_VALUE);
        assertThat(usage).singleElement().satisfies(row -> {
            assertThat(row.group()).isEqualTo("writer");
            assertThat(row.requests()).isEqualTo(2);
        });
    }

    @Test
    void hydeIsSkippedForAKeywordOnlySearch() throws Exception {
        search("{\"query\":\"refund\",\"mode\":\"bm25\",\"rerank\":\"none\",\"hyde\":true}");
        assertThat(writer.received).isEmpty();
    }
}
