package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.responses.EasyInputMessage;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.StructuredResponse;
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
 * {@code POST /v1/responses} served over the chat path: the official OpenAI Java SDK (validating
 * every response and event strictly) and raw HTTP, against the fake OpenAI and Anthropic providers.
 */
class ResponsesApiTest extends GatewayTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static OpenAIClient openai;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void client() {
        openai = OpenAIOkHttpClient.builder().baseUrl(fixture.base + "/v1").apiKey("sk-keel-client").maxRetries(0).responseValidation(true).build();
    }

    private HttpResponse<String> post(String tenant, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(fixture.base + "/v1/responses")).header("Content-Type", "application/json")
                .header("X-Keel-Tenant", tenant).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String text(Response response) {
        StringBuilder text = new StringBuilder();
        for (ResponseOutputItem item : response.output()) {
            item.message().ifPresent(m -> m.content().forEach(c -> c.outputText().ifPresent(t -> text.append(t.text()))));
        }
        return text.toString();
    }

    /** The SDK's own accumulator rebuilds the response from the events, checking how they fit together. */
    private static List<ResponseStreamEvent> events(StreamResponse<ResponseStreamEvent> stream, ResponseAccumulator accumulator) {
        List<ResponseStreamEvent> events = new ArrayList<>();
        stream.stream().forEach(e -> events.add(accumulator.accumulate(e)));
        return events;
    }

    @Test
    void theOfficialSdkGetsAResponseObjectFromAChatModel() {
        fixture.primary.then(FakeLlmServer.ok("Hello from upstream"));
        Response r = openai.responses().create(ResponseCreateParams.builder().model("fast").instructions("Be brief.").input("Say hello")
                .maxOutputTokens(50).temperature(0.2).build());
        r.validate();
        assertThat(r.id()).startsWith("resp_");
        assertThat(r.model().asString()).isEqualTo("fast");
        assertThat(r.status()).contains(ResponseStatus.COMPLETED);
        assertThat(text(r)).isEqualTo("Hello from upstream");
        assertThat(r.usage().orElseThrow().inputTokens()).isEqualTo(9);
        assertThat(r.usage().orElseThrow().outputTokens()).isEqualTo(5);
        assertThat(r.usage().orElseThrow().totalTokens()).isEqualTo(14);
        assertThat(r.maxOutputTokens()).contains(50L);
        JsonNode sent = fixture.primary.received.get(0).body();
        assertThat(sent.get("model").asText()).isEqualTo("upstream-fast-001");
        assertThat(sent.at("/messages/0/role").asText()).isEqualTo("system");
        assertThat(sent.at("/messages/0/content").asText()).as("after the guard's canary line").endsWith("\n\nBe brief.");
        assertThat(sent.at("/messages/1/role").asText()).isEqualTo("user");
        assertThat(sent.at("/messages/1/content").asText()).isEqualTo("Say hello");
        assertThat(sent.get("max_completion_tokens").asInt()).isEqualTo(50);
        assertThat(sent.get("temperature").asDouble()).isEqualTo(0.2);
    }

    @Test
    void theResponseObjectHasOpenAisShapeAndCarriesKeelsHeaders() throws Exception {
        fixture.primary.then(FakeLlmServer.ok("Shaped."));
        HttpResponse<String> r = post("shapes", "{\"model\":\"fast\",\"input\":\"Shape?\",\"metadata\":{\"ticket\":\"T-1\"}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("object").asText()).isEqualTo("response");
        assertThat(body.get("store").asBoolean()).isFalse();
        assertThat(body.has("output_text")).as("output_text is computed by the SDKs, not sent").isFalse();
        assertThat(body.at("/metadata/ticket").asText()).isEqualTo("T-1");
        JsonNode message = body.at("/output/0");
        assertThat(message.get("type").asText()).isEqualTo("message");
        assertThat(message.get("id").asText()).startsWith("msg_");
        assertThat(message.get("role").asText()).isEqualTo("assistant");
        assertThat(message.at("/content/0/type").asText()).isEqualTo("output_text");
        assertThat(message.at("/content/0/annotations").isArray()).isTrue();
        assertThat(body.at("/usage/input_tokens_details/cached_tokens").asInt()).isZero();
        assertThat(body.at("/usage/output_tokens_details/reasoning_tokens").asInt()).isZero();
        assertThat(r.headers().firstValue("x-keel-provider")).hasValue("primary");
        assertThat(r.headers().firstValue("x-keel-cost-usd")).hasValue("0.00001900");
        assertThat(r.headers().firstValue("x-request-id")).hasValue(fixture.primary.received.get(0).requestId());
        assertThat(fixture.primary.received.get(0).body().has("metadata")).as("metadata stays with Keel").isFalse();
    }

    @Test
    void responsesAreBilledAndLedgeredLikeChat() throws Exception {
        fixture.primary.then(FakeLlmServer.ok("Billed."));
        assertThat(post("responses-billing", "{\"model\":\"fast\",\"input\":\"Bill me\"}").statusCode()).isEqualTo(200);
        JsonNode rows = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(fixture.base + "/v1/usage?group_by=model"))
                .header("X-Keel-Tenant", "responses-billing").build(), HttpResponse.BodyHandlers.ofString()).body()).get("data");
        assertThat(rows).hasSize(1);
        assertThat(rows.at("/0/model").asText()).isEqualTo("fast");
        assertThat(rows.at("/0/prompt_tokens").asInt()).isEqualTo(9);
        assertThat(rows.at("/0/cost_usd").asDouble()).isEqualTo(0.000019);
    }

    @Test
    void theOfficialSdkStreamsTheResponseEvents() {
        fixture.primary.then(FakeLlmServer.stream(List.of("Str", "eam", "ed"), -1));
        ResponseAccumulator accumulator = ResponseAccumulator.create();
        List<ResponseStreamEvent> events;
        try (StreamResponse<ResponseStreamEvent> stream = openai.responses().createStreaming(ResponseCreateParams.builder()
                .model("fast").input("Stream please").build())) {
            events = events(stream, accumulator);
        }
        StringBuilder deltas = new StringBuilder();
        events.forEach(e -> e.outputTextDelta().ifPresent(d -> deltas.append(d.delta())));
        assertThat(deltas.toString()).isEqualTo("Streamed");
        assertThat(events.getFirst().isCreated()).isTrue();
        assertThat(events.get(1).isInProgress()).isTrue();
        assertThat(events.getLast().isCompleted()).isTrue();
        Response done = events.getLast().asCompleted().response();
        assertThat(text(done)).isEqualTo("Streamed");
        assertThat(done.usage().orElseThrow().inputTokens()).isEqualTo(7);
        assertThat(done.usage().orElseThrow().outputTokens()).isEqualTo(3);
        assertThat(text(accumulator.response())).isEqualTo("Streamed");
        assertThat(fixture.primary.received.get(0).body().at("/stream_options/include_usage").asBoolean()).isTrue();
    }

    @Test
    void aStreamIsTheDocumentedEventSequenceWithSequenceNumbers() throws Exception {
        fixture.primary.then(FakeLlmServer.stream(List.of("Hello", " there"), -1));
        HttpResponse<String> r = post("events", "{\"model\":\"fast\",\"input\":\"Hi\",\"stream\":true}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        assertThat(r.headers().firstValue("x-request-id")).hasValue(fixture.primary.received.get(0).requestId());
        List<String> names = new ArrayList<>();
        List<JsonNode> data = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("event: ")) names.add(line.substring(7));
            if (line.startsWith("data: ")) data.add(JSON.readTree(line.substring(6)));
        }
        assertThat(names).containsExactly("response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.completed");
        for (int i = 0; i < data.size(); i++) {
            assertThat(data.get(i).get("type").asText()).isEqualTo(names.get(i));
            assertThat(data.get(i).get("sequence_number").asInt()).isEqualTo(i);
        }
        assertThat(data.get(0).at("/response/status").asText()).isEqualTo("in_progress");
        assertThat(data.get(6).get("text").asText()).isEqualTo("Hello there");
        assertThat(data.get(9).at("/response/output/0/content/0/text").asText()).isEqualTo("Hello there");
        assertThat(data.get(9).at("/response/id").asText()).isEqualTo(data.get(0).at("/response/id").asText());
        assertThat(r.body()).contains(": x-keel-cost-usd ").doesNotContain("[DONE]");
    }

    @Test
    void aFunctionToolRoundTripsThroughTheModel() {
        fixture.primary.then(FakeLlmServer.toolCall("get_weather", "{\"city\":\"Oslo\"}"), FakeLlmServer.ok("It is rainy in Oslo."));
        FunctionTool weather = FunctionTool.builder().name("get_weather").description("Weather by city").strict(true)
                .parameters(FunctionTool.Parameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                        .putAdditionalProperty("additionalProperties", JsonValue.from(false)).build()).build();
        EasyInputMessage question = EasyInputMessage.builder().role(EasyInputMessage.Role.USER).content("Weather in Oslo?").build();
        Response first = openai.responses().create(ResponseCreateParams.builder().model("fast").addTool(weather)
                .inputOfResponse(List.of(ResponseInputItem.ofEasyInputMessage(question))).build());
        ResponseFunctionToolCall call = first.output().getFirst().asFunctionCall();
        assertThat(call.name()).isEqualTo("get_weather");
        assertThat(call.callId()).isEqualTo("call_1");
        assertThat(call.arguments()).isEqualTo("{\"city\":\"Oslo\"}");
        JsonNode sentTools = fixture.primary.received.get(0).body().get("tools");
        assertThat(sentTools.at("/0/type").asText()).isEqualTo("function");
        assertThat(sentTools.at("/0/function/name").asText()).isEqualTo("get_weather");
        assertThat(sentTools.at("/0/function/strict").asBoolean()).isTrue();
        assertThat(sentTools.at("/0/function/parameters/required/0").asText()).isEqualTo("city");

        Response second = openai.responses().create(ResponseCreateParams.builder().model("fast").addTool(weather).inputOfResponse(List.of(
                ResponseInputItem.ofEasyInputMessage(question), ResponseInputItem.ofFunctionCall(call),
                ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder().callId(call.callId()).output("rainy").build())))
                .build());
        assertThat(text(second)).isEqualTo("It is rainy in Oslo.");
        JsonNode messages = fixture.primary.received.get(1).body().get("messages");
        assertThat(messages).hasSize(3);
        assertThat(messages.at("/1/role").asText()).isEqualTo("assistant");
        assertThat(messages.at("/1/tool_calls/0/id").asText()).isEqualTo("call_1");
        assertThat(messages.at("/1/tool_calls/0/function/arguments").asText()).isEqualTo("{\"city\":\"Oslo\"}");
        assertThat(messages.at("/2/role").asText()).isEqualTo("tool");
        assertThat(messages.at("/2/tool_call_id").asText()).isEqualTo("call_1");
        assertThat(messages.at("/2/content").asText()).isEqualTo("rainy");
    }

    @Test
    void aStreamedFunctionCallSendsItsArgumentsAsDeltas() {
        fixture.primary.then(FakeLlmServer.streamToolCall("get_weather", List.of("{\"ci", "ty\":\"Os", "lo\"}")));
        ResponseAccumulator accumulator = ResponseAccumulator.create();
        List<ResponseStreamEvent> events;
        try (StreamResponse<ResponseStreamEvent> stream = openai.responses().createStreaming(ResponseCreateParams.builder().model("fast")
                .input("Weather in Oslo?").addTool(FunctionTool.builder().name("get_weather").strict(false)
                        .parameters(FunctionTool.Parameters.builder().putAdditionalProperty("type", JsonValue.from("object")).build()).build())
                .build())) {
            events = events(stream, accumulator);
        }
        // The output guard re-cuts the arguments (it holds back what may still grow into an entity): their deltas add up to them.
        assertThat(String.join("", events.stream().filter(ResponseStreamEvent::isFunctionCallArgumentsDelta)
                .map(e -> e.asFunctionCallArgumentsDelta().delta()).toList())).isEqualTo("{\"city\":\"Oslo\"}");
        assertThat(events.stream().filter(ResponseStreamEvent::isFunctionCallArgumentsDone).findFirst().orElseThrow()
                .asFunctionCallArgumentsDone().arguments()).isEqualTo("{\"city\":\"Oslo\"}");
        ResponseFunctionToolCall call = events.getLast().asCompleted().response().output().getFirst().asFunctionCall();
        assertThat(call.callId()).isEqualTo("call_s1");
        assertThat(call.name()).isEqualTo("get_weather");
        assertThat(call.arguments()).isEqualTo("{\"city\":\"Oslo\"}");
        assertThat(accumulator.response().output().getFirst().asFunctionCall().arguments()).isEqualTo("{\"city\":\"Oslo\"}");
    }

    /** What the model is asked to fill in, for structured output. */
    public record City(String name, String country) {}

    @Test
    void aJsonSchemaTextFormatBecomesAValidatedResponseFormat() {
        fixture.primary.then(FakeLlmServer.ok("{\"name\":\"Oslo\",\"country\":\"Norway\"}"));
        StructuredResponse<City> r = openai.responses().create(ResponseCreateParams.builder().model("fast").input("Capital of Norway?")
                .text(City.class).build());
        City city = r.output().getFirst().asMessage().content().getFirst().asOutputText();
        assertThat(city).isEqualTo(new City("Oslo", "Norway"));
        JsonNode format = fixture.primary.received.get(0).body().get("response_format");
        assertThat(format.get("type").asText()).isEqualTo("json_schema");
        assertThat(format.at("/json_schema/name").asText()).isNotBlank();
        assertThat(format.at("/json_schema/schema/properties/country/type").asText()).isEqualTo("string");
    }

    @Test
    void anthropicServesResponsesBlockingAndStreaming() {
        fixture.anthropic.then(FakeLlmServer.anthropic("Bonjour", null, null, "end_turn"), FakeLlmServer.anthropicStream(List.of("Bon", "jour")));
        Response blocking = openai.responses().create(ResponseCreateParams.builder().model("claude-chat").instructions("Speak French.")
                .input("Hello").build());
        assertThat(text(blocking)).isEqualTo("Bonjour");
        assertThat(blocking.usage().orElseThrow().inputTokensDetails().cachedTokens()).isEqualTo(10);
        assertThat(fixture.anthropic.received.get(0).body().get("system").asText()).as("after the guard's canary line").endsWith("\n\nSpeak French.");
        ResponseAccumulator accumulator = ResponseAccumulator.create();
        try (StreamResponse<ResponseStreamEvent> stream = openai.responses().createStreaming(ResponseCreateParams.builder().model("claude-chat")
                .input("Hello").build())) {
            events(stream, accumulator);
        }
        assertThat(text(accumulator.response())).isEqualTo("Bonjour");
        assertThat(accumulator.response().usage().orElseThrow().inputTokens()).isEqualTo(12);
    }

    @Test
    void anUnknownModelIsTheSdksNotFoundError() {
        NotFoundException e = catchThrowableOfType(NotFoundException.class,
                () -> openai.responses().create(ResponseCreateParams.builder().model("no-such-model").input("hi").build()));
        assertThat(e.statusCode()).isEqualTo(404);
        assertThat(e.code()).hasValue("model_not_found");
    }

    @Test
    void whatKeelCannotServeIs400NamingTheParameter() throws Exception {
        Map<String, String> refusals = Map.of(
                "{\"model\":\"fast\",\"input\":\"hi\",\"tools\":[{\"type\":\"web_search\"}]}", "tools[0].type",
                "{\"model\":\"fast\",\"input\":\"hi\",\"previous_response_id\":\"resp_123\"}", "previous_response_id",
                "{\"model\":\"fast\",\"input\":\"hi\",\"background\":true}", "background",
                "{\"model\":\"fast\",\"input\":\"hi\",\"frobnicate\":1}", "frobnicate",
                "{\"model\":\"fast\",\"input\":[{\"type\":\"item_reference\",\"id\":\"msg_1\"}]}", "input[0].type",
                "{\"model\":\"fast\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\",\"file_id\":\"f\"}]}]}", "input[0].content[0].type",
                "{\"model\":\"fast\",\"input\":\"hi\",\"max_output_tokens\":0}", "max_output_tokens",
                "{\"model\":\"fast\"}", "input",
                "{\"model\":\"tiny\",\"input\":\"hi\",\"max_output_tokens\":100}", "input",
                "{\"model\":\"fast\",\"input\":\"hi\",\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"x\",\"schema\":{\"$ref\":\"http://169.254.169.254/\"}}}}",
                "text.format");
        for (Map.Entry<String, String> refusal : refusals.entrySet()) {
            HttpResponse<String> r = post("refusals", refusal.getKey());
            assertThat(r.statusCode()).as(refusal.getKey()).isEqualTo(400);
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertThat(error.get("param").asText()).as(refusal.getKey()).isEqualTo(refusal.getValue());
            assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        }
        assertThat(fixture.primary.received).isEmpty();
    }

    @Test
    void errorsQuoteWhatTheClientSentCutShort() throws Exception {
        String huge = "x".repeat(100_000);
        HttpResponse<String> r = post("quotes", "{\"model\":\"fast\",\"input\":[{\"type\":\"" + huge + "\"}],\"" + huge + "\":1}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body().length()).isLessThan(1_000);
    }

    @Test
    void aReplyCutShortByTheOutputLimitIsIncomplete() throws Exception {
        fixture.primary.then(FakeLlmServer.raw("{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"Once upon a\"},\"finish_reason\":\"length\"}],"
                + "\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,\"total_tokens\":7}}"));
        Response r = openai.responses().create(ResponseCreateParams.builder().model("fast").input("A story").maxOutputTokens(3).build());
        assertThat(r.status()).contains(ResponseStatus.INCOMPLETE);
        assertThat(r.incompleteDetails().orElseThrow().reason()).contains(Response.IncompleteDetails.Reason.MAX_OUTPUT_TOKENS);
        assertThat(text(r)).isEqualTo("Once upon a");
    }

    @Test
    void aStreamThatBreaksAfterStartingEndsWithResponseFailedAndAShortReason() throws Exception {
        fixture.primary.then(FakeLlmServer.stream(List.of("one ", "two ", "three "), 2));
        HttpResponse<String> r = post("broken", "{\"model\":\"fast\",\"input\":\"Count\",\"stream\":true}");
        assertThat(r.statusCode()).isEqualTo(200);
        List<JsonNode> data = new ArrayList<>();
        for (String line : r.body().split("\n")) if (line.startsWith("data: ")) data.add(JSON.readTree(line.substring(6)));
        JsonNode last = data.getLast();
        assertThat(last.get("type").asText()).isEqualTo("response.failed");
        assertThat(last.at("/response/status").asText()).isEqualTo("failed");
        assertThat(last.at("/response/error/code").asText()).isEqualTo("server_error");
        assertThat(last.at("/response/error/message").asText()).contains("primary").hasSizeLessThan(200).doesNotContain("Exception");
        assertThat(fixture.primary.received).as("a started stream is not retried").hasSize(1);
    }
}
