package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import com.openai.models.responses.ResponseCreateParams;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What OpenAI clients expect around chat: {@code GET /v1/models[/{id}]} within the key's allowance,
 * NotFound errors for unknown models (also when only the upstream knows it does not have one),
 * token-array embeddings passed through, and the upstream's {@code x-request-id} forwarded.
 */
class ClientExpectationsTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UPSTREAM_UNKNOWN_MODEL =
            "{\"error\":{\"message\":\"The model `upstream-fast-001` does not exist or you do not have access to it.\",\"type\":\"invalid_request_error\","
                    + "\"param\":null,\"code\":\"model_not_found\"}}";
    private static String key, fastOnlyKey;
    private static OpenAIClient openai, fastOnly;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void keys() throws Exception {
        key = createKey("{\"name\":\"everything\",\"tenant\":\"clients\"}").get("key").asText();
        fastOnlyKey = createKey("{\"name\":\"fast only\",\"tenant\":\"clients\",\"models\":[\"fast\",\"remote-embed\"]}").get("key").asText();
        openai = OpenAIOkHttpClient.builder().baseUrl(fixture.base + "/v1").apiKey(key).maxRetries(0).responseValidation(true).build();
        fastOnly = OpenAIOkHttpClient.builder().baseUrl(fixture.base + "/v1").apiKey(fastOnlyKey).maxRetries(0).responseValidation(true).build();
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return send(method, path, key, body);
    }

    private static List<String> ids(OpenAIClient client) {
        List<String> ids = new ArrayList<>();
        client.models().list().autoPager().forEach(m -> ids.add(m.id()));
        return ids;
    }

    @Test
    void modelsListsTheCatalogAndTheLocalEmbeddingModel() {
        assertThat(ids(openai)).containsExactly("claude-chat", "docs-with-fallback", "fast", "guarded", "patient-but-capped", "pricey", "remote-embed",
                "resilient", "tiny", "unreachable", "bge-small-en-v1.5-q");
    }

    @Test
    void oneModelIsRetrievedInOpenAisShape() {
        Model fast = openai.models().retrieve("fast");
        fast.validate();
        assertThat(fast.id()).isEqualTo("fast");
        assertThat(fast.ownedBy()).isEqualTo("keel");
        assertThat(openai.models().retrieve("bge-small-en-v1.5-q").ownedBy()).isEqualTo("keel-local-embeddings");
    }

    @Test
    void anUnknownModelIdIsTheSdksNotFoundError() {
        NotFoundException e = catchThrowableOfType(NotFoundException.class, () -> openai.models().retrieve("gpt-imaginary"));
        assertThat(e.code()).hasValue("model_not_found");
        assertThat(e.type()).hasValue("invalid_request_error");
    }

    @Test
    void aKeySeesOnlyTheModelsItMayUse() {
        assertThat(ids(fastOnly)).containsExactly("fast", "remote-embed", "bge-small-en-v1.5-q");
        assertThat(fastOnly.models().retrieve("fast").id()).isEqualTo("fast");
        NotFoundException e = catchThrowableOfType(NotFoundException.class, () -> fastOnly.models().retrieve("resilient"));
        assertThat(e.code()).hasValue("model_not_found");
    }

    @Test
    void anUnknownModelIsNotFoundOnChatResponsesAndEmbeddings() {
        NotFoundException chat = catchThrowableOfType(NotFoundException.class, () -> openai.chat().completions().create(
                ChatCompletionCreateParams.builder().model("gpt-imaginary").addUserMessage("hi").build()));
        NotFoundException responses = catchThrowableOfType(NotFoundException.class, () -> openai.responses().create(
                ResponseCreateParams.builder().model("gpt-imaginary").input("hi").build()));
        NotFoundException embeddings = catchThrowableOfType(NotFoundException.class, () -> openai.embeddings().create(
                EmbeddingCreateParams.builder().model("gpt-imaginary").input("hi").build()));
        for (NotFoundException e : List.of(chat, responses, embeddings)) {
            assertThat(e.code()).hasValue("model_not_found");
            assertThat(e.type()).hasValue("invalid_request_error");
        }
    }

    @Test
    void aCatalogTargetTheUpstreamDoesNotKnowIsKeelsMisconfiguration502NotTheClients404() throws Exception {
        fixture.primary.then(FakeLlmServer.status(404, UPSTREAM_UNKNOWN_MODEL, Map.of()));
        HttpResponse<String> chat = send("POST", "/v1/chat/completions", "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(chat.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(chat.body()).at("/error/message").asText()).contains("models.fast.targets");
        HttpResponse<String> embeddings = send("POST", "/v1/embeddings", "{\"model\":\"remote-embed\",\"input\":\"hi\"}");
        assertThat(embeddings.statusCode()).isEqualTo(502);
        assertThat(fixture.primary.received).as("not retried").hasSize(2);
    }

    @Test
    void aCatalogTargetTheUpstreamDoesNotKnowFallsBackToTheNextTarget() throws Exception {
        fixture.primary.then(FakeLlmServer.status(404, UPSTREAM_UNKNOWN_MODEL, Map.of()));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", "{\"model\":\"resilient\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-keel-provider")).contains("secondary");
    }

    @Test
    void aBare404IsAWrongBaseUrl502() throws Exception {
        fixture.primary.then(FakeLlmServer.status(404, "<html><body>Not Found</body></html>", Map.of()));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("base_url");
    }

    @Test
    void tokenArraysPassThroughToAnUpstreamEmbeddingModelUnchanged() throws Exception {
        fixture.primary.then(FakeLlmServer.embeddings());
        HttpResponse<String> r = send("POST", "/v1/embeddings", "{\"model\":\"remote-embed\",\"input\":[[9642,4947],[1904]]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("data")).hasSize(2);
        assertThat(fixture.primary.received.get(0).body().get("input").toString()).isEqualTo("[[9642,4947],[1904]]");
        HttpResponse<String> malformed = send("POST", "/v1/embeddings", "{\"model\":\"remote-embed\",\"input\":[[1,\"two\"]]}");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(malformed.body()).at("/error/param").asText()).isEqualTo("input");
        assertThat(fixture.primary.received).hasSize(1);
    }

    @Test
    void theUpstreamsRequestIdIsForwardedAndKeptInTheTrace() throws Exception {
        fixture.primary.then(FakeLlmServer.ok("hi"));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        String upstreamId = fixture.primary.received.get(0).requestId();
        assertThat(r.headers().firstValue("x-request-id")).hasValue(upstreamId);
        String traceId = r.headers().firstValue("x-keel-trace-id").orElseThrow();
        JsonNode trace = JSON.readTree(send("GET", "/v1/traces/" + traceId, null).body());
        assertThat(trace.at("/attributes/upstream.request_id").asText()).isEqualTo(upstreamId);
    }

    @Test
    void theRequestIdForwardedIsTheOneOfTheUpstreamThatServed() throws Exception {
        fixture.primary.then(FakeLlmServer.status(503, "down", Map.of()));
        fixture.secondary.then(FakeLlmServer.ok("from the fallback"));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", "{\"model\":\"resilient\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.headers().firstValue("x-keel-provider")).hasValue("secondary");
        assertThat(r.headers().firstValue("x-request-id")).hasValue(fixture.secondary.received.get(0).requestId());
    }

    @Test
    void theRequestIdIsForwardedOnStreamsEmbeddingsAndUpstreamErrors() throws Exception {
        fixture.primary.then(FakeLlmServer.stream(List.of("a", "b"), -1));
        HttpResponse<String> stream = send("POST", "/v1/chat/completions",
                "{\"model\":\"fast\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(stream.headers().firstValue("x-request-id")).hasValue(fixture.primary.received.get(0).requestId());
        fixture.primary.then(FakeLlmServer.embeddings());
        HttpResponse<String> embeddings = send("POST", "/v1/embeddings", "{\"model\":\"remote-embed\",\"input\":\"hi\"}");
        assertThat(embeddings.headers().firstValue("x-request-id")).hasValue(fixture.primary.received.get(1).requestId());
        fixture.primary.then(FakeLlmServer.status(400, "{\"error\":{\"message\":\"bad temperature\"}}", Map.of()));
        HttpResponse<String> rejected = send("POST", "/v1/chat/completions", "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(rejected.statusCode()).isEqualTo(400);
        assertThat(rejected.headers().firstValue("x-request-id")).hasValue(fixture.primary.received.get(2).requestId());
    }

    @Test
    void anthropicsRequestIdIsForwardedAsXRequestId() throws Exception {
        fixture.anthropic.then(FakeLlmServer.anthropic("Hej", null, null, "end_turn"));
        HttpResponse<String> r = send("POST", "/v1/chat/completions", "{\"model\":\"claude-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.headers().firstValue("x-request-id")).hasValue(fixture.anthropic.received.get(0).requestId());
    }
}
