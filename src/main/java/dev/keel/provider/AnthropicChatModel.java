package dev.keel.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ProviderConfig;
import dev.keel.model.ChatCompletion;
import dev.keel.model.CallContext;
import dev.keel.model.ProviderException.Kind;
import dev.keel.model.ProviderException;
import dev.keel.model.StreamListener;
import dev.keel.model.Usage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Anthropic's Messages API behind the OpenAI chat shape, translated both ways: system and developer
 * messages become {@code system}; tool calls and tool results become {@code tool_use} /
 * {@code tool_result} blocks; tools, tool_choice, stop and max_tokens are mapped; responses,
 * stop reasons, usage (with cache reads as cached tokens) and streaming events come back as
 * OpenAI completions and chunks. Parameters Anthropic lacks ({@code seed}, penalties,
 * {@code logit_bias}) are dropped, as documented; {@code response_format} becomes a system
 * instruction, and the gateway validates the reply. Thread-safe.
 */
public final class AnthropicChatModel implements ChatModel {
    static final String VERSION = "2023-06-01";
    private static final int DEFAULT_MAX_TOKENS = 4096;
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();

    private final ProviderConfig config;
    private final ProviderHttp http;
    private final URI endpoint;

    public AnthropicChatModel(ProviderConfig config) {
        this.config = config;
        this.http = new ProviderHttp(config);
        this.endpoint = URI.create(config.baseUrl() + "/messages");
    }

    @Override
    public String provider() {
        return config.name();
    }

    @Override
    public String genAiProvider() {
        return "anthropic";
    }

    @Override
    public java.util.OptionalLong defaultMaxOutputTokens() {
        return java.util.OptionalLong.of(DEFAULT_MAX_TOKENS);
    }

