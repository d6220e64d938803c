package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
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

/**
 * OpenAI clients against a zero-config Keel over the sample docs, with no provider at all: the
 * offline {@code keel-extractive} model through chat completions and the Responses API, and the
 * local embedding model fed token ids as LangChain sends them.
 */
class OfflineModelClientsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Encoding CL100K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
    private static final List<String> QUESTIONS = List.of("How long do I have to request a refund on an annual plan?",
            "Are monthly subscriptions refundable?", "How much does the Team plan cost per month?",
            "What is the phone number of the Orbitly office in Tokyo?");
    private static HttpServer server;
    private static String base;
    private static OpenAIClient openai;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        server = new HttpServer(SampleCorpus.keel());
        base = "http://127.0.0.1:" + server.start();
        openai = OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey("unused").maxRetries(0).responseValidation(true).build();
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

    @Test
    void theResponsesApiServesTheOfflineModelBlockingAndStreaming() {
        Response blocking = openai.responses().create(ResponseCreateParams.builder().model("keel-extractive").instructions("Be brief.")
                .input(QUESTIONS.getFirst()).build());
        String text = blocking.output().getFirst().asMessage().content().getFirst().asOutputText().text();
        assertThat(text).contains("30 days").contains("Sources:").contains("no language model was used");
        assertThat(blocking.usage().orElseThrow().outputTokens()).isPositive();
        ResponseAccumulator accumulator = ResponseAccumulator.create();
        StringBuilder deltas = new StringBuilder();
        try (StreamResponse<ResponseStreamEvent> stream = openai.responses().createStreaming(ResponseCreateParams.builder().model("keel-extractive")
                .input(QUESTIONS.getFirst()).build())) {
            stream.stream().forEach(e -> accumulator.accumulate(e).outputTextDelta().ifPresent(d -> deltas.append(d.delta())));
        }
        assertThat(deltas.toString()).isEqualTo(text);
        assertThat(accumulator.response().output().getFirst().asMessage().content().getFirst().asOutputText().text()).isEqualTo(text);
    }

    @Test
    void tokenIdsAreDecodedForTheLocalEmbeddingModel() {
        String text = "refund policy for annual plans";
        List<Long> ids = CL100K.encodeOrdinary(text).boxed().stream().map(Integer::longValue).toList();
        CreateEmbeddingResponse fromText = openai.embeddings().create(EmbeddingCreateParams.builder().model("bge-small-en-v1.5-q").input(text).build());
        CreateEmbeddingResponse fromTokens = openai.embeddings().create(EmbeddingCreateParams.builder().model("bge-small-en-v1.5-q")
                .inputOfArrayOfTokens(ids).build());
        CreateEmbeddingResponse fromTokenArrays = openai.embeddings().create(EmbeddingCreateParams.builder().model("bge-small-en-v1.5-q")
                .inputOfArrayOfTokenArrays(List.of(ids, ids)).build());
        assertThat(fromTokens.data().getFirst().embedding()).isEqualTo(fromText.data().getFirst().embedding());
        assertThat(fromTokenArrays.data()).hasSize(2);
        assertThat(fromTokenArrays.data().get(1).embedding()).isEqualTo(fromText.data().getFirst().embedding());
        assertThat(fromTokens.usage().promptTokens()).isEqualTo(ids.size());
    }

    @Test
    void tokenIdsOutsideTheVocabularyAre400NamingInput() throws Exception {
        for (String input : List.of("[100256]", "[[15339],[-1]]", "[[15339],[3000000000]]", "[15339,\"x\"]", "[[]]", "[1.5]")) {
            HttpResponse<String> r = post("/v1/embeddings", "{\"input\":" + input + "}");
            assertThat(r.statusCode()).as(input).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).at("/error/param").asText()).as(input).isEqualTo("input");
        }
    }
}
