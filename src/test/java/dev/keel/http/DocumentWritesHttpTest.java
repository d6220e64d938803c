package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.IngestConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /v1/documents} under concurrent writes of one id, and over the ingest limits. */
class DocumentWritesHttpTest extends SampleServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    /** The server has already ingested over HTTP, so that concurrent requests overlap rather than queue behind warm-up. */
    @BeforeAll
    static void warmUp() throws Exception {
        HttpClient.newHttpClient().send(post("warm-up", "warm-up", "# Warm up\n\nFirst request."), HttpResponse.BodyHandlers.discarding());
    }

    private static HttpRequest post(String tenant, String id, String text) {
        ObjectNode body = JSON.createObjectNode().put("id", id).put("text", text);
        return HttpRequest.newBuilder(URI.create(base + "/v1/documents")).header("Content-Type", "application/json")
                .header("X-Keel-Tenant", tenant).POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
    }

    /** Sends {@code n} requests at once: each waits on one latch, so they reach the server together. */
    private List<HttpResponse<String>> sendAtOnce(int n, IntFunction<HttpRequest> request) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            HttpRequest r = request.apply(i);
            futures.add(CompletableFuture.supplyAsync(() -> {
                try {
                    start.await();
                    return http.send(r, HttpResponse.BodyHandlers.ofString());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, command -> Thread.ofVirtual().start(command)));
        }
        start.countDown();
        List<HttpResponse<String>> out = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> f : futures) out.add(f.get(120, TimeUnit.SECONDS));
        return out;
    }

    private static String status(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body()).path("status").asText();
        } catch (Exception e) {
            throw new IllegalStateException(r.body(), e);
        }
    }

    @Test
    void twentyConcurrentWritesOfOneIdAnswer201Once() throws Exception {
        String tenant = "writes-" + UUID.randomUUID().toString().substring(0, 8);
        List<HttpResponse<String>> responses = sendAtOnce(20, i -> post(tenant, "policy", "# Policy\n\nRevision " + (i % 4) + " of the policy."));
        assertThat(responses).filteredOn(r -> r.statusCode() == 201).singleElement().matches(r -> status(r).equals("added"));
        assertThat(responses).filteredOn(r -> r.statusCode() != 201).hasSize(19)
                .allMatch(r -> r.statusCode() == 200 && List.of("updated", "unchanged").contains(status(r)), "200 updated or unchanged");
    }

    @Test
    void concurrentWritesOfOneIdInTwoTenantsAddItOnceInEach() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<HttpResponse<String>> responses = sendAtOnce(20, i -> post("t" + (i % 2) + "-" + run, "policy", "# Policy\n\nTenant " + (i % 2) + " wrote this."));
        assertThat(responses).filteredOn(r -> r.statusCode() == 201).hasSize(2);
        assertThat(responses).filteredOn(r -> r.statusCode() == 200).hasSize(18).allMatch(r -> status(r).equals("unchanged"));
        for (int t = 0; t < 2; t++) {
            JsonNode doc = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/documents/policy"))
                    .header("X-Keel-Tenant", "t" + t + "-" + run).build(), HttpResponse.BodyHandlers.ofString()).body());
            assertThat(doc.at("/chunks/0/text").asText()).isEqualTo("Tenant " + t + " wrote this.");
        }
    }

    @Test
    void aSourceTooLongToStoreWithEveryChunkIs400() throws Exception {
        ObjectNode body = JSON.createObjectNode().put("id", "long-source").put("text", "# Note\n\nShort text.").put("source", "s".repeat(40_000));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/documents")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("source");
    }

    @Test
    void aDocumentOverAnIngestLimitIs413NamingTheLimitAndItsKey() throws Exception {
        int limit = IngestConfig.DEFAULTS.maxSectionsPerDocument();
        String tenant = "limit-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> r = http.send(post(tenant, "huge", "## Part\n\nText.\n\n".repeat(limit + 1)), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("document_too_large");
        assertThat(error.get("message").asText()).contains(limit + " sections").contains("ingest.max_sections_per_document");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/documents/huge")).header("X-Keel-Tenant", tenant).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
    }
}