    @Override
    public ChatCompletion complete(ObjectNode request, CallContext call) {
        ProviderHttp.Reply response = send(toAnthropic(request, false), call);
        JsonNode body = http.json(response, call);
        if (body == null || !body.path("content").isArray()) {
            throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.status(), "response has no content", null, null);
        }
        if ("refusal".equals(body.path("stop_reason").asText()) && body.path("content").isEmpty()) {
            throw new ProviderException(Kind.CONTENT_FILTERED, provider(), response.status(), "the provider refused the completion", null, null);
        }
        Usage usage = usage(body.path("usage"));
        return new ChatCompletion(toOpenAi(body, request.path("model").asText(), usage), provider(), request.path("model").asText(), usage);
    }

    @Override
    public Usage stream(ObjectNode request, CallContext call, StreamListener listener) {
        ProviderHttp.Reply response = send(toAnthropic(request, true), call);
        StreamListener timed = ProviderHttp.timed(response, call, listener);
        String model = request.path("model").asText();
        boolean includeUsage = request.path("stream_options").path("include_usage").asBoolean(false);
        StreamState state = new StreamState();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("data:")) continue;
                JsonNode event;
                try {
                    event = JSON.readTree(line.substring(5).trim());
                } catch (JsonProcessingException e) {
                    throw new ProviderException(Kind.MALFORMED_RESPONSE, provider(), response.status(), "stream event is not valid JSON", null, null);
                }
                ObjectNode chunk = state.translate(event, model, provider());
                if (chunk != null && !timed.onChunk(chunk)) return state.usage();
                if ("message_stop".equals(event.path("type").asText())) {
                    if (includeUsage) {
                        ObjectNode u = chunk(state.id, model);
                        u.putArray("choices");
                        u.set("usage", openAiUsage(state.usage()));
                        if (!timed.onChunk(u)) return state.usage();
                    }
                    http.finish(response);
                    return state.usage();
                }
            }
            throw new ProviderException(state.started ? Kind.UNAVAILABLE : Kind.MALFORMED_RESPONSE, provider(), response.status(),
                    "stream ended without message_stop", null, null);
        } catch (IOException e) {
            throw new ProviderException(Kind.UNAVAILABLE, provider(), response.status(), "the connection broke mid-stream", null, null);
        }
    }

    private ProviderHttp.Reply send(ObjectNode body, CallContext call) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("anthropic-version", VERSION);
        headers.put("Accept", body.path("stream").asBoolean() ? "text/event-stream" : "application/json");
        if (config.apiKey() != null && !config.apiKey().isBlank()) headers.put("x-api-key", config.apiKey());
        return http.send(endpoint, headers, body, call);
    }

    private static final java.util.regex.Pattern DATA_URL = java.util.regex.Pattern.compile("data:(image/[a-z+.-]+);base64,(.+)", java.util.regex.Pattern.DOTALL);

    /** An OpenAI image part's URL as an Anthropic image block: a base64 data URL inline, an http(s) URL by reference. */
    static ObjectNode image(String url) {
        ObjectNode block = JSON.createObjectNode().put("type", "image");
        java.util.regex.Matcher data = DATA_URL.matcher(url);
        if (data.matches()) {
            block.putObject("source").put("type", "base64").put("media_type", data.group(1)).put("data", data.group(2));
        } else if (url.startsWith("https://") || url.startsWith("http://")) {
            block.putObject("source").put("type", "url").put("url", url);
        } else {
            throw new ProviderException(Kind.BAD_REQUEST, "anthropic", 400, "image_url must be an http(s) URL or a base64 data:image/… URL", null, null);
        }
        return block;
    }

    /** OpenAI chat request → Anthropic Messages request. */
    static ObjectNode toAnthropic(ObjectNode r, boolean stream) {
        ObjectNode out = JSON.createObjectNode();
        out.put("model", r.path("model").asText());
        out.put("max_tokens", r.path("max_completion_tokens").asInt(r.path("max_tokens").asInt(DEFAULT_MAX_TOKENS)));
        StringBuilder system = new StringBuilder();
        ArrayNode messages = out.putArray("messages");
        for (JsonNode m : r.path("messages")) {
            String role = m.path("role").asText();
            switch (role) {
                case "system", "developer" -> system.append(system.isEmpty() ? "" : "\n\n").append(text(m.path("content")));
                case "tool" -> {
                    ObjectNode block = JSON.createObjectNode().put("type", "tool_result").put("tool_use_id", m.path("tool_call_id").asText());
                    block.put("content", text(m.path("content")));
                    append(messages, "user", block);
                }
                case "assistant" -> {
                    String t = text(m.path("content"));
                    if (!t.isEmpty()) append(messages, "assistant", JSON.createObjectNode().put("type", "text").put("text", t));
                    for (JsonNode call : m.path("tool_calls")) {
                        ObjectNode use = JSON.createObjectNode().put("type", "tool_use").put("id", call.path("id").asText())
                                .put("name", call.path("function").path("name").asText());
                        use.set("input", parseArguments(call.path("function").path("arguments").asText("{}")));
                        append(messages, "assistant", use);
                    }
                }
                default -> {
                    JsonNode content = m.path("content");
                    if (content.isArray()) {
                        for (JsonNode part : content) {
                            switch (part.path("type").asText()) {
                                case "text" -> append(messages, "user", JSON.createObjectNode().put("type", "text").put("text", part.path("text").asText()));
                                case "image_url" -> append(messages, "user", image(part.path("image_url").path("url").asText()));
                                default -> throw new ProviderException(Kind.BAD_REQUEST, "anthropic", 400, "content part type '" + part.path("type").asText()
                                        + "' has no Anthropic equivalent in Keel's translation (text and image_url do)", null, null);
                            }
                        }
                    } else {
                        append(messages, "user", JSON.createObjectNode().put("type", "text").put("text", content.asText()));
                    }
                }
            }
        }
        String format = formatInstruction(r.path("response_format"));
        if (format != null) system.append(system.isEmpty() ? "" : "\n\n").append(format);
        if (!system.isEmpty()) out.put("system", system.toString());
        if (r.has("temperature")) out.put("temperature", Math.min(1.0, r.get("temperature").asDouble()));
        if (r.has("top_p")) out.put("top_p", r.get("top_p").asDouble());
        JsonNode stop = r.get("stop");
        if (stop != null && !stop.isNull()) {
            ArrayNode seqs = out.putArray("stop_sequences");
            if (stop.isTextual()) seqs.add(stop.asText());
            else stop.forEach(s -> seqs.add(s.asText()));
        }
        if (r.path("tools").isArray() && !r.path("tools").isEmpty()) {
            ArrayNode tools = out.putArray("tools");
            for (JsonNode t : r.path("tools")) {
                JsonNode f = t.path("function");
                ObjectNode tool = tools.addObject().put("name", f.path("name").asText());
                if (f.has("description")) tool.put("description", f.path("description").asText());
                tool.set("input_schema", f.has("parameters") ? f.get("parameters") : JSON.createObjectNode().put("type", "object"));
            }
        }
        JsonNode choice = r.get("tool_choice");
        if (choice != null && !choice.isNull()) {
            ObjectNode tc = JSON.createObjectNode();
            if (choice.isTextual()) {
                tc.put("type", switch (choice.asText()) {
                    case "required" -> "any";
                    case "none" -> "none";
                    default -> "auto";
                });
            } else {
                tc.put("type", "tool").put("name", choice.path("function").path("name").asText());
            }
            out.set("tool_choice", tc);
        }
        if (r.hasNonNull("user")) out.putObject("metadata").put("user_id", r.get("user").asText());
        if (stream) out.put("stream", true);
        return out;
    }

    /** Anthropic cannot enforce OpenAI's response_format, so it is asked for in the system prompt (Keel validates the reply). */
    static String formatInstruction(JsonNode responseFormat) {
        return switch (responseFormat.path("type").asText("text")) {
            case "json_object" -> "Reply with only a JSON object, no prose and no code fences.";
            case "json_schema" -> "Reply with only JSON, no prose and no code fences, that validates against this JSON Schema: "
                    + responseFormat.path("json_schema").path("schema");
            default -> null;
        };
    }

    /** Anthropic message → OpenAI chat.completion. */
    static ObjectNode toOpenAi(JsonNode body, String model, Usage usage) {
        ObjectNode out = JSON.createObjectNode();
        out.put("id", body.path("id").asText("chatcmpl-anthropic"));
        out.put("object", "chat.completion");
        out.put("created", System.currentTimeMillis() / 1000);
        out.put("model", model);
        ObjectNode choice = out.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        StringBuilder text = new StringBuilder();
        ArrayNode calls = null;
        for (JsonNode block : body.path("content")) {
            switch (block.path("type").asText()) {
                case "text" -> text.append(block.path("text").asText());
                case "tool_use" -> {
                    if (calls == null) calls = JSON.createArrayNode();
                    ObjectNode call = calls.addObject().put("id", block.path("id").asText()).put("type", "function");
                    call.putObject("function").put("name", block.path("name").asText()).put("arguments", block.path("input").toString());
                }
                default -> { }
            }
        }
        if (text.isEmpty() && calls != null) message.putNull("content");
        else message.put("content", text.toString());
        if (calls != null) message.set("tool_calls", calls);
        choice.put("finish_reason", finishReason(body.path("stop_reason").asText()));
        out.set("usage", openAiUsage(usage));
        return out;
    }

    static String finishReason(String stopReason) {
        return switch (stopReason) {
            case "max_tokens" -> "length";
            case "tool_use" -> "tool_calls";
            case "refusal" -> "content_filter";
            default -> "stop";
        };
    }

    private static Usage usage(JsonNode u) {
        if (u == null || !u.isObject()) return Usage.NONE;
        if (!u.path("input_tokens").isIntegralNumber() || !u.path("output_tokens").isIntegralNumber()) return Usage.NONE;
        long cacheRead = integer(u.path("cache_read_input_tokens")), cacheWrite = integer(u.path("cache_creation_input_tokens"));
        if (cacheRead < 0 || cacheWrite < 0) return Usage.NONE;
        return Usage.reported(u.path("input_tokens").asLong() + cacheRead + cacheWrite, u.path("output_tokens").asLong(), cacheRead);
    }

    /** A usage count that may be absent (0); anything but an integer reads as -1, which {@link Usage#reported} refuses. */
    private static long integer(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? 0 : n.isIntegralNumber() ? n.asLong() : -1;
    }

    /** Usage in OpenAI's shape, cached input under {@code prompt_tokens_details}. */
    static ObjectNode openAiUsage(Usage u) {
        ObjectNode o = JSON.createObjectNode().put("prompt_tokens", u.promptTokens()).put("completion_tokens", u.completionTokens())
                .put("total_tokens", u.promptTokens() + u.completionTokens());
        o.putObject("prompt_tokens_details").put("cached_tokens", u.cachedTokens());
        return o;
    }

    private static void append(ArrayNode messages, String role, ObjectNode block) {
        JsonNode last = messages.isEmpty() ? null : messages.get(messages.size() - 1);
        if (last != null && last.path("role").asText().equals(role)) {
            ((ArrayNode) last.get("content")).add(block);
        } else {
            ObjectNode m = messages.addObject().put("role", role);
            m.putArray("content").add(block);
        }
    }

    private static String text(JsonNode content) {
        if (content.isTextual()) return content.asText();
        StringBuilder sb = new StringBuilder();
        // Only string texts: exactly what the input guard checked (a number or object under "text" is not text).
        for (JsonNode part : content) if (part.path("text").isTextual()) sb.append(part.get("text").asText());
        return sb.toString();
    }

    private static JsonNode parseArguments(String arguments) {
        try {
            JsonNode n = JSON.readTree(arguments.isBlank() ? "{}" : arguments);
            return n.isObject() ? n : JSON.createObjectNode();
        } catch (JsonProcessingException e) {
            throw new ProviderException(Kind.BAD_REQUEST, "anthropic", 400, "tool call arguments are not valid JSON", null, null);
        }
    }

    private static ObjectNode chunk(String id, String model) {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", id == null ? "chatcmpl-anthropic" : id);
        c.put("object", "chat.completion.chunk");
        c.put("created", System.currentTimeMillis() / 1000);
        c.put("model", model);
        return c;
    }

    /** Follows one Anthropic stream and turns its events into OpenAI chunks. */
    private static final class StreamState {
        String id;
        boolean started;
        long input, cacheRead, output;
        int toolIndex = -1;

        ObjectNode translate(JsonNode e, String model, String provider) {
            switch (e.path("type").asText()) {
                case "message_start" -> {
                    started = true;
                    id = e.path("message").path("id").asText(null);
                    JsonNode u = e.path("message").path("usage");
                    cacheRead = integer(u.path("cache_read_input_tokens"));
                    long written = integer(u.path("cache_creation_input_tokens")), read = integer(u.path("input_tokens"));
                    input = cacheRead < 0 || written < 0 || read < 0 ? -1 : read + cacheRead + written;
                    ObjectNode c = chunk(id, model);
                    c.putArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta").put("role", "assistant").put("content", "");
                    return c;
                }
                case "content_block_start" -> {
                    JsonNode block = e.path("content_block");
                    if (!"tool_use".equals(block.path("type").asText())) return null;
                    toolIndex++;
                    ObjectNode c = chunk(id, model);
                    ObjectNode call = c.putArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta")
                            .putArray("tool_calls").addObject().put("index", toolIndex).put("id", block.path("id").asText()).put("type", "function");
                    call.putObject("function").put("name", block.path("name").asText()).put("arguments", "");
                    return c;
                }
                case "content_block_delta" -> {
                    JsonNode d = e.path("delta");
                    ObjectNode c = chunk(id, model);
                    ObjectNode delta = c.putArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta");
                    if ("text_delta".equals(d.path("type").asText())) {
                        delta.put("content", d.path("text").asText());
                    } else if ("thinking_delta".equals(d.path("type").asText())) {
                        // Extended thinking goes on as reasoning_content (as DeepSeek and vLLM stream it): shown, counted, metered.
                        delta.put("reasoning_content", d.path("thinking").asText());
                    } else if ("input_json_delta".equals(d.path("type").asText())) {
                        delta.putArray("tool_calls").addObject().put("index", Math.max(0, toolIndex))
                                .putObject("function").put("arguments", d.path("partial_json").asText());
                    } else {
                        return null;
                    }
                    return c;
                }
                case "message_delta" -> {
                    JsonNode written = e.path("usage").path("output_tokens");
                    if (!written.isMissingNode()) output = integer(written);
                    ObjectNode c = chunk(id, model);
                    c.putArray("choices").addObject().put("index", 0).put("finish_reason", finishReason(e.path("delta").path("stop_reason").asText()))
                            .putObject("delta");
                    return c;
                }
                case "error" -> {
                    String type = e.path("error").path("type").asText();
                    throw new ProviderException(type.equals("overloaded_error") ? Kind.UNAVAILABLE : Kind.MALFORMED_RESPONSE, provider, 0,
                            "stream error: " + e.path("error").path("message").asText(type), null, null);
                }
                default -> {
                    return null;
                }
            }
        }

        Usage usage() {
            return started ? Usage.reported(input, output, cacheRead) : Usage.NONE;
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
