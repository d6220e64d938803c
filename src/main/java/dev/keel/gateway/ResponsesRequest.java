package dev.keel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.ApiException;
import java.util.Map;
import java.util.Set;

/**
 * An OpenAI Responses API request translated into the chat-completions request the gateway serves
 * ({@code chat}), with the parameters the response object echoes back ({@code echo}). Translating
 * validates: what cannot be served statelessly over chat completions (stored responses, built-in
 * tools, background runs, unknown parameters) is a 400 naming the parameter. Immutable once built.
 */
record ResponsesRequest(ObjectNode chat, ObjectNode echo) {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** OpenAI's limits on {@code metadata}: pairs, key length, value length. */
    private static final int MAX_METADATA_PAIRS = 16, MAX_METADATA_KEY = 64, MAX_METADATA_VALUE = 512;
    /** The longest client string an error message quotes. */
    private static final int MAX_QUOTED = 64;
    private static final Set<String> MESSAGE_ROLES = Set.of("user", "assistant", "system", "developer");
    private static final Set<String> TOOL_CHOICES = Set.of("auto", "none", "required");
    /** Parameters copied to the chat request unchanged (same name and meaning there); {@code cache} is Keel's own. */
    private static final Set<String> SAME_IN_CHAT = Set.of("temperature", "top_p", "user", "prompt_cache_key", "prompt_cache_retention",
            "safety_identifier", "service_tier", "cache");
    /** Parameters that need state or machinery Keel does not have, and why. */
    private static final Map<String, String> UNSUPPORTED = Map.of(
            "previous_response_id", "Keel does not store responses ('store' is always false): send the whole conversation in 'input'",
            "conversation", "Keel does not store conversations: send the whole conversation in 'input'",
            "prompt", "Keel has no stored prompt templates: send 'instructions' and 'input'",
            "max_tool_calls", "'max_tool_calls' limits built-in tool calls, which Keel does not run",
            "top_logprobs", "log probabilities are not available through Keel's Responses API");

    /** Translates and validates a {@code POST /v1/responses} body. */
    static ResponsesRequest of(ObjectNode r) {
        ObjectNode chat = JSON.objectNode();
        ObjectNode echo = JSON.objectNode();
        for (Map.Entry<String, JsonNode> field : r.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (value.isNull()) continue;
            if (UNSUPPORTED.containsKey(name)) throw ApiException.badRequest(UNSUPPORTED.get(name), name);
            if (SAME_IN_CHAT.contains(name)) {
                chat.set(name, value);
                continue;
            }
            switch (name) {
                case "model", "input", "instructions", "stream", "tools", "tool_choice", "parallel_tool_calls", "text", "metadata",
                     "max_output_tokens", "reasoning" -> { }
                case "store" -> requireBoolean(value, name);
                case "stream_options" -> requireObject(value, name);
                case "background" -> {
                    if (requireBoolean(value, name)) throw ApiException.badRequest("background responses are not supported: Keel answers in the request", name);
                }
                case "truncation" -> {
                    if (!"disabled".equals(value.asText())) throw ApiException.badRequest("'truncation' must be \"disabled\": Keel does not drop input to fit", name);
                }
                case "include" -> include(value);
                default -> throw ApiException.badRequest("unknown parameter '" + shown(name) + "'", shown(name));
            }
        }
        chat.set("model", r.get("model"));
        chat.set("messages", messages(r.get("instructions"), r.get("input")));
        if (r.hasNonNull("stream") && requireBoolean(r.get("stream"), "stream")) {
            chat.put("stream", true);
            chat.putObject("stream_options").put("include_usage", true);
        }
        if (r.hasNonNull("max_output_tokens")) {
            if (!r.get("max_output_tokens").isIntegralNumber() || r.get("max_output_tokens").asLong() < 1) {
                throw ApiException.badRequest("'max_output_tokens' must be a positive integer", "max_output_tokens");
            }
            chat.set("max_completion_tokens", r.get("max_output_tokens"));
            echo.set("max_output_tokens", r.get("max_output_tokens"));
        }
        ArrayNode tools = tools(r.get("tools"));
        Boolean parallel = r.hasNonNull("parallel_tool_calls") ? requireBoolean(r.get("parallel_tool_calls"), "parallel_tool_calls") : null;
        JsonNode choice = r.hasNonNull("tool_choice") ? toolChoice(r.get("tool_choice")) : null;
        // Chat completions refuses these without tools, where the Responses API ignores them.
        if (!tools.isEmpty()) {
            chat.set("tools", tools);
            if (parallel != null) chat.put("parallel_tool_calls", parallel);
            if (choice != null) chat.set("tool_choice", choice);
        }
        echo.set("tools", r.hasNonNull("tools") ? r.get("tools") : JSON.arrayNode());
        echo.put("parallel_tool_calls", parallel == null || parallel);
        echo.set("tool_choice", r.hasNonNull("tool_choice") ? r.get("tool_choice") : JSON.textNode("auto"));
        echo.set("text", text(r.get("text"), chat));
        echo.set("reasoning", reasoning(r.get("reasoning"), chat));
        echo.set("metadata", metadata(r.get("metadata")));
        echo.set("instructions", r.hasNonNull("instructions") ? r.get("instructions") : JSON.nullNode());
        for (String p : new String[] {"temperature", "top_p", "user"}) echo.set(p, r.hasNonNull(p) ? r.get(p) : JSON.nullNode());
        return new ResponsesRequest(chat, echo);
    }

