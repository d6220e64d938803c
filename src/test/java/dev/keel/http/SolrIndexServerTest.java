package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.embed.HashingEmbedder;
import dev.keel.engines.SolrCloud;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** {@code index.kind: solr} wired through Keel and its HTTP API: documents land in SolrCloud, readiness reports it, its loss is a clean 503. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SolrIndexServerTest {
    private static final String PASSWORD = "s3cret-solr-password";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static SolrCloud cloud;
    private static Keel keel;
    private static HttpServer server;
    private static String base;

    @BeforeAll
    static void start(@TempDir Path data) {
        cloud = SolrCloud.start();
        String urls = String.join(", ", cloud.nodeUrls().stream().map(u -> "\"" + u.replace("http://", "http://keel:${SOLR_PASSWORD}@") + "\"").toList());
        KeelConfig config = KeelConfig.parse("""
                server: {port: 0}
                index:
                  kind: solr
                  solr: {urls: [%s], collection_prefix: wired}
                """.formatted(urls), Map.of("SOLR_PASSWORD", PASSWORD)::get);
        keel = Keel.open(config, data, new HashingEmbedder());
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (keel != null) keel.close();
        if (cloud != null) cloud.close();
    }

    private static HttpResponse<String> post(String path, String tenant, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json").header("X-Keel-Tenant", tenant)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> ready() throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Order(1)
    void documentsIngestedThroughTheApiAreSearchedInSolrCloudPerTenant() throws Exception {
        assertThat(post("/v1/documents", "acme", "{\"id\":\"refunds\",\"text\":\"Refunds are paid within five days.\"}").statusCode()).isEqualTo(201);
        assertThat(post("/v1/documents", "globex", "{\"id\":\"other\",\"text\":\"Refunds are never paid.\"}").statusCode()).isEqualTo(201);
        JsonNode hits = JSON.readTree(post("/v1/search", "acme", "{\"query\":\"when are refunds paid\"}").body()).path("data");
        assertThat(hits).hasSize(1);
        assertThat(hits.get(0).toString()).contains("refunds").doesNotContain("other");
        assertThat(keel.index().chunkCount("acme")).isEqualTo(1);
    }

    @Test
    @Order(2)
    void readinessReportsSolrCloudWithoutItsPassword() throws Exception {
        HttpResponse<String> r = ready();
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode index = JSON.readTree(r.body()).path("index");
        assertThat(index.path("kind").asText()).isEqualTo("solr");
        assertThat(index.path("live_nodes")).hasSize(2);
        assertThat(r.body()).doesNotContain(PASSWORD).doesNotContain("keel:");
    }

    @Test
    @Order(3)
    void losingSolrCloudIsA503InOpenAisShapeAndNotReady() throws Exception {
        cloud.close();
        HttpResponse<String> search = post("/v1/search", "acme", "{\"query\":\"refunds\"}");
        assertThat(search.statusCode()).isEqualTo(503);
        assertThat(JSON.readTree(search.body()).at("/error/code").asText()).isEqualTo("index_unavailable");
        assertThat(search.body()).doesNotContain(PASSWORD).doesNotContain("127.0.0.1");
        HttpResponse<String> ready = ready();
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).doesNotContain(PASSWORD);
    }
}
