package dev.keel.gateway;

import static dev.keel.gateway.FakeLlmServer.ok;
import static dev.keel.gateway.FakeLlmServer.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The exact and semantic caches on /v1/chat/completions and /v1/responses against a fake provider:
 * what is cached, how hits are served, billed and headed, and that no tenant is ever served, or can
 * observe, another tenant's entries. Every test uses its own tenants, so cached entries of one test
 * never meet another's.
 */
class ChatCacheTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    /** A key for a fresh tenant (with {@code policy} as extra key fields). */
    private static String key(String policy) throws Exception {
        return createKey("{\"name\":\"cache\",\"tenant\":\"t-" + UUID.randomUUID().toString().substring(0, 8) + "\"" + policy + "}").get("key").asText();
    }

    private static ObjectNode request(String question) {
        ObjectNode r = JSON.createObjectNode().put("model", "fast").put("temperature", 0);
        r.putArray("messages").addObject().put("role", "system").put("content", "Answer in one sentence.");
        r.withArray("messages").addObject().put("role", "user").put("content", question);
        return r;
    }

    private HttpResponse<String> post(String path, String key, JsonNode body) throws Exception {
        return send("POST", path, key, body.toString());
    }

    private HttpResponse<String> chat(String key, JsonNode body) throws Exception {
        return post("/v1/chat/completions", key, body);
    }

    private static String cacheHeader(HttpResponse<String> r) {
        return r.headers().firstValue("x-keel-cache").orElse("absent");
    }

    private static String content(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).at("/choices/0/message/content").asText();
    }

    @Test
    void anIdenticalDeterministicRequestIsServedFromTheCacheWithoutReachingTheProvider() throws Exception {
        String key = key("");
        fixture.primary.then(ok("Refunds take ten days."));
        HttpResponse<String> first = chat(key, request("How long do refunds take?"));
        HttpResponse<String> second = chat(key, request("How long do refunds take?"));
        assertThat(cacheHeader(first)).isEqualTo("miss");
        assertThat(cacheHeader(second)).isEqualTo("hit-exact");
        assertThat(content(second)).isEqualTo("Refunds take ten days.");
        assertThat(JSON.readTree(second.body()).path("model").asText()).isEqualTo("fast");
        assertThat(JSON.readTree(second.body()).path("id").asText()).isNotEqualTo(JSON.readTree(first.body()).path("id").asText());
        assertThat(second.headers().firstValue("x-keel-cost-usd")).contains("0.00000000");
        assertThat(second.headers().firstValue("x-keel-provider")).isEmpty();
        assertThat(fixture.primary.received).hasSize(1);
    }

    @Test
    void keyOrderNumberFormatAndTransportFieldsDoNotChangeTheExactKey() throws Exception {
        String key = key("");
        chat(key, request("What is the refund window?"));
        ObjectNode same = JSON.createObjectNode().put("user", "someone").put("temperature", 0.0).put("stream", false);
        same.set("messages", request("What is the refund window?").get("messages"));
        same.put("model", "fast").putObject("metadata").put("note", "x");
        assertThat(cacheHeader(chat(key, same))).isEqualTo("hit-exact");
        assertThat(cacheHeader(chat(key, request("What is the refund window?").put("max_tokens", 7)))).isEqualTo("miss");
        assertThat(fixture.primary.received).hasSize(2);
    }

    @Test
    void aParaphrasedLastQuestionIsASemanticHitWhenEverythingElseIsEqual() throws Exception {
        String key = key("");
        fixture.primary.then(ok("Within ten business days."));
        chat(key, request("How long does it take to get a refund?"));
        HttpResponse<String> paraphrase = chat(key, request("How long does it take to get a refund"));
        assertThat(cacheHeader(paraphrase)).isEqualTo("hit-semantic");
        assertThat(content(paraphrase)).isEqualTo("Within ten business days.");
        ObjectNode otherSystem = request("How long does it take to get a refund");
        ((ObjectNode) otherSystem.withArray("messages").get(0)).put("content", "Answer in French.");
        assertThat(cacheHeader(chat(key, otherSystem))).isEqualTo("miss");
        assertThat(cacheHeader(chat(key, request("How do I reset my password?")))).isEqualTo("miss");
        assertThat(fixture.primary.received).hasSize(3);
    }

    @Test
    void questionsThatDifferInANumberOrANegationAreNeverSemanticHitsThoughTheirEmbeddingsAreClose() throws Exception {
        String key = key("");
        fixture.primary.then(ok("Yes, 100 per minute."), ok("No, 100."), ok("Open Settings, then Billing."), ok("Keep paying."));
        chat(key, request("Is the API rate limit 100 requests per minute?"));
        // bge-small puts these two 0.96-0.97 apart, above the 0.95 threshold.
        assertThat(cacheHeader(chat(key, request("Is the API rate limit 1000 requests per minute?")))).isEqualTo("miss");
        HttpResponse<String> separators = chat(key, request("Is the API rate-limit 1,000 requests per minute?"));
        assertThat(cacheHeader(separators)).isEqualTo("hit-semantic");
        assertThat(content(separators)).isEqualTo("No, 100.");

        chat(key, request("How do I cancel my subscription?"));
        assertThat(cacheHeader(chat(key, request("How do I not cancel my subscription?")))).isEqualTo("miss");
        assertThat(cacheHeader(chat(key, request("How don't I cancel my subscription?")))).isEqualTo("hit-semantic");
        HttpResponse<String> paraphrase = chat(key, request("How can I cancel my subscription?"));
        assertThat(cacheHeader(paraphrase)).isEqualTo("hit-semantic");
        assertThat(content(paraphrase)).isEqualTo("Open Settings, then Billing.");
        assertThat(fixture.primary.received).hasSize(4);
    }

    @Test
    void questionsWhoseSharedWordsAreSwappedAreNeverSemanticHitsThoughTheirEmbeddingsAreClose() throws Exception {
        String key = key("");
        fixture.primary.then(ok("Dump with pg_dump, load with mysql."), ok("Dump with mysqldump, load with psql."), ok("Usually, yes."),
                ok("It depends."));
        chat(key, request("How do I migrate my data from Postgres to MySQL?"));
        // bge-small puts these two above the 0.95 threshold: embeddings barely see word order.
        HttpResponse<String> swapped = chat(key, request("How do I migrate my data from MySQL to Postgres?"));
        assertThat(cacheHeader(swapped)).isEqualTo("miss");
        assertThat(content(swapped)).isEqualTo("Dump with mysqldump, load with psql.");
        HttpResponse<String> reworded = chat(key, request("How can I migrate my data from Postgres to MySQL?"));
        assertThat(cacheHeader(reworded)).isEqualTo("hit-semantic");
        assertThat(content(reworded)).isEqualTo("Dump with pg_dump, load with mysql.");

        chat(key, request("Is Python faster than Java for web servers?"));
        assertThat(cacheHeader(chat(key, request("Is Java faster than Python for web servers?")))).isEqualTo("miss");
        assertThat(fixture.primary.received).hasSize(4);
    }

    @Test
    void questionsThatDifferOnlyInWhatTheEmbeddingModelCannotReadAreNeverSemanticHits() throws Exception {
        String key = key("");
        fixture.primary.then(ok("Yes."), ok("No."));
        chat(key, request("Is the 🍕 on the menu vegetarian?"));
        // bge-small reads both emoji as one unknown token: the two questions get the same vector.
        HttpResponse<String> other = chat(key, request("Is the 🥩 on the menu vegetarian?"));
        assertThat(cacheHeader(other)).isEqualTo("miss");
        assertThat(content(other)).isEqualTo("No.");
        assertThat(cacheHeader(chat(key, request("Is the 🍕 on the menu vegetarian")))).isEqualTo("hit-semantic");
    }

    @Test
    void aQuestionTheInputGuardEmbeddedIsNotEmbeddedAgainForTheCacheAndNeverForAnotherTenant() throws Exception {
        // Leetspeak: the input guard embeds such a text whatever its cheap score; the semantic cache compares the same text.
        String question = "pl34s3 ch3ck my 1nv01c3 numb3r f0r " + UUID.randomUUID();
        // The guard's first embedding also embeds its shipped attack exemplars.
        chat(key(""), request("pl34s3 ch3ck my 1nv01c3"));
        dev.keel.embed.CachingEmbedder embedder = fixture.keel.embedder();
        long computed = embedder.computedCount(), reused = embedder.reusedCount();

        assertThat(cacheHeader(chat(key(""), request(question)))).isEqualTo("miss");

        assertThat(embedder.computedCount() - computed).as("embedded once, by the guard").isEqualTo(1);
        assertThat(embedder.reusedCount() - reused).as("the cache took the guard's vector").isPositive();

        long computedBefore = embedder.computedCount();
        assertThat(cacheHeader(chat(key(""), request(question)))).isEqualTo("miss");
        assertThat(embedder.computedCount() - computedBefore).as("another tenant's request embeds its own text").isEqualTo(1);
    }

    @Test
    void requestsWhoseOutputMayVaryAreNeverCached() throws Exception {
        String key = key("");
        List<ObjectNode> varying = List.of(request("q1").put("temperature", 0.7), (ObjectNode) request("q2").without("temperature"),
                withTool(request("q3")), request("q4").put("logprobs", true));
        for (ObjectNode r : varying) {
            assertThat(cacheHeader(chat(key, r))).as(r.toString()).isEqualTo("off");
            assertThat(cacheHeader(chat(key, r))).as(r.toString()).isEqualTo("off");
        }
        assertThat(fixture.primary.received).hasSize(8);
    }

    private static ObjectNode withTool(ObjectNode r) {
        r.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "lookup").putObject("parameters").put("type", "object");
        return r;
    }

    @Test
    void cacheOffInTheBodyIsHonouredAndNeverSentUpstream() throws Exception {
        String key = key("");
        chat(key, request("Is my order shipped?").put("cache", "off"));
        HttpResponse<String> again = chat(key, request("Is my order shipped?").put("cache", "off"));
        assertThat(cacheHeader(again)).isEqualTo("off");
        assertThat(fixture.primary.received).hasSize(2);
        assertThat(fixture.primary.received.get(0).body().has("cache")).isFalse();
        HttpResponse<String> bad = chat(key, request("Is my order shipped?").put("cache", "maybe"));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).at("/error/param").asText()).isEqualTo("cache");
    }

    @Test
    void aKeyCreatedWithCacheFalseNeitherReadsNorWritesTheCache() throws Exception {
        JsonNode created = createKey("{\"name\":\"private\",\"tenant\":\"t-private-" + UUID.randomUUID().toString().substring(0, 8) + "\",\"cache\":false}");
        assertThat(created.path("cache").asBoolean(true)).isFalse();
        String key = created.get("key").asText();
        chat(key, request("Show my account balance."));
        assertThat(cacheHeader(chat(key, request("Show my account balance.")))).isEqualTo("off");
        assertThat(fixture.primary.received).hasSize(2);
        assertThat(send("POST", "/admin/keys", GatewayFixture.ADMIN_KEY, "{\"name\":\"x\",\"tenant\":\"t\",\"cache\":\"no\"}").statusCode()).isEqualTo(400);
    }

    @Test
    void anotherTenantNeverGetsACachedAnswerWhetherIdenticalNearDuplicateOrCraftedToCollide() throws Exception {
        String a = key(""), b = key("");
        fixture.primary.then(ok("A's secret answer."), ok("B's own answer."));
        chat(a, request("What is our merger code name?"));
        fixture.primary.then(ok("B's own answer."));
        List<ObjectNode> attempts = new ArrayList<>(List.of(request("What is our merger code name?"), request("What is our merger code name"),
                request("what is our merger code name?")));
        // B cannot name A's tenant: the key decides it, and a header or body field naming it changes nothing.
        attempts.add(request("What is our merger code name?").put("tenant", "a"));
        for (ObjectNode attempt : attempts) {
            HttpResponse<String> r = chat(b, attempt);
            assertThat(cacheHeader(r)).as(attempt.toString()).isIn("miss", "hit-exact", "hit-semantic");
            assertThat(content(r)).as(attempt.toString()).isEqualTo("B's own answer.");
        }
        assertThat(content(chat(a, request("What is our merger code name?")))).isEqualTo("A's secret answer.");
    }

    @Test
    void aFirstRequestOfATenantMissesWhateverOtherTenantsHaveCached() throws Exception {
        String a = key("");
        for (int i = 0; i < 20; i++) chat(a, request("Question number " + i + " about shipping?"));
        String b = key("");
        HttpResponse<String> r = chat(b, request("Question number 3 about shipping?"));
        assertThat(cacheHeader(r)).isEqualTo("miss");
        assertThat(fixture.primary.received).hasSize(21);
    }

    @Test
    void aStreamedCompletionIsStoredAndAHitIsReplayedAsAFaithfulChunkStream() throws Exception {
        String key = key("");
        fixture.primary.then(stream(List.of("Ten ", "business ", "days."), -1));
        HttpResponse<String> first = chat(key, request("Refund time?").put("stream", true));
        assertThat(cacheHeader(first)).isEqualTo("miss");
        assertThat(first.body()).contains("data: [DONE]");
        HttpResponse<String> plain = chat(key, request("Refund time?"));
        assertThat(cacheHeader(plain)).isEqualTo("hit-exact");
        assertThat(content(plain)).isEqualTo("Ten business days.");
        ObjectNode streamed = request("Refund time?").put("stream", true);
        streamed.putObject("stream_options").put("include_usage", true);
        HttpResponse<String> replay = chat(key, streamed);
        assertThat(cacheHeader(replay)).isEqualTo("hit-exact");
        assertThat(replay.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        StringBuilder text = new StringBuilder();
        String finish = null;
        boolean usage = false;
        for (String line : replay.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode chunk = JSON.readTree(line.substring(6));
            assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
            for (JsonNode c : chunk.path("choices")) {
                text.append(c.path("delta").path("content").asText(""));
                if (c.hasNonNull("finish_reason")) finish = c.get("finish_reason").asText();
            }
            usage |= chunk.has("usage");
        }
        assertThat(text.toString()).isEqualTo("Ten business days.");
        assertThat(finish).isEqualTo("stop");
        assertThat(usage).isTrue();
        assertThat(replay.body()).endsWith("data: [DONE]\n\n");
        assertThat(fixture.primary.received).hasSize(1);
    }

    @Test
    void aStreamCutOffMidwayIsNotStored() throws Exception {
        String key = key("");
        fixture.primary.then(stream(List.of("Half ", "an ", "answer"), 1), ok("The whole answer."));
        chat(key, request("Cut me off?").put("stream", true));
        HttpResponse<String> again = chat(key, request("Cut me off?"));
        assertThat(cacheHeader(again)).isEqualTo("miss");
        assertThat(content(again)).isEqualTo("The whole answer.");
    }

    @Test
    void theResponsesApiSharesTheCacheAndHeader() throws Exception {
        String key = key("");
        fixture.primary.then(ok("Ships in two days."));
        ObjectNode r = JSON.createObjectNode().put("model", "fast").put("temperature", 0).put("input", "When does my order ship?");
        assertThat(cacheHeader(post("/v1/responses", key, r))).isEqualTo("miss");
        HttpResponse<String> hit = post("/v1/responses", key, r);
        assertThat(cacheHeader(hit)).isEqualTo("hit-exact");
        assertThat(JSON.readTree(hit.body()).at("/output/0/content/0/text").asText()).isEqualTo("Ships in two days.");
        assertThat(cacheHeader(post("/v1/responses", key, r.put("cache", "off")))).isEqualTo("off");
        assertThat(fixture.primary.received).hasSize(2);
        assertThat(fixture.primary.received.get(1).body().has("cache")).isFalse();
    }

    @Test
    void aStreamedResponsesHitComesBackAsTheResponsesEventStream() throws Exception {
        String key = key("");
        fixture.primary.then(ok("Ships on Monday."));
        ObjectNode r = JSON.createObjectNode().put("model", "fast").put("temperature", 0).put("input", "Which day does it ship?");
        post("/v1/responses", key, r);
        HttpResponse<String> hit = post("/v1/responses", key, r.put("stream", true));
        assertThat(cacheHeader(hit)).isEqualTo("hit-exact");
        assertThat(hit.body()).contains("event: response.output_text.delta").contains("Ships on Monday.").contains("event: response.completed");
        assertThat(fixture.primary.received).hasSize(1);
    }

    @Test
    void answersOfTheExtractiveProviderAreNotStoredSinceTheyDependOnDocumentsThatChange() throws Exception {
        String key = key("");
        ObjectNode r = request("What does the memo say?").put("model", "docs-with-fallback");
        assertThat(chat(key, r).statusCode()).isEqualTo(200);
        assertThat(cacheHeader(chat(key, r))).isEqualTo("miss");
    }

    @Test
    void hitsCostNothingInTheLedgerAreTaggedThereAndStillCountAgainstTheRequestRate() throws Exception {
        String key = key(",\"requests_per_minute\":3");
        chat(key, request("Which rows does the ledger tag?"));
        chat(key, request("Which rows does the ledger tag?"));
        chat(key, request("Which rows does the ledger tag"));
        assertThat(chat(key, request("Which rows does the ledger tag?")).statusCode()).isEqualTo(429);
        fixture.keel.ledger().flush();
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + fixture.keel.dataDir().resolve("keel.db"));
             ResultSet rs = c.createStatement().executeQuery("SELECT cache, cost_usd, prompt_tokens, provider FROM ledger WHERE key_id = (SELECT id FROM api_keys"
                     + " WHERE prefix = '" + key.substring(0, 12) + "') AND status = 200 ORDER BY id")) {
            while (rs.next()) rows.add(rs.getString(1) + " " + rs.getDouble(2) + " " + rs.getLong(3) + " " + rs.getString(4));
        }
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0)).startsWith("null ").endsWith(" primary");
        assertThat(rows.get(1)).isEqualTo("hit-exact 0.0 0 null");
        assertThat(rows.get(2)).isEqualTo("hit-semantic 0.0 0 null");
    }

    @Test
    void aResponseOverTheEntrySizeLimitIsServedButNotStored() throws Exception {
        String key = key("");
        fixture.primary.then(ok("x".repeat(20_000)));
        chat(key, request("Write a long essay."));
        HttpResponse<String> again = chat(key, request("Write a long essay."));
        assertThat(cacheHeader(again)).isEqualTo("miss");
        assertThat(fixture.primary.received).hasSize(2);
    }

    @Test
    void aHugeRequestIsCachedByItsHashButNeverComparedByEmbedding() throws Exception {
        String key = key("");
        String huge = "Summarise this log: " + "line of text ".repeat(12_000); // under guard.input.max_chars
        chat(key, request(huge));
        assertThat(cacheHeader(chat(key, request(huge)))).isEqualTo("hit-exact");
        // Past the embedding window two messages differing only at the end would look identical: no semantic lookup for them.
        assertThat(cacheHeader(chat(key, request(huge + "and one more line")))).isEqualTo("miss");
        assertThat(fixture.primary.received).hasSize(2);
    }

    @Test
    void aReplyWithoutTextIsNotStored() throws Exception {
        String key = key("");
        fixture.primary.then(FakeLlmServer.raw("{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"length\"}]}"), ok("Open Settings."));
        chat(key, request("How do I export my data?"));
        HttpResponse<String> again = chat(key, request("How do I export my data?"));
        assertThat(cacheHeader(again)).isEqualTo("miss");
        assertThat(content(again)).isEqualTo("Open Settings.");
    }

    @Test
    void aMessageOfOnlyInvisibleCharactersIsCachedExactlyAndNeverComparedByEmbedding() throws Exception {
        String key = key("");
        chat(key, request("How do I reset my password?"));
        for (String invisible : List.of("\u200b", "\u00ad", "\u202e", "\ufeff", "\u0301", "\u0007")) {
            HttpResponse<String> r = chat(key, request(invisible));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(cacheHeader(r)).isEqualTo("miss");
            assertThat(cacheHeader(chat(key, request(invisible)))).isEqualTo("hit-exact");
        }
    }

    @Test
    void concurrentIdenticalMissesAllSucceedAndLeaveOneUsableEntry() throws Exception {
        String key = key("");
        fixture.primary.then(ok("Same answer for all."));
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    start.await();
                    return chat(key, request("Race me?"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, command -> Thread.ofVirtual().start(command)));
        }
        start.countDown();
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.get(60, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(content(r)).isEqualTo("Same answer for all.");
        }
        HttpResponse<String> after = chat(key, request("Race me?"));
        assertThat(cacheHeader(after)).isEqualTo("hit-exact");
        assertThat(content(after)).isEqualTo("Same answer for all.");
    }

    @Test
    void hitsMissesAndSavedCostAreMetricsWithoutTenantLabels() throws Exception {
        String key = key("");
        chat(key, request("Count me?"));
        chat(key, request("Count me?"));
        String metrics = http.send(HttpRequest.newBuilder(URI.create(fixture.base + "/metrics")).header("Authorization", "Bearer " + GatewayFixture.ADMIN_KEY)
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("keel_cache_requests_total{result=\"hit-exact\",surface=\"chat\"}")
                .contains("keel_cache_requests_total{result=\"miss\",surface=\"chat\"}")
                .contains("keel_cache_saved_usd_total{surface=\"chat\"}")
                .contains("keel_cache_lookup_seconds_count{surface=\"chat\"}");
        assertThat(metrics.lines().filter(l -> l.startsWith("keel_cache")).toList()).noneMatch(l -> l.contains("tenant") || l.contains("key"));
    }
}