    /**
     * The response object in OpenAI's shape, with this request's echoed parameters: {@code status}
     * is in_progress, completed, incomplete or failed; {@code usage} may be null until it is known.
     */
    ObjectNode response(String id, long createdAt, String model, String status, JsonNode incompleteDetails, JsonNode error, ArrayNode output,
                        JsonNode usage) {
        ObjectNode o = JSON.objectNode();
        o.put("id", id).put("object", "response").put("created_at", createdAt).put("status", status).put("background", false);
        o.set("error", error == null ? JSON.nullNode() : error);
        o.set("incomplete_details", incompleteDetails == null ? JSON.nullNode() : incompleteDetails);
        o.set("instructions", echo.get("instructions"));
        o.set("max_output_tokens", echo.has("max_output_tokens") ? echo.get("max_output_tokens") : JSON.nullNode());
        o.put("model", model);
        o.set("output", output);
        o.set("parallel_tool_calls", echo.get("parallel_tool_calls"));
        o.putNull("previous_response_id");
        o.set("reasoning", echo.get("reasoning"));
        o.put("store", false);
        o.set("temperature", echo.get("temperature"));
        o.set("text", echo.get("text"));
        o.set("tool_choice", echo.get("tool_choice"));
        o.set("tools", echo.get("tools"));
        o.set("top_p", echo.get("top_p"));
        o.put("truncation", "disabled");
        o.set("usage", usage == null ? JSON.nullNode() : usage);
        o.set("user", echo.get("user"));
        o.set("metadata", echo.get("metadata"));
        return o;
    }

