package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;

/**
 * Turns one streamed chat completion's chunks into the Responses API's event sequence:
 * {@code response.created} and {@code response.in_progress} with the first chunk; per output item
 * {@code response.output_item.added}, its text ({@code content_part.added}, {@code output_text.delta}…
 * {@code output_text.done}, {@code content_part.done}) or function-call arguments
 * ({@code function_call_arguments.delta}… {@code .done}), {@code response.output_item.done}; and
 * finally {@code response.completed} (or {@code response.incomplete}) with usage, or
 * {@code response.failed}. Every event carries {@code sequence_number}. Not thread-safe: one stream,
 * one thread.
 */
final class ResponseEvents {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final ResponsesRequest request;
    private final String id = ResponseItems.newId("resp");
    private final long createdAt = System.currentTimeMillis() / 1000;
    private final StreamListener out;
    private final ArrayNode output = JSON.arrayNode();
    private int sequence;
    private boolean open = true;
    private String model;
    private String finishReason;
    private JsonNode chatUsage = MissingNode.getInstance();
    /** The item being streamed: a message or a function call, or null between items. */
    private Item current;

    private sealed interface Item permits Message, FunctionCall {}

    private record Message(String id, StringBuilder text) implements Item {}

    private record FunctionCall(String id, int chatIndex, String callId, String name, StringBuilder arguments) implements Item {}

    ResponseEvents(ResponsesRequest request, StreamListener out) {
        this.request = request;
        this.out = out;
    }

    /** Whether any event was sent (after that, failures can only be reported in the stream). */
    boolean started() {
        return model != null;
    }

    /** One chat chunk; false once the client went away. */
    boolean onChunk(ObjectNode chunk) {
        if (model == null) begin(chunk.path("model").asText());
        if (chunk.hasNonNull("usage")) chatUsage = chunk.get("usage");
        for (JsonNode choice : chunk.path("choices")) {
            JsonNode delta = choice.path("delta");
            String text = delta.path("content").asText("");
            if (!text.isEmpty()) text(text);
            for (JsonNode call : delta.path("tool_calls")) toolCall(call);
            if (choice.path("finish_reason").isTextual()) finishReason = choice.get("finish_reason").asText();
        }
        return open;
    }

    /** Closes the open item and sends the final response with its usage. */
    void complete(Usage usage) {
        if (model == null) begin(request.chat().path("model").asText());
        finishItem();
        String status = ResponseItems.status(finishReason);
        emit(status.equals(ResponseItems.COMPLETED) ? "response.completed" : "response.incomplete", JSON.objectNode().set("response",
                response(status, ResponseItems.incompleteDetails(finishReason), ResponseItems.usage(usage, chatUsage))));
    }

    /** Ends a started stream that broke: {@code response.failed} with a short reason and the items finished so far. */
    void fail(String message) {
        ObjectNode error = JSON.objectNode().put("code", "server_error").put("message", message);
        ObjectNode failed = request.response(id, createdAt, model, ResponseItems.FAILED, null, error, output.deepCopy(), null);
        emit("response.failed", JSON.objectNode().set("response", failed));
    }

    private void begin(String servedModel) {
        model = servedModel;
        emit("response.created", JSON.objectNode().set("response", response(ResponseItems.IN_PROGRESS, null, null)));
        emit("response.in_progress", JSON.objectNode().set("response", response(ResponseItems.IN_PROGRESS, null, null)));
    }

    private ObjectNode response(String status, JsonNode incompleteDetails, JsonNode usage) {
        return request.response(id, createdAt, model, status, incompleteDetails, null, output.deepCopy(), usage);
    }

    private void text(String delta) {
        Message message = current instanceof Message m ? m : null;
        if (message == null) {
            finishItem();
            message = new Message(ResponseItems.newId("msg"), new StringBuilder());
            current = message;
            emit("response.output_item.added", item().set("item", ResponseItems.message(message.id(), ResponseItems.IN_PROGRESS, null)));
            emit("response.content_part.added", part(message).set("part", ResponseItems.outputText("")));
        }
        message.text().append(delta);
        emit("response.output_text.delta", part(message).put("delta", delta).set("logprobs", JSON.arrayNode()));
    }

    private void toolCall(JsonNode delta) {
        int index = delta.path("index").asInt(0);
        FunctionCall call = current instanceof FunctionCall c && c.chatIndex() == index ? c : null;
        if (call == null) {
            finishItem();
            call = new FunctionCall(ResponseItems.newId("fc"), index, delta.path("id").asText(""), delta.path("function").path("name").asText(""),
                    new StringBuilder());
            current = call;
            emit("response.output_item.added", item().set("item", ResponseItems.functionCall(call.id(), ResponseItems.IN_PROGRESS, call.callId(),
                    call.name(), "")));
        }
        String arguments = delta.path("function").path("arguments").asText("");
        if (arguments.isEmpty()) return;
        call.arguments().append(arguments);
        emit("response.function_call_arguments.delta", item().put("item_id", call.id()).put("delta", arguments));
    }

    /** Sends the done events of the open item and adds it to the output. */
    private void finishItem() {
        switch (current) {
            case null -> { return; }
            case Message m -> {
                String text = m.text().toString();
                emit("response.output_text.done", part(m).put("text", text).set("logprobs", JSON.arrayNode()));
                emit("response.content_part.done", part(m).set("part", ResponseItems.outputText(text)));
                ObjectNode done = ResponseItems.message(m.id(), ResponseItems.COMPLETED, text);
                emit("response.output_item.done", item().set("item", done));
                output.add(done);
            }
            case FunctionCall c -> {
                String arguments = c.arguments().toString();
                emit("response.function_call_arguments.done", item().put("item_id", c.id()).put("name", c.name()).put("arguments", arguments));
                ObjectNode done = ResponseItems.functionCall(c.id(), ResponseItems.COMPLETED, c.callId(), c.name(), arguments);
                emit("response.output_item.done", item().set("item", done));
                output.add(done);
            }
        }
        current = null;
    }

    /** An event about the open item, which will sit at the next output index. */
    private ObjectNode item() {
        return JSON.objectNode().put("output_index", output.size());
    }

    private ObjectNode part(Message m) {
        return item().put("item_id", m.id()).put("content_index", 0);
    }

    private void emit(String type, ObjectNode fields) {
        ObjectNode event = JSON.objectNode().put("type", type).put("sequence_number", sequence++);
        event.setAll(fields);
        if (open && !out.onChunk(event)) open = false;
    }
}
