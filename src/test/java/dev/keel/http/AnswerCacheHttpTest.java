package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/answer} through the caches, over the real pipeline: repeats and paraphrases are served
 * from the cache, an answer dies with a change or deletion of a document it used, declined answers
 * are not kept, and one tenant's cached answers never reach another tenant. Each test writes to its
 * own tenants.
 */
class AnswerCacheHttpTest extends SampleServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRETS = """
            # Security handbook

            ## Secrets

            Rotate an API secret from the settings page; the previous secret keeps working for %s.
            """;
    private final HttpClient http = HttpClient.newHttpClient();

    private static String tenant() {
        return "cache-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private HttpResponse<String> call(String method, String path, String tenant, ObjectNode body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json").header("X-Keel-Tenant", tenant)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void ingest(String tenant, String id, String text) throws Exception {
        HttpResponse<String> r = call("POST", "/v1/documents", tenant, JSON.createObjectNode().put("id", id).put("text", text));
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    }

    private HttpResponse<String> ask(String tenant, String question) throws Exception {
        return call("POST", "/v1/answer", tenant, JSON.createObjectNode().put("question", question));
    }

    private static String cache(HttpResponse<String> r) {
        return r.headers().firstValue("x-keel-cache").orElse("absent");
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Test
    void aRepeatedQuestionIsAnExactHitWithTheSameAnswerUnderItsOwnTraceId() throws Exception {
        String t = tenant();
        ingest(t, "secrets", SECRETS.formatted("24 hours"));
        HttpResponse<String> first = ask(t, "How do I rotate an API secret?"), second = ask(t, "How do I rotate an API secret?");
        assertThat(cache(first)).isEqualTo("miss");
        assertThat(cache(second)).isEqualTo("hit-exact");
        assertThat(json(second).path("answer").asText()).isEqualTo(json(first).path("answer").asText()).contains("24 hours");
        assertThat(json(second).path("sources")).isEqualTo(json(first).path("sources"));
        assertThat(json(second).path("trace_id").asText()).isNotEqualTo(json(first).path("trace_id").asText())
                .isEqualTo(second.headers().firstValue("x-keel-trace-id").orElseThrow());
    }

    @Test
    void aParaphrasedQuestionIsASemanticHit() throws Exception {
        String t = tenant();
        ingest(t, "secrets", SECRETS.formatted("24 hours"));
        ask(t, "How do I rotate an API secret?");
        HttpResponse<String> paraphrase = ask(t, "How can I rotate my API secret?");
        assertThat(cache(paraphrase)).isEqualTo("hit-semantic");
        assertThat(json(paraphrase).path("answer").asText()).contains("24 hours");
    }

    @Test
    void aCachedAnswerDiesWhenADocumentItUsedChanges() throws Exception {
        String t = tenant();
        ingest(t, "secrets", SECRETS.formatted("24 hours"));
        ask(t, "How do I rotate an API secret?");
        ingest(t, "secrets", SECRETS.formatted("48 hours"));
        HttpResponse<String> after = ask(t, "How do I rotate an API secret?");
        assertThat(cache(after)).isEqualTo("miss");
        assertThat(json(after).path("answer").asText()).contains("48 hours");
        assertThat(cache(ask(t, "How can I rotate my API secret?"))).isEqualTo("hit-semantic");
    }

    @Test
    void aCachedAnswerDiesWhenADocumentItUsedIsDeleted() throws Exception {
        String t = tenant();
        ingest(t, "secrets", SECRETS.formatted("24 hours"));
        ask(t, "How do I rotate an API secret?");
        assertThat(call("DELETE", "/v1/documents/secrets", t, null).statusCode()).isEqualTo(200);
        HttpResponse<String> after = ask(t, "How do I rotate an API secret?");
        assertThat(cache(after)).isEqualTo("miss");
        assertThat(json(after).path("answer").asText()).doesNotContain("24 hours");
    }

    @Test
    void anotherTenantAskingTheSameOrANearlySameQuestionGetsItsOwnAnswer() throws Exception {
        String a = tenant(), b = tenant();
        ingest(a, "secrets", SECRETS.formatted("24 hours"));
        ingest(b, "secrets", SECRETS.formatted("7 days"));
        ask(a, "How do I rotate an API secret?");
        for (String q : new String[] {"How do I rotate an API secret?", "How can I rotate my API secret?"}) {
            HttpResponse<String> r = ask(b, q);
            assertThat(json(r).path("answer").asText()).as(q).contains("7 days").doesNotContain("24 hours");
            assertThat(json(r).path("sources").toString()).doesNotContain("24 hours");
        }
        assertThat(cache(ask(tenant(), "How do I rotate an API secret?"))).isEqualTo("miss");
    }

    @Test
    void aStreamedHitSendsSourcesDeltasAndDoneLikeAFreshAnswer() throws Exception {
        String t = tenant();
        ingest(t, "secrets", SECRETS.formatted("24 hours"));
        HttpResponse<String> fresh = call("POST", "/v1/answer?stream=true", t, JSON.createObjectNode().put("question", "How do I rotate an API secret?"));
        HttpResponse<String> cached = call("POST", "/v1/answer?stream=true", t, JSON.createObjectNode().put("question", "How do I rotate an API secret?"));
        assertThat(cache(fresh)).isEqualTo("miss");
        assertThat(cache(cached)).isEqualTo("hit-exact");
        assertThat(events(cached.body())).isEqualTo(events(fresh.body())).startsWith("sources").endsWith("done");
        assertThat(deltas(cached.body())).isEqualTo(deltas(fresh.body())).contains("24 hours");
    }

    private static String events(String sse) {
        return String.join(",", sse.lines().filter(l -> l.startsWith("event: ")).map(l -> l.substring(7)).distinct().toList());
    }

    private static String deltas(String sse) throws Exception {
        StringBuilder sb = new StringBuilder();
        String[] lines = sse.split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].equals("event: delta")) sb.append(JSON.readTree(lines[i + 1].substring(6)).path("text").asText());
        }
        return sb.toString();
    }

    @Test
    void aDeclinedAnswerIsNotKeptSoADocumentAddedLaterAnswersIt() throws Exception {
        String t = tenant();
        ingest(t, "secrets", SECRETS.formatted("24 hours"));
        HttpResponse<String> declined = ask(t, "Which colour is the office carpet in Lisbon?");
        assertThat(json(declined).path("answered").asBoolean()).isFalse();
        ingest(t, "office", "# Lisbon office\n\nThe office carpet in Lisbon is dark green wool.");
        HttpResponse<String> after = ask(t, "Which colour is the office carpet in Lisbon?");
        assertThat(cache(after)).isEqualTo("miss");
        assertThat(json(after).path("answer").asText()).contains("green");
    }

    @Test
    void cacheOffInTheBodyAnswersFresh() throws Exception {
        String t = tenant();
        ingest(t, "secrets", SECRETS.formatted("24 hours"));
        ask(t, "How do I rotate an API secret?");
        HttpResponse<String> r = call("POST", "/v1/answer", t, JSON.createObjectNode().put("question", "How do I rotate an API secret?").put("cache", "off"));
        assertThat(cache(r)).isEqualTo("off");
        assertThat(json(r).path("answer").asText()).contains("24 hours");
    }
}