    /** {@code instructions} as the system message, then the input items as chat messages. */
    private static ArrayNode messages(JsonNode instructions, JsonNode input) {
        ArrayNode out = JSON.arrayNode();
        if (instructions != null && !instructions.isNull()) {
            if (!instructions.isTextual()) throw ApiException.badRequest("'instructions' must be a string", "instructions");
            out.addObject().put("role", "system").put("content", instructions.asText());
        }
        if (input == null || input.isNull()) throw ApiException.badRequest("'input' is required", "input");
        if (input.isTextual()) {
            out.addObject().put("role", "user").put("content", input.asText());
            return out;
        }
        if (!input.isArray() || input.isEmpty()) throw ApiException.badRequest("'input' must be a string or a non-empty list of items", "input");
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            String at = "input[" + i + "]";
            if (!item.isObject()) throw ApiException.badRequest(at + " must be an object", at);
            String type = item.path("type").asText("message");
            switch (type) {
                case "message" -> out.add(message(item, at));
                case "function_call" -> functionCall(out, item, at);
                case "function_call_output" -> out.addObject().put("role", "tool").put("tool_call_id", requireText(item, "call_id", at))
                        .put("content", toolOutput(item.get("output"), at + ".output"));
                case "item_reference" -> throw ApiException.badRequest(at + ": Keel does not store items; send the item itself", at + ".type");
                default -> throw ApiException.badRequest(at + ".type '" + shown(type) + "' is not supported (message, function_call and"
                        + " function_call_output are)", at + ".type");
            }
        }
        return out;
    }

    private static ObjectNode message(JsonNode item, String at) {
        String role = item.path("role").asText();
        if (!MESSAGE_ROLES.contains(role)) throw ApiException.badRequest(at + ".role must be one of " + MESSAGE_ROLES, at + ".role");
        JsonNode content = item.get("content");
        ObjectNode m = JSON.objectNode().put("role", role);
        if (content != null && content.isTextual()) return m.put("content", content.asText());
        if (content == null || !content.isArray()) throw ApiException.badRequest(at + ".content must be a string or a list of parts", at + ".content");
        if (role.equals("assistant")) return m.put("content", assistantText(content, at));
        ArrayNode parts = m.putArray("content");
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            String where = at + ".content[" + j + "]";
            switch (part.path("type").asText()) {
                case "input_text" -> parts.addObject().put("type", "text").put("text", requireText(part, "text", where));
                case "input_image" -> {
                    if (!part.path("image_url").isTextual()) {
                        throw ApiException.badRequest(where + ".image_url is required (Keel stores no files, so file_id cannot be used)", where);
                    }
                    ObjectNode image = parts.addObject().put("type", "image_url").putObject("image_url").put("url", part.get("image_url").asText());
                    if (part.path("detail").isTextual()) image.put("detail", part.get("detail").asText());
                }
                default -> throw ApiException.badRequest(where + ".type '" + shown(part.path("type").asText()) + "' is not supported in a " + role
                        + " message (input_text and input_image are)", where + ".type");
            }
        }
        return m;
    }

    /** An earlier assistant turn sent back as input: its output_text parts (or refusal) joined. */
    private static String assistantText(JsonNode content, String at) {
        StringBuilder text = new StringBuilder();
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            String where = at + ".content[" + j + "]";
            switch (part.path("type").asText()) {
                case "output_text", "input_text" -> text.append(requireText(part, "text", where));
                case "refusal" -> text.append(requireText(part, "refusal", where));
                default -> throw ApiException.badRequest(where + ".type '" + shown(part.path("type").asText())
                        + "' is not supported in an assistant message (output_text and refusal are)", where + ".type");
            }
        }
        return text.toString();
    }

    /** A function call the model made earlier: a tool call of the preceding assistant message, or of a new one. */
    private static void functionCall(ArrayNode out, JsonNode item, String at) {
        JsonNode arguments = item.get("arguments");
        if (arguments == null || !arguments.isTextual()) throw ApiException.badRequest(at + ".arguments must be a string of JSON", at + ".arguments");
        ObjectNode call = JSON.objectNode().put("id", requireText(item, "call_id", at)).put("type", "function");
        call.putObject("function").put("name", requireText(item, "name", at)).put("arguments", arguments.asText());
        JsonNode last = out.isEmpty() ? null : out.get(out.size() - 1);
        ObjectNode assistant = last != null && "assistant".equals(last.path("role").asText())
                ? (ObjectNode) last : out.addObject().put("role", "assistant").putNull("content");
        assistant.withArray("tool_calls").add(call);
    }

    private static String toolOutput(JsonNode output, String at) {
        if (output != null && output.isTextual()) return output.asText();
        if (output == null || !output.isArray()) throw ApiException.badRequest(at + " must be a string or a list of input_text parts", at);
        StringBuilder text = new StringBuilder();
        for (int j = 0; j < output.size(); j++) {
            JsonNode part = output.get(j);
            if (!"input_text".equals(part.path("type").asText())) {
                throw ApiException.badRequest(at + "[" + j + "].type must be input_text (tool results reach the model as text)", at + "[" + j + "].type");
            }
            text.append(requireText(part, "text", at + "[" + j + "]"));
        }
        return text.toString();
    }

    /** Responses function tools ({@code {type, name, description, parameters, strict}}) in chat's nested shape. */
    private static ArrayNode tools(JsonNode tools) {
        ArrayNode out = JSON.arrayNode();
        if (tools == null || tools.isNull()) return out;
        if (!tools.isArray()) throw ApiException.badRequest("'tools' must be a list", "tools");
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            String at = "tools[" + i + "]";
            String type = t.path("type").asText();
            if (!type.equals("function")) {
                throw ApiException.badRequest(at + ".type '" + shown(type) + "' is not supported: Keel serves function tools only (built-in tools such as"
                        + " web_search and file_search run inside OpenAI's own service)", at + ".type");
            }
            ObjectNode f = out.addObject().put("type", "function").putObject("function").put("name", requireText(t, "name", at));
            if (t.path("description").isTextual()) f.put("description", t.get("description").asText());
            if (t.hasNonNull("parameters")) f.set("parameters", requireObject(t.get("parameters"), at + ".parameters"));
            if (t.hasNonNull("strict")) f.put("strict", requireBoolean(t.get("strict"), at + ".strict"));
        }
        return out;
    }

    private static JsonNode toolChoice(JsonNode choice) {
        if (choice.isTextual() && TOOL_CHOICES.contains(choice.asText())) return choice;
        if (choice.isObject() && "function".equals(choice.path("type").asText())) {
            ObjectNode out = JSON.objectNode().put("type", "function");
            out.putObject("function").put("name", requireText(choice, "name", "tool_choice"));
            return out;
        }
        throw ApiException.badRequest("'tool_choice' must be auto, none, required or {\"type\":\"function\",\"name\":…}", "tool_choice");
    }

    /** {@code text.format} as chat's {@code response_format}; returns the {@code text} to echo. */
    private static JsonNode text(JsonNode text, ObjectNode chat) {
        ObjectNode echo = JSON.objectNode();
        echo.putObject("format").put("type", "text");
        if (text == null || text.isNull()) return echo;
        requireObject(text, "text");
        for (Map.Entry<String, JsonNode> field : text.properties()) {
            switch (field.getKey()) {
                case "format" -> {
                    JsonNode format = requireObject(field.getValue(), "text.format");
                    switch (format.path("type").asText()) {
                        case "text" -> { }
                        case "json_object" -> chat.putObject("response_format").put("type", "json_object");
                        case "json_schema" -> {
                            ObjectNode schema = chat.putObject("response_format").put("type", "json_schema").putObject("json_schema");
                            schema.put("name", requireText(format, "name", "text.format"));
                            schema.set("schema", requireObject(format.get("schema"), "text.format.schema"));
                            if (format.path("description").isTextual()) schema.put("description", format.get("description").asText());
                            if (format.hasNonNull("strict")) schema.put("strict", requireBoolean(format.get("strict"), "text.format.strict"));
                        }
                        default -> throw ApiException.badRequest("'text.format.type' must be text, json_object or json_schema", "text.format.type");
                    }
                    echo.set("format", format);
                }
                case "verbosity" -> {
                    chat.set("verbosity", field.getValue());
                    echo.set("verbosity", field.getValue());
                }
                default -> throw ApiException.badRequest("unknown parameter 'text." + shown(field.getKey()) + "'", "text." + shown(field.getKey()));
            }
        }
        return echo;
    }

    /** {@code reasoning.effort} as chat's {@code reasoning_effort}; summaries cannot come through chat completions. */
    private static JsonNode reasoning(JsonNode reasoning, ObjectNode chat) {
        ObjectNode echo = JSON.objectNode().putNull("effort").putNull("summary");
        if (reasoning == null || reasoning.isNull()) return echo;
        requireObject(reasoning, "reasoning");
        if (reasoning.hasNonNull("summary") || reasoning.hasNonNull("generate_summary")) {
            throw ApiException.badRequest("reasoning summaries are not available through Keel (it serves models over chat completions)", "reasoning.summary");
        }
        if (reasoning.hasNonNull("effort")) {
            chat.set("reasoning_effort", reasoning.get("effort"));
            echo.set("effort", reasoning.get("effort"));
        }
        return echo;
    }

    private static JsonNode metadata(JsonNode metadata) {
        if (metadata == null || metadata.isNull()) return JSON.objectNode();
        requireObject(metadata, "metadata");
        if (metadata.size() > MAX_METADATA_PAIRS) throw ApiException.badRequest("'metadata' has more than " + MAX_METADATA_PAIRS + " keys", "metadata");
        for (Map.Entry<String, JsonNode> e : metadata.properties()) {
            if (e.getKey().length() > MAX_METADATA_KEY || !e.getValue().isTextual() || e.getValue().asText().length() > MAX_METADATA_VALUE) {
                throw ApiException.badRequest("'metadata' keys are at most " + MAX_METADATA_KEY + " characters and values strings of at most "
                        + MAX_METADATA_VALUE, "metadata");
            }
        }
        return metadata;
    }

    /** Only what Keel can honour: encrypted reasoning is asked for by stateless clients, and Keel returns no reasoning items. */
    private static void include(JsonNode include) {
        if (!include.isArray()) throw ApiException.badRequest("'include' must be a list", "include");
        for (JsonNode v : include) {
            if (!"reasoning.encrypted_content".equals(v.asText())) {
                throw ApiException.badRequest("'include' value '" + shown(v.asText()) + "' is not supported", "include");
            }
        }
    }

    /** A client's string as errors quote it: cut short, so an error never echoes a large body. */
    private static String shown(String value) {
        return value.length() <= MAX_QUOTED ? value : value.substring(0, MAX_QUOTED) + "…";
    }

    private static String requireText(JsonNode node, String field, String at) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) throw ApiException.badRequest(at + "." + field + " must be a string", at + "." + field);
        return v.asText();
    }

    private static JsonNode requireObject(JsonNode v, String param) {
        if (v == null || !v.isObject()) throw ApiException.badRequest("'" + param + "' must be an object", param);
        return v;
    }

    private static boolean requireBoolean(JsonNode v, String param) {
        if (!v.isBoolean()) throw ApiException.badRequest("'" + param + "' must be true or false", param);
        return v.asBoolean();
    }
}
