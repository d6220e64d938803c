package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.SampleCorpus;
import dev.keel.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** OpenAI clients against a zero-config Keel over the sample docs, with no provider at all: the offline {@code keel-extractive} model. */
class OfflineModelClientsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> QUESTIONS = List.of("How long do I have to request a refund on an annual plan?",
            "Are monthly subscriptions refundable?", "How much does the Team plan cost per month?",
            "What is the phone number of the Orbitly office in Tokyo?");
    private static HttpServer server;
    private static String base;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        server = new HttpServer(SampleCorpus.keel());
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String chatRequest(String question, boolean stream) throws Exception {
        return "{\"model\":\"keel-extractive\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":"
                + JSON.writeValueAsString(question) + "}]}";
    }

    @Test
    void streamedTextEqualsTheNonStreamedTextParagraphBreaksIncluded() throws Exception {
        for (String question : QUESTIONS) {
            String whole = JSON.readTree(post("/v1/chat/completions", chatRequest(question, false)).body()).at("/choices/0/message/content").asText();
            StringBuilder streamed = new StringBuilder();
            for (String line : post("/v1/chat/completions", chatRequest(question, true)).body().split("\n")) {
                if (!line.startsWith("data: {")) continue;
                for (JsonNode choice : JSON.readTree(line.substring(6)).path("choices")) streamed.append(choice.path("delta").path("content").asText(""));
            }
            assertThat(whole).as(question).contains("\n\n");
            assertThat(streamed.toString()).as(question).isEqualTo(whole);
        }
    }

    @Test
    void aLastUserMessageOverTheQueryLimitIs400NamingTheLimit() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", chatRequest("refund ".repeat(600), false));
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("message").asText()).contains("4,000 characters").contains("4,200");
        HttpResponse<String> streamed = post("/v1/chat/completions", chatRequest("refund ".repeat(600), true));
        assertThat(streamed.statusCode()).isEqualTo(400);
    }
}
