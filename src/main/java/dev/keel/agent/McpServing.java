package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.gateway.ChatGateway;
import dev.keel.model.Deadline;
import dev.keel.model.JsonSchemas;
import dev.keel.trace.Trace;
import dev.keel.trace.Traces;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keel's tools offered to MCP clients, for the SDK's servers: each {@link Tool} becomes an MCP tool with the same
 * name, description and schemas, annotated read-only when it is. A call's arguments are checked against the tool's
 * schema by {@link JsonSchemas} (a mismatch is a tool error the client's model can correct, {@code isError}); the
 * outcome comes back as JSON text plus {@code structuredContent}, a {@link ToolOutcome.Failure} as {@code isError}
 * with its message, an unexpected exception as {@code isError} naming the trace (the exception is logged, never
 * sent). The caller (tenant, key) is fixed by the transport, never taken from the arguments. Thread-safe.
 */
public final class McpServing {
    /** The SDK's JSON binding over Jackson 2, for every MCP server and client Keel builds. */
    public static final McpJsonMapper JSON = new JacksonMcpJsonMapper(new ObjectMapper());
    /** The name Keel gives as an MCP server, and the version of this build (from the pom, filtered into a resource). */
    public static final String NAME = "keel", VERSION = version();
    /** What a client's model reads about this server at initialisation. */
    public static final String INSTRUCTIONS = "Search and answer from this Keel's documents; cite passages by their citation id.";
    /** The SDK's message for a call of a tool it does not have, which names neither the tool nor the ones there are. */
    private static final String SDK_UNKNOWN_TOOL = "Unknown tool", SDK_TOOL_NOT_FOUND = "Tool not found: ";
    /** A tool name is at most 64 characters; a longer one called is echoed cut. */
    private static final int MAX_NAME_ECHO = 64;
    /** Where a stateless transport's context carries the call's caller ({@link ChatGateway.Caller}) and trace ({@link Trace}). */
    public static final String CALLER = "keel.caller", TRACE = "keel.trace";
    private static final Logger LOG = LoggerFactory.getLogger(McpServing.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Refuses duplicate keys and content after the message: Keel's check and the SDK must read one message the same way. */
    private static final com.fasterxml.jackson.databind.ObjectReader STRICT = MAPPER.reader()
            .with(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private McpServing() {}

    private static String version() {
        try (java.io.InputStream in = McpServing.class.getResourceAsStream("/dev/keel/keel-version.properties")) {
            java.util.Properties p = new java.util.Properties();
            if (in != null) p.load(in);
            return p.getProperty("version", "unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /**
     * One JSON-RPC message as the server sends it, with the SDK's error for a call of an unknown tool ("Unknown tool:
     * invalid_tool_name") reworded to name the tool called and the tools there are ({@code tools}); any other message
     * is returned unchanged, the same array.
     */
    public static byte[] clarified(byte[] message, List<Tool> tools) {
        JsonNode m;
        try {
            m = MAPPER.readTree(message);
        } catch (java.io.IOException | RuntimeException e) {
            return message;
        }
        if (m == null || !(m.path("error") instanceof ObjectNode error) || !error.path("message").asText().startsWith(SDK_UNKNOWN_TOOL)) return message;
        String data = error.path("data").asText("");
        String called = data.startsWith(SDK_TOOL_NOT_FOUND) ? data.substring(SDK_TOOL_NOT_FOUND.length()) : "";
        error.put("message", "no tool named '" + ToolOutcome.cut(called, MAX_NAME_ECHO) + "'; the tools are: "
                + String.join(", ", tools.stream().map(t -> t.spec().name()).toList()));
        try {
            return MAPPER.writeValueAsBytes(m);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return message;
        }
    }

    /** What a client sent, once screened ({@link #screen}): a message for the SDK, or one Keel refuses itself. */
    public sealed interface Inbound permits Accepted, Refusal {}

    /** A message the SDK can take: a request ({@code method} and {@code id}), a notification (no id) or a response (no method). */
    public record Accepted(String method, JsonNode id) implements Inbound {
        public boolean notification() {
            return method != null && id == null;
        }
    }

    /**
     * A message a client sent that Keel answers itself, with this JSON-RPC error, instead of handing it to the SDK,
     * whose servers meet such messages with an internal error naming Java classes (over HTTP a 500 and an ERROR log)
     * or, on stdio, by no longer reading stdin. {@code id} is the request's, or null when it has none to echo.
     */
    public record Refusal(int code, String message, JsonNode id) implements Inbound {
        /** JSON-RPC's codes: not JSON; JSON but not a message; a request whose params its method cannot take. */
        public static final int PARSE_ERROR = -32700, INVALID_REQUEST = -32600, INVALID_PARAMS = -32602;

        /** The JSON-RPC error response, as one line of JSON. */
        public byte[] response() {
            ObjectNode r = JsonNodeFactory.instance.objectNode().put("jsonrpc", "2.0");
            r.set("id", id == null ? JsonNodeFactory.instance.nullNode() : id);
            r.putObject("error").put("code", code).put("message", message);
            try {
                return MAPPER.writeValueAsBytes(r);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("a JSON-RPC error is always serialisable", e);
            }
        }
    }

    /**
     * {@code message} (one JSON-RPC message as a client sent it) screened: {@link Accepted} when the SDK can take it,
     * else a {@link Refusal} saying why:
     * not one JSON value (duplicate keys and trailing content included: two parsers could read it two ways), not one
     * JSON-RPC 2.0 object (a request, a notification or a response, with a string or integer id), or a request whose
     * {@code params} are not an object, or not what {@code tools/call} ({@code name}, an object of {@code arguments})
     * or {@code initialize} ({@code protocolVersion}) need. Its message says what is wrong and never names a class.
     */
    public static Inbound screen(byte[] message) {
        JsonNode m;
        try {
            m = STRICT.readTree(message);
        } catch (java.io.IOException e) {
            String where = e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                    ? " (line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ")" : "";
            return new Refusal(Refusal.PARSE_ERROR, "parse error: the message is not one valid JSON value" + where, null);
        }
        if (m == null || m.isMissingNode()) return new Refusal(Refusal.PARSE_ERROR, "parse error: the message is empty", null);
        if (m.isArray()) return new Refusal(Refusal.INVALID_REQUEST, "batches are not supported: send one JSON-RPC message (an object) at a time", null);
        if (!(m instanceof ObjectNode o)) return new Refusal(Refusal.INVALID_REQUEST, "a message is a JSON-RPC 2.0 object, not " + kind(m), null);
        JsonNode id = o.get("id");
        if (id != null && !(id.isTextual() || id.isIntegralNumber() && id.canConvertToLong())) {
            return new Refusal(Refusal.INVALID_REQUEST, "\"id\" must be a string or an integer, not " + kind(id), null);
        }
        if (!"2.0".equals(o.path("jsonrpc").textValue())) return new Refusal(Refusal.INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"", id);
        JsonNode method = o.get("method");
        if (method == null && (id == null || !o.has("result") && !o.has("error"))) {
            return new Refusal(Refusal.INVALID_REQUEST, "a message needs a \"method\" (a request or a notification), or an \"id\" with a "
                    + "\"result\" or an \"error\" (a response)", id);
        }
        if (method != null && (!method.isTextual() || method.asText().isBlank())) {
            return new Refusal(Refusal.INVALID_REQUEST, "\"method\" must be a non-empty string", id);
        }
        try {
            McpSchema.deserializeJsonRpcMessage(JSON, new String(message, java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.io.IOException | RuntimeException e) {
            return new Refusal(Refusal.INVALID_REQUEST, "not a JSON-RPC message this server can read", id);
        }
        Refusal refused = method == null || id == null ? null : params(method.asText(), o.get("params"), id);
        return refused != null ? refused : new Accepted(method == null ? null : method.asText(), id);
    }

    /** Why a request's {@code params} are refused for {@code method}, or null. */
    private static Refusal params(String method, JsonNode params, JsonNode id) {
        if (params != null && !params.isNull() && !params.isObject()) {
            return invalid(ToolOutcome.cut(method, MAX_NAME_ECHO) + ": \"params\" must be an object, not " + kind(params), id);
        }
        Class<?> request;
        switch (method) {
            case McpSchema.METHOD_TOOLS_CALL -> {
                if (params == null || !params.path("name").isTextual() || params.path("name").asText().isBlank()) {
                    return invalid("tools/call needs \"params\": {\"name\": the tool's name, \"arguments\": {…}}", id);
                }
                JsonNode arguments = params.get("arguments");
                if (arguments != null && !arguments.isNull() && !arguments.isObject()) {
                    return invalid("tools/call: \"params.arguments\" must be an object of the tool's arguments by name, not " + kind(arguments), id);
                }
                request = McpSchema.CallToolRequest.class;
            }
            case McpSchema.METHOD_INITIALIZE -> {
                if (params == null || !params.path("protocolVersion").isTextual()) {
                    return invalid("initialize needs \"params\" with \"protocolVersion\" (a string)", id);
                }
                request = McpSchema.InitializeRequest.class;
            }
            default -> {
                return null;
            }
        }
        try {
            MAPPER.treeToValue(params, request);
            return null;
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            String field = e instanceof com.fasterxml.jackson.databind.JsonMappingException j ? String.join(".", j.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]").toList()) : "";
            return invalid(method + ": " + (field.isEmpty() ? "\"params\" are not what the method takes" : "\"params." + ToolOutcome.cut(field, MAX_NAME_ECHO)
                    + "\" has the wrong type"), id);
        }
    }

    private static Refusal invalid(String message, JsonNode id) {
        return new Refusal(Refusal.INVALID_PARAMS, message, id);
    }

    /** A JSON value's kind as a message names it: "a string", "null"… */
    private static String kind(JsonNode value) {
        return switch (value.getNodeType()) {
            case NULL -> "null";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case BOOLEAN -> "a boolean";
            case NUMBER -> "a number";
            case STRING -> "a string";
            default -> "a " + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** The transport context of one HTTP request: its caller and the trace its tool calls record spans in. */
    public static McpTransportContext context(ChatGateway.Caller caller, Trace trace) {
        return McpTransportContext.create(Map.of(CALLER, caller, TRACE, trace));
    }

    /** {@code tools} for a stateless server: each call runs as the caller, and in the trace, of its transport {@link #context}. */
    public static List<McpStatelessServerFeatures.SyncToolSpecification> stateless(List<Tool> tools) {
        return tools.stream().map(t -> {
            JsonSchemas.Compiled parameters = JsonSchemas.compile(t.spec().parameters());
            return new McpStatelessServerFeatures.SyncToolSpecification(describe(t), (context, request) ->
                    call(t, parameters, request, (ChatGateway.Caller) context.get(CALLER), (Trace) context.get(TRACE)));
        }).toList();
    }

    /** {@code tools} for a session server (stdio): every call runs as {@code caller}, each in a trace of its own. */
    public static List<McpServerFeatures.SyncToolSpecification> sessions(List<Tool> tools, ChatGateway.Caller caller, Traces traces) {
        return tools.stream().map(t -> {
            JsonSchemas.Compiled parameters = JsonSchemas.compile(t.spec().parameters());
            return new McpServerFeatures.SyncToolSpecification(describe(t), (exchange, request) -> {
                Trace trace = traces.start("mcp " + t.spec().name(), caller.tenant());
                try {
                    return call(t, parameters, request, caller, trace);
                } finally {
                    trace.finish();
                }
            });
        }).toList();
    }

    @SuppressWarnings("unchecked")
    static McpSchema.Tool describe(Tool tool) {
        ToolSpec spec = tool.spec();
        boolean reads = spec.sideEffect() == dev.keel.config.AgentConfig.SideEffect.READ;
        McpSchema.Tool.Builder b = McpSchema.Tool.builder().name(spec.name()).description(spec.description())
                .inputSchema(MAPPER.convertValue(spec.parameters(), Map.class))
                .annotations(new McpSchema.ToolAnnotations(null, reads, !reads, spec.idempotent(), false, null));
        if (spec.result() != null) b.outputSchema(MAPPER.convertValue(spec.result(), Map.class));
        return b.build();
    }

    @SuppressWarnings("unchecked")
    private static McpSchema.CallToolResult call(Tool tool, JsonSchemas.Compiled parameters, McpSchema.CallToolRequest request,
                                                 ChatGateway.Caller caller, Trace trace) {
        JsonNode arguments = request.arguments() == null ? JsonNodeFactory.instance.objectNode() : MAPPER.valueToTree(request.arguments());
        List<String> errors = parameters.errors(arguments);
        if (!errors.isEmpty()) return error("invalid arguments: " + String.join("; ", errors));
        ToolInvocation invocation = new ToolInvocation(caller, "mcp-" + trace.id(), 0, trace.id(), Deadline.in(tool.spec().timeout()), trace);
        try {
            return switch (tool.call(arguments, invocation)) {
                case ToolOutcome.Success s -> McpSchema.CallToolResult.builder().addTextContent(s.value().toString())
                        .structuredContent(s.value().isObject() ? MAPPER.convertValue(s.value(), Map.class) : null).build();
                case ToolOutcome.Failure f -> error(f.message());
            };
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error("the call was interrupted");
        } catch (RuntimeException e) {
            LOG.warn("MCP call of {} failed (trace {})", tool.spec().name(), trace.id(), e);
            return error("the tool failed; see the server log (trace " + trace.id() + ")");
        }
    }

    private static McpSchema.CallToolResult error(String message) {
        return McpSchema.CallToolResult.builder().addTextContent(message).isError(true).build();
    }
}
