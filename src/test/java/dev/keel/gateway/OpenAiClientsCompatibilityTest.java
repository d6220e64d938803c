package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Clients nobody here wrote, pointed at Keel: the official OpenAI Java SDK and LangChain4j's OpenAI models. */
class OpenAiClientsCompatibilityTest extends GatewayTestBase {
    private static OpenAIClient openai;

    @BeforeAll
    static void client() {
        openai = OpenAIOkHttpClient.builder().baseUrl(fixture.base + "/v1").apiKey("sk-keel-client").maxRetries(0).build();
    }

    @Test
    void officialSdkCompletes() {
        fixture.primary.then(FakeLlmServer.ok("Hello from upstream"));
        ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fast").addSystemMessage("Be brief.").addUserMessage("Say hello").temperature(0.1).build());
        assertThat(c.choices().get(0).message().content()).contains("Hello from upstream");
        assertThat(c.model()).isEqualTo("fast");
        assertThat(c.usage().orElseThrow().totalTokens()).isEqualTo(14);
    }

    @Test
    void officialSdkStreams() {
        fixture.primary.then(FakeLlmServer.stream(List.of("Str", "eam", "ed"), -1));
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                .model("fast").addUserMessage("Stream please").build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(choice -> choice.delta().content().ifPresent(text::append)));
        }
        assertThat(text.toString()).isEqualTo("Streamed");
    }

    @Test
    void officialSdkEmbedsWithTheLocalModel() {
        CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder()
                .model("bge-small-en-v1.5-q").input("refund policy for annual plans").build());
        assertThat(r.data()).hasSize(1);
        assertThat(r.data().get(0).embedding()).hasSize(384);
    }

    @Test
    void officialSdkSeesOpenAiErrors() {
        try {
            openai.chat().completions().create(ChatCompletionCreateParams.builder().model("no-such-model").addUserMessage("hi").build());
            throw new AssertionError("expected a NotFoundException");
        } catch (com.openai.errors.NotFoundException e) {
            assertThat(e.statusCode()).isEqualTo(404);
            assertThat(e.getMessage()).contains("no-such-model");
        }
    }

    @Test
    void langChain4jChatModelWorks() {
        fixture.primary.then(FakeLlmServer.ok("LangChain4j says hi"));
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(fixture.base + "/v1").apiKey("sk-keel-client").modelName("fast").maxRetries(0).build();
        assertThat(model.chat("Say hi")).isEqualTo("LangChain4j says hi");
    }

    @Test
    void langChain4jStreamingChatModelWorks() throws Exception {
        fixture.primary.then(FakeLlmServer.stream(List.of("Lang", "Chain", "4j"), -1));
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(fixture.base + "/v1").apiKey("sk-keel-client").modelName("fast").build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat("Stream", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String token) {
                partial.append(token);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse response = done.get(30, TimeUnit.SECONDS);
        assertThat(partial.toString()).isEqualTo("LangChain4j");
        assertThat(response.aiMessage().text()).isEqualTo("LangChain4j");
    }
}
