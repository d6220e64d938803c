package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.guard.Guard;
import dev.keel.guard.TestGuards;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@code POST /v1/guard/check}: verdicts, spans, profiles, bad input, and nothing of the text in logs or traces. */
class GuardCheckHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String EMAIL = "ann.secret@example.com";
    private static Keel keel;
    private static HttpServer server;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        // Trusted callers (tenant "vip") are blocked only above 0.99, above the test detector's attack score.
        keel = Keel.open(KeelConfig.parse("""
                server: {port: 0}
                guard:
                  enabled: false
                  input: {strict_threshold: 0.5, trusted_threshold: 0.99}
                  tenants: {vip: trusted}
                """, k -> null), Files.createTempDirectory("keel-guard-check-"), TestGuards.flagging());
        server = new HttpServer(keel);
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        keel.close();
    }

    private static HttpResponse<String> check(String tenant, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/guard/check")).header("Content-Type", "application/json")
                .header("X-Keel-Tenant", tenant).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode ok(String tenant, Map<String, Object> body) throws Exception {
        HttpResponse<String> r = check(tenant, JSON.writeValueAsString(body));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return JSON.readTree(r.body()).get("error");
    }

    @Test
    void aPlainQuestionIsAllowedWithItsScoreAndNoEntities() throws Exception {
        JsonNode r = ok("default", Map.of("text", "Can I ignore the previous invoice if I paid the new one?"));

        assertThat(r.get("verdict").asText()).isEqualTo("allow");
        assertThat(r.get("score").asDouble()).isZero();
        assertThat(r.get("categories")).isEmpty();
        assertThat(r.get("entities")).isEmpty();
        assertThat(r.has("code")).isFalse();
        assertThat(r.has("redacted_text")).isFalse();
        assertThat(r.get("trace_id").asText()).hasSize(32);
    }

    @Test
    void anInjectionIsBlockedWithACodeAMessageAndItsCategories() throws Exception {
        JsonNode r = ok("default", Map.of("text", TestGuards.INJECTION, "direction", "input"));

        assertThat(r.get("verdict").asText()).isEqualTo("block");
        assertThat(r.get("code").asText()).isEqualTo("prompt_injection");
        assertThat(r.get("message").asText()).contains("Rephrase");
        assertThat(r.get("categories")).extracting(JsonNode::asText).containsExactly("instruction_override");
        assertThat(r.get("score").asDouble()).isEqualTo(TestGuards.ATTACK_SCORE);
        assertThat(r.get("signals").get(0).toString()).isEqualTo("{\"layer\":\"pattern\",\"category\":\"instruction_override\",\"score\":0.97}");
    }

    @Test
    void piiIsRedactedWithSpansInUtf16CodeUnitsEndExclusive() throws Exception {
        String text = "\uD83D\uDE00 write to " + EMAIL + " today";
        JsonNode r = ok("default", Map.of("text", text));

        assertThat(r.get("verdict").asText()).isEqualTo("redact");
        JsonNode e = r.get("entities").get(0);
        assertThat(e.get("type").asText()).isEqualTo("EMAIL_ADDRESS");
        assertThat(text.substring(e.get("start").asInt(), e.get("end").asInt())).isEqualTo(EMAIL);
        assertThat(e.get("start").asInt()).as("two code units for the emoji").isEqualTo(12);
        assertThat(r.get("redacted_text").asText()).isEqualTo("\uD83D\uDE00 write to <EMAIL_1> today");
        assertThat(r.toString()).doesNotContain(EMAIL.substring(0, EMAIL.indexOf('@')));
    }

    @Test
    void anOutputIsCheckedForPiiButNotForInjection() throws Exception {
        JsonNode r = ok("default", Map.of("text", TestGuards.INJECTION + " Mail " + EMAIL, "direction", "output"));

        assertThat(r.get("verdict").asText()).isEqualTo("redact");
        assertThat(r.get("categories")).extracting(JsonNode::asText).containsExactly("EMAIL_ADDRESS");
    }

    @Test
    void withoutKeysTheProfileIsStrictAsInTheRequestPipelineAndMayBeNamed() throws Exception {
        assertThat(ok("default", Map.of("text", TestGuards.INJECTION)).get("verdict").asText()).isEqualTo("block");
        assertThat(ok("vip", Map.of("text", TestGuards.INJECTION)).get("verdict").asText()).as("a tenant header is not authentication").isEqualTo("block");
        assertThat(ok("vip", Map.of("text", TestGuards.INJECTION, "profile", "strict")).get("verdict").asText()).isEqualTo("block");
        assertThat(ok("default", Map.of("text", TestGuards.INJECTION, "profile", "trusted")).get("verdict").asText()).isEqualTo("allow");
    }

    @Test
    void itChecksEvenWhenTheGuardIsDisabledForTheRequestPipeline() throws Exception {
        assertThat(keel.config().guard().enabled()).isFalse();

        assertThat(ok("default", Map.of("text", TestGuards.INJECTION)).get("verdict").asText()).isEqualTo("block");
    }

    @Test
    void badFieldsAreRefusedNamingTheField() throws Exception {
        assertThat(error(check("default", "{}"), 400).get("param").asText()).isEqualTo("text");
        assertThat(error(check("default", "{\"text\": 42}"), 400).get("message").asText()).isEqualTo("'text' must be a string");
        JsonNode direction = error(check("default", "{\"text\": \"hi\", \"direction\": \"sideways\"}"), 400);
        assertThat(direction.get("param").asText()).isEqualTo("direction");
        assertThat(direction.get("message").asText()).contains("[input, output]");
        assertThat(error(check("default", "{\"text\": \"hi\", \"profile\": \"root\"}"), 400).get("param").asText()).isEqualTo("profile");
        assertThat(error(check("default", "{\"text\": \"hi\", \"profile\": 1}"), 400).get("param").asText()).isEqualTo("profile");
        assertThat(error(check("default", "{\"text\": \"hi\", \"txet\": \"hi\"}"), 400).get("message").asText()).contains("unknown field 'txet'");
        assertThat(error(check("default", "{\"text\": \"hi\""), 400).get("message").asText()).startsWith("malformed JSON");
        assertThat(error(check("default", "[\"hi\"]"), 400).get("message").asText()).isEqualTo("expected a JSON object");
    }

    @Test
    void anEmptyTextIsAllowedAndATextOverTheLimitIsRefusedWith413() throws Exception {
        assertThat(ok("default", Map.of("text", "")).get("verdict").asText()).isEqualTo("allow");
        assertThat(ok("default", Map.of("text", "x".repeat(Guard.MAX_CHECK_CHARS))).get("verdict").asText()).isEqualTo("allow");

        JsonNode e = error(check("default", JSON.writeValueAsString(Map.of("text", "x".repeat(Guard.MAX_CHECK_CHARS + 1)))), 413);

        assertThat(e.get("code").asText()).isEqualTo("text_too_large");
        assertThat(e.get("param").asText()).isEqualTo("text");
        assertThat(e.get("message").asText()).contains(Integer.toString(Guard.MAX_CHECK_CHARS));
    }

    @Test
    void neitherTheLogNorTheTraceHoldsTheTextOrItsPii() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        root.addAppender(log);
        JsonNode r;
        try {
            r = ok("default", Map.of("text", TestGuards.INJECTION + " " + EMAIL));
            ok("default", Map.of("text", "Mail " + EMAIL));
        } finally {
            root.detachAppender(log);
        }
        HttpResponse<String> trace = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/traces/" + r.get("trace_id").asText()))
                .header("X-Keel-Tenant", "default").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(trace.statusCode()).isEqualTo(200);
        assertThat(trace.body()).contains("\"guard.verdict\":\"block\"").contains("instruction_override").contains("text.chars")
                .doesNotContain("example.com").doesNotContain("admin password");
        assertThat(log.list).allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain("example.com").doesNotContain("admin password"));
    }

    @Test
    void withKeysTheProfileIsTheKeysTenantsWhateverTheTenantHeaderSays() throws Exception {
        try (Keel keyed = Keel.open(KeelConfig.parse("""
                server: {port: 0, admin_key: admin-secret-for-guard-checks}
                guard: {input: {trusted_threshold: 0.99}, tenants: {vip: trusted}}
                """, k -> null), Files.createTempDirectory("keel-guard-keys-"), TestGuards.flagging());
             HttpServer keyedServer = new HttpServer(keyed)) {
            String url = "http://127.0.0.1:" + keyedServer.start();
            HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/admin/keys")).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer admin-secret-for-guard-checks")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"k\",\"tenant\":\"default\"}")).build(), HttpResponse.BodyHandlers.ofString());
            String key = JSON.readTree(created.body()).get("key").asText();
            String body = JSON.writeValueAsString(Map.of("text", TestGuards.INJECTION));

            HttpResponse<String> anonymous = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v1/guard/check")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> spoofing = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v1/guard/check")).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + key).header("X-Keel-Tenant", "vip")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(error(anonymous, 401).get("code").asText()).isEqualTo("missing_api_key");
            assertThat(spoofing.statusCode()).as(spoofing.body()).isEqualTo(200);
            assertThat(JSON.readTree(spoofing.body()).get("verdict").asText()).as("the key's tenant is strict").isEqualTo("block");
            assertThat(checkWith(url, createKey(url, "{\"name\":\"v\",\"tenant\":\"vip\"}"), body)).as("the key's tenant is trusted").isEqualTo("allow");
            assertThat(checkWith(url, createKey(url, "{\"name\":\"t\",\"tenant\":\"default\",\"guard_profile\":\"trusted\"}"), body))
                    .as("the key's own profile wins").isEqualTo("allow");
            assertThat(checkWith(url, createKey(url, "{\"name\":\"s\",\"tenant\":\"vip\",\"guard_profile\":\"strict\"}"), body))
                    .as("the key's own profile wins over its tenant's").isEqualTo("block");
        }
    }

    private static String createKey(String url, String json) throws Exception {
        HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/admin/keys")).header("Content-Type", "application/json")
                .header("Authorization", "Bearer admin-secret-for-guard-checks").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("key").asText();
    }

    private static String checkWith(String url, String key, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v1/guard/check")).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + key).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).get("verdict").asText();
    }

    @Test
    void anotherTenantCannotReadACheck() throws Exception {
        JsonNode r = ok("tenant-a", Map.of("text", "Mail " + EMAIL));

        HttpResponse<String> other = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/traces/" + r.get("trace_id").asText()))
                .header("X-Keel-Tenant", "tenant-b").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(other.statusCode()).isEqualTo(404);
    }
}
