package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.config.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A server in open mode (no keys yet, the default of {@code keel demo}) as web pages see it through a
 * visitor's browser: only its own console and the configured origins may use it.
 */
class CrossSiteProtectionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN_KEY = "admin-key-for-cross-site-tests";
    private static final String METRICS_TOKEN = "metrics-token-for-cross-site-tests";
    private static final String APP_ORIGIN = "https://app.example.com";
    private static Keel keel;
    private static HttpServer server;
    private static int port;

    @BeforeAll
    static void start() throws IOException {
        keel = Keel.open(KeelConfig.parse("""
                server:
                  port: 0
                  admin_key: %s
                  metrics_token: %s
                  allowed_hosts: [keel.internal]
                  cors_origins: %s
                """.formatted(ADMIN_KEY, METRICS_TOKEN, APP_ORIGIN), k -> null), Files.createTempDirectory("keel-cross-site-"));
        server = new HttpServer(keel);
        port = server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
    }

    private static RawHttp.Response get(String path, Map<String, String> headers) throws IOException {
        return RawHttp.send(port, "GET", path, headers, (byte[]) null);
    }

    private static RawHttp.Response post(String path, Map<String, String> headers, String body) throws IOException {
        return RawHttp.send(port, "POST", path, headers, body);
    }

    private static JsonNode assertError(RawHttp.Response r, int status, String code) throws IOException {
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        assertThat(r.header("content-type")).startsWith("application/json");
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo(code);
        assertThat(error.get("message").asText()).isNotBlank();
        return error;
    }

    private static Map<String, String> headers(String... pairs) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) out.put(pairs[i], pairs[i + 1]);
        return out;
    }

    @Test
    void aDnsRebindingRequestUnderAForeignHostNameIs421() throws IOException {
        assertError(get("/v1/documents", headers("Host", "evil.example:" + port)), 421, "host_not_allowed");
        assertError(post("/v1/documents", headers("Host", "evil.example", "Content-Type", "application/json", "X-Keel-Tenant", "rebound"),
                "{\"id\":\"planted\",\"text\":\"planted by a rebinding page\"}"), 421, "host_not_allowed");
        assertThat(get("/v1/documents/planted", headers("X-Keel-Tenant", "rebound")).status()).isEqualTo(404);
        assertError(get("/metrics", headers("Host", "evil.example", "Authorization", "Bearer " + METRICS_TOKEN)), 421, "host_not_allowed");
    }

    @Test
    void localhostIpAddressesAndConfiguredNamesAreAnswered() throws IOException {
        for (String host : List.of("localhost", "localhost:" + port, "LOCALHOST.:" + port, "127.0.0.1:" + port, "[::1]:" + port, "192.168.1.20",
                "keel.internal", "Keel.Internal:" + port)) {
            assertThat(get("/v1/documents", headers("Host", host)).status()).as(host).isEqualTo(200);
        }
        assertThat(get("/v1/documents", headers("Host", null)).status()).as("HTTP/1.1 needs a Host; Jetty says so").isEqualTo(400);
    }

    @Test
    void aCrossOriginTextPlainPostIsRefusedAndPlantsNothing() throws IOException {
        String planted = "{\"id\":\"planted\",\"text\":\"Refunds are paid to account 12345.\"}";
        assertError(post("/v1/documents", headers("Origin", "http://evil.example", "Content-Type", "text/plain;charset=UTF-8",
                "Sec-Fetch-Site", "cross-site", "X-Keel-Tenant", "victim"), planted), 403, "origin_not_allowed");
        assertError(post("/v1/chat/completions", headers("Origin", "http://evil.example", "Content-Type", "text/plain"),
                "{\"model\":\"keel-extractive\",\"messages\":[{\"role\":\"user\",\"content\":\"refunds?\"}]}"), 403, "origin_not_allowed");
        assertThat(get("/v1/documents/planted", headers("X-Keel-Tenant", "victim")).status()).isEqualTo(404);
    }

    @Test
    void aCrossOriginMultipartUploadIsRefused() throws IOException {
        String boundary = "----formdata-evil";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nplanted\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"planted.md\"\r\nContent-Type: text/markdown\r\n\r\n# Planted\r\n\r\nPay account 12345.\r\n--"
                + boundary + "--\r\n";
        assertError(post("/v1/documents", headers("Origin", "null", "Content-Type", "multipart/form-data; boundary=" + boundary, "X-Keel-Tenant", "victim"),
                body), 403, "origin_not_allowed");
        assertError(post("/v1/documents", headers("Origin", "http://localhost:3000", "Content-Type", "multipart/form-data; boundary=" + boundary,
                "X-Keel-Tenant", "victim"), body), 403, "origin_not_allowed");
        assertThat(get("/v1/documents/planted", headers("X-Keel-Tenant", "victim")).status()).isEqualTo(404);
    }

    @Test
    void theServersOwnOriginIsServedAsTheConsoleUsesIt() throws IOException {
        String doc = "{\"id\":\"own\",\"text\":\"# Own\\n\\nWritten from the console.\"}";
        RawHttp.Response r = post("/v1/documents", headers("Origin", "http://127.0.0.1:" + port, "Content-Type", "application/json",
                "Sec-Fetch-Site", "same-origin", "X-Keel-Tenant", "console"), doc);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        assertThat(r.header("access-control-allow-origin")).as("same-origin needs no CORS").isNull();
        assertThat(post("/v1/search", headers("Host", "localhost:" + port, "Origin", "http://localhost:" + port, "Content-Type", "application/json",
                "X-Keel-Tenant", "console"), "{\"query\":\"console\"}").status()).isEqualTo(200);
    }

    @Test
    void aSubresourceAnotherSiteEmbedsIsRefusedButANavigationIsServed() throws IOException {
        assertError(get("/v1/documents", headers("Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors")), 403, "cross_site_request");
        assertError(get("/v1/documents", headers("Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "no-cors")), 403, "cross_site_request");
        assertThat(get("/console/", headers("Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate")).status()).isEqualTo(200);
        assertThat(get("/v1/documents", headers("Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate")).status()).isEqualTo(200);
        assertThat(get("/v1/documents", headers("Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors")).status()).isEqualTo(200);
    }

    @Test
    void aConfiguredOriginGetsCorsHeadersOnAnswersAndErrors() throws IOException {
        RawHttp.Response ok = get("/v1/documents", headers("Origin", APP_ORIGIN, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"));
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.header("access-control-allow-origin")).isEqualTo(APP_ORIGIN);
        assertThat(ok.header("access-control-expose-headers")).contains("x-keel-trace-id", "x-keel-cost-usd", "retry-after");
        assertThat(ok.header("vary")).containsIgnoringCase("origin");
        assertThat(ok.header("access-control-allow-credentials")).as("keys travel in Authorization, never in cookies").isNull();
        RawHttp.Response missing = get("/v1/documents/nothing-here", headers("Origin", APP_ORIGIN));
        assertError(missing, 404, "not_found");
        assertThat(missing.header("access-control-allow-origin")).isEqualTo(APP_ORIGIN);
    }

    @Test
    void aPreflightFromAConfiguredOriginIsAnsweredWithoutCredentials() throws IOException {
        RawHttp.Response r = RawHttp.send(port, "OPTIONS", "/admin/keys", headers("Origin", APP_ORIGIN, "Access-Control-Request-Method", "POST",
                "Access-Control-Request-Headers", "authorization, content-type, x-stainless-os"), (byte[]) null);
        assertThat(r.status()).as("the admin route needs a key, a preflight never carries one").isEqualTo(204);
        assertThat(r.header("access-control-allow-origin")).isEqualTo(APP_ORIGIN);
        assertThat(r.header("access-control-allow-methods")).contains("POST", "GET", "DELETE");
        assertThat(r.header("access-control-allow-headers")).contains("authorization", "content-type", "x-stainless-os");
        assertThat(r.header("access-control-max-age")).isEqualTo("600");
        assertThat(r.header("x-keel-trace-id")).isNotBlank();

        assertError(RawHttp.send(port, "OPTIONS", "/v1/chat/completions", headers("Origin", "https://evil.example", "Access-Control-Request-Method", "POST"),
                (byte[]) null), 403, "origin_not_allowed");
    }

    @Test
    void jsonRoutesTakeOnlyJsonAndOnlyTheUploadTakesMultipart() throws IOException {
        String query = "{\"query\":\"refunds\"}";
        assertThat(post("/v1/search", headers("Content-Type", "application/json; charset=utf-8"), query).status()).isEqualTo(200);
        assertThat(post("/v1/search", headers("Content-Type", "application/vnd.keel+json"), query).status()).isEqualTo(200);
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp")) {
            assertError(post("/v1/search", headers("Content-Type", type), query), 415, "unsupported_media_type");
        }
        assertError(post("/v1/search", headers(), query), 415, "unsupported_media_type");
        String boundary = "b0undary";
        RawHttp.Response upload = post("/v1/documents", headers("Content-Type", "multipart/form-data; boundary=" + boundary, "X-Keel-Tenant", "uploads"),
                "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.md\"\r\nContent-Type: text/markdown\r\n\r\n"
                        + "# Note\r\n\r\nUploads stay multipart.\r\n--" + boundary + "--\r\n");
        assertThat(upload.status()).as(upload.text()).isEqualTo(201);
    }

    @Test
    void metricsNeedTheMetricsTokenOrTheAdminKeyOnceATokenIsSet() throws IOException {
        assertError(get("/metrics", headers()), 401, "metrics_token_required");
        assertError(get("/metrics", headers("Authorization", "Bearer not-the-token")), 401, "metrics_token_required");
        RawHttp.Response withToken = get("/metrics", headers("Authorization", "Bearer " + METRICS_TOKEN));
        assertThat(withToken.status()).isEqualTo(200);
        assertThat(withToken.text()).contains("keel_traces_total");
        assertThat(get("/metrics", headers("Authorization", "Bearer " + ADMIN_KEY)).status()).isEqualTo(200);
    }

    @Test
    void readinessWithoutTheTokenSaysOnlyWhetherTheServerIsReady() throws IOException {
        JsonNode anonymous = JSON.readTree(get("/health/ready", headers()).body());
        assertThat(anonymous.properties()).hasSize(1);
        assertThat(anonymous.get("status").asText()).isEqualTo("ready");
        JsonNode detailed = JSON.readTree(get("/health/ready", headers("Authorization", "Bearer " + METRICS_TOKEN)).body());
        assertThat(detailed.has("embed_model")).isTrue();
        assertThat(detailed.has("providers")).isTrue();
        assertThat(get("/health/live", headers()).status()).isEqualTo(200);
    }

    @Test
    void beyondLoopbackHostsAreCheckedOnceAllowedHostsAreSetAndMetricsNeedAToken() {
        ServerConfig everywhere = ServerConfig.DEFAULTS.withHost("0.0.0.0");
        assertThat(new OriginGuard(everywhere).acceptsHost("keel.corp.example")).as("keys guard the API; any name may reach it").isTrue();
        ServerConfig named = KeelConfig.parse("server: {host: 0.0.0.0, admin_key: an-admin-key-long-enough, allowed_hosts: 'keel.corp.example, keel'}", k -> null).server();
        OriginGuard guard = new OriginGuard(named);
        assertThat(guard.acceptsHost("evil.example")).isFalse();
        assertThat(guard.acceptsHost("keel.corp.example:8080")).isTrue();
        assertThat(guard.acceptsHost("keel")).isTrue();
        assertThat(guard.acceptsHost("10.0.0.5:8080")).as("an address cannot be re-pointed by DNS").isTrue();
        assertThat(guard.acceptsHost("localhost:8080")).isTrue();
        assertThat(new OriginGuard(ServerConfig.DEFAULTS).acceptsHost("keel.corp.example")).isFalse();

        assertThat(HttpServer.operationalDetailsOpen(ServerConfig.DEFAULTS)).isTrue();
        assertThat(HttpServer.operationalDetailsOpen(everywhere)).isFalse();
    }
}
