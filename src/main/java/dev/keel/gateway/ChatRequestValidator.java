package dev.keel.gateway;

import dev.keel.model.ApiException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/** Checks an OpenAI chat-completions request's shape and names the first bad {@code param}. Stateless. */
final class ChatRequestValidator {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private ChatRequestValidator() {}

    static void validate(ObjectNode r) {
        JsonNode model = r.get("model");
        if (model == null || model.isNull()) throw ApiException.badRequest("'model' is required", "model");
        if (!model.isTextual() || model.asText().isBlank()) throw ApiException.badRequest("'model' must be a non-empty string", "model");
        JsonNode messages = r.get("messages");
        if (messages == null || messages.isNull()) throw ApiException.badRequest("'messages' is required", "messages");
        if (!messages.isArray() || messages.isEmpty()) throw ApiException.badRequest("'messages' must be a non-empty array", "messages");
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String at = "messages[" + i + "]";
            if (!m.isObject()) throw ApiException.badRequest(at + " must be an object", at);
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
                throw ApiException.badRequest(at + ".role must be one of " + ROLES, at + ".role");
            }
            JsonNode content = m.get("content");
            boolean hasToolCalls = m.path("tool_calls").isArray() && !m.path("tool_calls").isEmpty();
            if ((content == null || content.isNull()) && !hasToolCalls) throw ApiException.badRequest(at + ".content is required", at + ".content");
            if (content != null && !content.isNull() && !content.isTextual() && !content.isArray()) {
                throw ApiException.badRequest(at + ".content must be a string or an array of parts", at + ".content");
            }
            if (role.asText().equals("tool") && !m.path("tool_call_id").isTextual()) {
                throw ApiException.badRequest(at + ".tool_call_id is required for tool messages", at + ".tool_call_id");
            }
        }
        if (r.has("n") && !(r.get("n").isIntegralNumber() && r.get("n").asInt() == 1)) {
            throw ApiException.badRequest("'n' other than 1 is not supported; send separate requests", "n");
        }
        bool(r, "stream");
        number(r, "temperature", 0, 2);
        number(r, "top_p", 0, 1);
        number(r, "presence_penalty", -2, 2);
        number(r, "frequency_penalty", -2, 2);
        positiveInt(r, "max_tokens");
        positiveInt(r, "max_completion_tokens");
        if (r.has("seed") && !r.get("seed").isIntegralNumber()) throw ApiException.badRequest("'seed' must be an integer", "seed");
        if (r.has("stop") && !(r.get("stop").isTextual() || r.get("stop").isArray() || r.get("stop").isNull())) {
            throw ApiException.badRequest("'stop' must be a string or an array of strings", "stop");
        }
        if (r.has("tools") && !r.get("tools").isArray()) throw ApiException.badRequest("'tools' must be an array", "tools");
        if (r.has("stream_options") && !r.get("stream_options").isObject() && !r.get("stream_options").isNull()) {
            throw ApiException.badRequest("'stream_options' must be an object", "stream_options");
        }
        if (r.has("response_format") && !r.get("response_format").isObject()) {
            throw ApiException.badRequest("'response_format' must be an object", "response_format");
        }
    }

    private static void bool(ObjectNode r, String field) {
        if (r.has(field) && !r.get(field).isBoolean() && !r.get(field).isNull()) throw ApiException.badRequest("'" + field + "' must be true or false", field);
    }

    private static void number(ObjectNode r, String field, double min, double max) {
        JsonNode v = r.get(field);
        if (v == null || v.isNull()) return;
        if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
            throw ApiException.badRequest("'" + field + "' must be a number from " + min + " to " + max, field);
        }
    }

    private static void positiveInt(ObjectNode r, String field) {
        JsonNode v = r.get(field);
        if (v == null || v.isNull()) return;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw ApiException.badRequest("'" + field + "' must be a positive integer of at most " + Integer.MAX_VALUE, field);
        }
    }
}
