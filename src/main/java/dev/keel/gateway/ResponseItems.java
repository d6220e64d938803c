package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.Usage;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The pieces of a Responses API response in OpenAI's shapes, built from chat-completions results:
 * output items (assistant messages, function calls), usage, and the status a chat finish reason
 * means. Stateless.
 */
final class ResponseItems {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    static final String COMPLETED = "completed", INCOMPLETE = "incomplete", IN_PROGRESS = "in_progress", FAILED = "failed";

    private ResponseItems() {}

    /** A new id with OpenAI's prefix for its kind: resp, msg, fc. */
    static String newId(String prefix) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return prefix + "_" + HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextLong());
    }

    /** The output items of a chat completion's message: its text (or refusal) as a message item, then one item per tool call. */
    static ArrayNode output(JsonNode message) {
        ArrayNode out = JSON.arrayNode();
        String text = message.path("content").asText("");
        if (!text.isEmpty()) {
            out.add(message(newId("msg"), COMPLETED, text));
        } else if (message.path("refusal").isTextual()) {
            ObjectNode item = message(newId("msg"), COMPLETED, null);
            item.withArray("content").addObject().put("type", "refusal").put("refusal", message.get("refusal").asText());
            out.add(item);
        }
        for (JsonNode call : message.path("tool_calls")) {
            out.add(functionCall(newId("fc"), COMPLETED, call.path("id").asText(), call.path("function").path("name").asText(),
                    call.path("function").path("arguments").asText("")));
        }
        return out;
    }

    /** An assistant message item; {@code text} null for one without content yet. */
    static ObjectNode message(String id, String status, String text) {
        ObjectNode item = JSON.objectNode().put("id", id).put("type", "message").put("status", status).put("role", "assistant");
        ArrayNode content = item.putArray("content");
        if (text != null) content.add(outputText(text));
        return item;
    }

    static ObjectNode outputText(String text) {
        ObjectNode part = JSON.objectNode().put("type", "output_text").put("text", text);
        part.putArray("annotations");
        part.putArray("logprobs");
        return part;
    }

    static ObjectNode functionCall(String id, String status, String callId, String name, String arguments) {
        return JSON.objectNode().put("id", id).put("type", "function_call").put("status", status).put("arguments", arguments)
                .put("call_id", callId).put("name", name);
    }

    /** Usage in the Responses shape; reasoning tokens come from the chat usage's details when the provider reports them. */
    static ObjectNode usage(Usage usage, JsonNode chatUsage) {
        ObjectNode o = JSON.objectNode().put("input_tokens", usage.promptTokens());
        o.putObject("input_tokens_details").put("cached_tokens", usage.cachedTokens());
        o.put("output_tokens", usage.completionTokens());
        o.putObject("output_tokens_details").put("reasoning_tokens", chatUsage.path("completion_tokens_details").path("reasoning_tokens").asLong(0));
        o.put("total_tokens", usage.promptTokens() + usage.completionTokens());
        return o;
    }

    /** Completed, unless the chat finish reason says the output was cut short. */
    static String status(String finishReason) {
        return incompleteDetails(finishReason) == null ? COMPLETED : INCOMPLETE;
    }

    /** Why a response is incomplete ({@code max_output_tokens}, {@code content_filter}), or null when it is not. */
    static JsonNode incompleteDetails(String finishReason) {
        return switch (finishReason == null ? "" : finishReason) {
            case "length" -> JSON.objectNode().put("reason", "max_output_tokens");
            case "content_filter" -> JSON.objectNode().put("reason", "content_filter");
            default -> null;
        };
    }
}
