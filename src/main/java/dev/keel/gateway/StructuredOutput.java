package dev.keel.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.ApiException;
import dev.keel.model.JsonSchemas;
import dev.keel.model.JsonSchemas.Compiled;
import dev.keel.model.ChatText;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a completion must look like: a JSON object ({@code response_format: json_object}), a value
 * matching a JSON Schema ({@code json_schema}, validated by {@link JsonSchemas}), and tool-call arguments
 * matching each tool's {@code parameters}. Schemas may only use local {@code $ref}s, so validating
 * never fetches anything. Immutable.
 */
final class StructuredOutput {
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();

    private final boolean jsonObject;
    private final Compiled schema;
    private final Map<String, Compiled> tools;

    private StructuredOutput(boolean jsonObject, Compiled schema, Map<String, Compiled> tools) {
        this.jsonObject = jsonObject;
        this.schema = schema;
        this.tools = tools;
    }

    /** The constraints a request sets, if any; a malformed schema is a 400 naming the param. */
    static Optional<StructuredOutput> of(ObjectNode request) {
        JsonNode format = request.path("response_format");
        String type = format.path("type").asText("text");
        Compiled schema = null;
        boolean jsonObject = false;
        switch (type) {
            case "text" -> { }
            case "json_object" -> jsonObject = true;
            case "json_schema" -> {
                JsonNode s = format.path("json_schema").path("schema");
                if (!s.isObject()) throw ApiException.badRequest("'response_format.json_schema.schema' must be a JSON Schema object", "response_format");
                schema = compile(s, "response_format");
            }
            default -> throw ApiException.badRequest("'response_format.type' must be text, json_object or json_schema", "response_format");
        }
        Map<String, Compiled> tools = new HashMap<>();
        for (JsonNode tool : request.path("tools")) {
            JsonNode params = tool.path("function").path("parameters");
            if (params.isObject()) tools.put(tool.path("function").path("name").asText(), compile(params, "tools"));
        }
        if (!jsonObject && schema == null && tools.isEmpty()) return Optional.empty();
        return Optional.of(new StructuredOutput(jsonObject || schema != null, schema, tools));
    }

    /** Problems with a completion's message (content and tool calls); empty when it conforms. */
    List<String> problems(ObjectNode completion) {
        List<String> out = new ArrayList<>();
        JsonNode message = completion.path("choices").path(0).path("message");
        for (JsonNode call : message.path("tool_calls")) {
            String name = call.path("function").path("name").asText();
            Compiled s = tools.get(name);
            if (s == null) continue;
            JsonNode args;
            try {
                args = JSON.readTree(call.path("function").path("arguments").asText(""));
            } catch (JsonProcessingException e) {
                out.add("tool call " + name + ": arguments are not valid JSON");
                continue;
            }
            for (String m : s.errors(args)) out.add("tool call " + name + ": " + m);
        }
        if (jsonObject && message.path("tool_calls").isEmpty()) {
            JsonNode value;
            try {
                value = JSON.readTree(ChatText.unfenced(message.path("content").asText("")));
            } catch (JsonProcessingException e) {
                out.add("the reply is not valid JSON");
                return out;
            }
            if (schema == null && (value == null || !value.isObject())) out.add("the reply is not a JSON object");
            if (schema != null) out.addAll(schema.errors(value));
        }
        return out;
    }

    private static Compiled compile(JsonNode schema, String param) {
        try {
            return JsonSchemas.compile(schema);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid JSON Schema in '" + param + "': " + e.getMessage(), param);
        }
    }
}
