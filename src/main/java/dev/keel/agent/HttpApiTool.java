package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.config.AgentConfig;
import dev.keel.model.Deadline;
import dev.keel.model.JsonSchemas;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A team's HTTP API declared in {@code agents.http_tools}. Each {@code {arg}} of the URL template is replaced by the
 * argument, percent-encoded as one path segment or one query value (so {@code ../admin} or {@code a/b?x=1} cannot
 * change the path or add parameters; {@code .}, {@code ..} and empty path values are refused). The other arguments
 * go as a JSON body (POST, PUT, PATCH) or as query parameters (GET, DELETE). The configured headers are sent and
 * never appear in a result, a failure message or a log line. A write tool's request carries
 * {@code Idempotency-Key: <the invocation's key>}. Redirects are not followed; the body is read up to
 * {@code max_bytes} within {@code timeout_ms}. A 2xx JSON body is the result (checked against {@code result} when
 * declared), any other 2xx body its text; another status is a failure naming it, retryable for 408, 429 and 5xx.
 * Thread-safe; the {@link OutboundHttp} it is given belongs to the caller.
 */
final class HttpApiTool implements Tool {
    static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z0-9_]+)}");
    /** How much of an error body a failure quotes: enough for "email is invalid", not a page of HTML. */
    private static final int REASON_CHARS = 200;
    /** How much of one argument a confirmation summary shows: a person reads it, a model may have written it. */
    private static final int SUMMARY_VALUE_CHARS = 200;
    private static final Set<String> BODY_METHODS = Set.of("POST", "PUT", "PATCH");
    private static final ObjectMapper JSON = dev.keel.model.Jackson.mapper();

    private final AgentConfig.HttpTool config;
    private final OutboundHttp http;
    private final ToolSpec spec;
    private final JsonSchemas.Compiled resultSchema;

    HttpApiTool(AgentConfig.HttpTool config, OutboundHttp http) {
        this.config = config;
        this.http = http;
        this.spec = new ToolSpec(config.name(), config.description(), (ObjectNode) config.parameters(), (ObjectNode) config.result(),
                config.sideEffect(), config.idempotent(), Duration.ofMillis(config.timeoutMs()), Set.copyOf(config.scopes()));
        this.resultSchema = config.result() == null ? null : JsonSchemas.compile(config.result());
    }

    @Override
    public ToolSpec spec() {
        return spec;
    }

    /** A URL with its placeholders filled, and the arguments no placeholder used. */
    private record Rendered(URI uri, Map<String, JsonNode> rest) {}

    /** Refused arguments: the message names the argument, for the model. */
    private static final class ArgumentException extends Exception {
        ArgumentException(String message) {
            super(message);
        }
    }

    @Override
    public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) throws InterruptedException {
        Rendered rendered;
        try {
            rendered = render(arguments);
        } catch (ArgumentException e) {
            return ToolOutcome.failure(e.getMessage());
        }
        Map<String, String> headers = new LinkedHashMap<>(config.headers());
        headers.putIfAbsent("Accept", "application/json");
        if (config.sideEffect() == AgentConfig.SideEffect.WRITE) headers.put("Idempotency-Key", invocation.idempotencyKey());
        byte[] body = null;
        if (BODY_METHODS.contains(config.method())) {
            ObjectNode object = JsonNodeFactory.instance.objectNode();
            rendered.rest().forEach(object::set);
            body = object.toString().getBytes(StandardCharsets.UTF_8);
        }
        Deadline deadline = OutboundHttp.deadline(invocation, config.timeoutMs());
        long started = System.nanoTime();
        OutboundHttp.Fetched fetched;
        try {
            fetched = http.exchange(config.method(), rendered.uri(), headers, body, deadline.remaining(), config.maxBytes());
        } catch (TimeoutException e) {
            return new ToolOutcome.Failure(config.name() + " timed out after " + (System.nanoTime() - started) / 1_000_000 + " ms", true);
        } catch (IOException e) {
            return new ToolOutcome.Failure(config.name() + " could not be reached (the connection failed)", true);
        }
        return outcome(fetched);
    }

    private ToolOutcome outcome(OutboundHttp.Fetched fetched) {
        int status = fetched.status();
        if (status >= 300 && status < 400) return ToolOutcome.failure(config.name() + " answered HTTP " + status + " (a redirect, which is not followed)");
        if (status < 200 || status >= 300) {
            String reason = fetched.text().replaceAll("\\s+", " ").strip();
            if (reason.length() > REASON_CHARS) reason = reason.substring(0, REASON_CHARS) + "…";
            return new ToolOutcome.Failure(config.name() + " answered HTTP " + status + (reason.isEmpty() ? "" : ": " + reason),
                    status == 408 || status == 429 || status >= 500);
        }
        if (fetched.body().length == 0) return ToolOutcome.success(JsonNodeFactory.instance.objectNode().put("status", status));
        if (fetched.isJson()) {
            if (fetched.truncated()) return ToolOutcome.failure(config.name() + " answered with more than max_bytes (" + config.maxBytes() + " bytes) of JSON");
            JsonNode value;
            try {
                value = JSON.readTree(fetched.body());
            } catch (IOException e) {
                return ToolOutcome.failure(config.name() + " answered with invalid JSON");
            }
            if (resultSchema != null) {
                List<String> errors = resultSchema.errors(value);
                if (!errors.isEmpty()) return ToolOutcome.failure(config.name() + "'s response does not match its result schema: " + String.join("; ", errors.subList(0, Math.min(3, errors.size()))));
            }
            return ToolOutcome.success(value);
        }
        if (resultSchema != null) return ToolOutcome.failure(config.name() + " answered " + (fetched.mediaType().isEmpty() ? "without a content type" : fetched.mediaType()) + ", not the JSON its result schema describes");
        String text = fetched.text();
        return ToolOutcome.success(TextNode.valueOf(fetched.truncated() ? text + "\n[cut at max_bytes: " + config.maxBytes() + " bytes]" : text));
    }

    /** The request URL: each placeholder filled with its argument, encoded for where it stands; the unused arguments. */
    private Rendered render(JsonNode arguments) throws ArgumentException {
        refuseUndeclared(arguments);
        String template = config.url();
        int queryStart = template.indexOf('?');
        Set<String> used = new HashSet<>();
        StringBuilder url = new StringBuilder();
        Matcher m = PLACEHOLDER.matcher(template);
        int last = 0;
        while (m.find()) {
            String name = m.group(1);
            String value = scalar(name, arguments.get(name));
            boolean inPath = queryStart < 0 || m.start() < queryStart;
            if (inPath && (value.isEmpty() || value.equals(".") || value.equals(".."))) {
                throw new ArgumentException("argument '" + name + "' may not be empty, '.' or '..'");
            }
            url.append(template, last, m.start()).append(encode(value));
            used.add(name);
            last = m.end();
        }
        url.append(template.substring(last));
        Map<String, JsonNode> rest = new LinkedHashMap<>();
        arguments.properties().forEach(e -> {
            if (!used.contains(e.getKey())) rest.put(e.getKey(), e.getValue());
        });
        if (!BODY_METHODS.contains(config.method())) {
            for (Map.Entry<String, JsonNode> e : rest.entrySet()) {
                if (e.getValue().isNull()) continue;
                url.append(url.indexOf("?") < 0 ? '?' : '&').append(encode(e.getKey())).append('=')
                        .append(encode(e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString()));
            }
        }
        try {
            return new Rendered(new URI(url.toString()), rest);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("a URL template filled with percent-encoded values is a URI", e);
        }
    }

    /**
     * Refuses an argument the parameters' {@code properties} do not name (unless the schema sets {@code additionalProperties}
     * itself): what is sent is what the schema declares, so a person confirming a write is not shown one thing while
     * another field ({@code "role": "admin"}) goes out in the body.
     */
    private void refuseUndeclared(JsonNode arguments) throws ArgumentException {
        JsonNode schema = config.parameters();
        JsonNode extra = schema.get("additionalProperties");
        if (extra != null && !(extra.isBoolean() && !extra.asBoolean())) return;
        JsonNode declared = schema.path("properties");
        for (String name : (Iterable<String>) () -> arguments.fieldNames()) {
            if (!declared.has(name)) {
                List<String> known = new java.util.ArrayList<>();
                declared.fieldNames().forEachRemaining(known::add);
                throw new ArgumentException("argument '" + clip(name) + "' is not one of this tool's parameters" + (known.isEmpty() ? "" : " (" + String.join(", ", known) + ")"));
            }
        }
    }

    private static String scalar(String name, JsonNode value) throws ArgumentException {
        if (value == null || value.isNull()) throw new ArgumentException("missing argument '" + name + "'");
        if (!value.isValueNode()) throw new ArgumentException("argument '" + name + "' must be a string, number or boolean");
        return value.asText();
    }

    /** Percent-encodes everything but RFC 3986's unreserved characters, so a value stays one segment or one query value. */
    static String encode(String value) {
        StringBuilder out = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16))).append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /**
     * What a person confirms: {@code confirm_summary} with its {@code {arg}} placeholders replaced by the arguments, else
     * the method and the URL the call would request; followed, in either case, by every argument sent that the text
     * does not show ({@code also sends: amount=99999}). Values are on one line and cut at 200 characters with the
     * number of characters cut, so nothing that goes out is hidden from the person.
     */
    @Override
    public String summarize(JsonNode arguments) {
        Set<String> shown = new HashSet<>();
        StringBuilder out = new StringBuilder();
        if (config.confirmSummary() == null) {
            try {
                Rendered rendered = render(arguments);
                out.append(config.method()).append(' ').append(rendered.uri());
                if (!BODY_METHODS.contains(config.method())) shown.addAll(rendered.rest().keySet());
                arguments.fieldNames().forEachRemaining(name -> {
                    if (!rendered.rest().containsKey(name)) shown.add(name);
                });
            } catch (ArgumentException e) {
                return config.method() + " " + config.url() + " (" + e.getMessage() + ")";
            }
        } else {
            Matcher m = PLACEHOLDER.matcher(config.confirmSummary());
            while (m.find()) {
                shown.add(m.group(1));
                m.appendReplacement(out, Matcher.quoteReplacement(shown(arguments.get(m.group(1)))));
            }
            m.appendTail(out);
        }
        List<String> also = new java.util.ArrayList<>();
        arguments.properties().forEach(e -> {
            if (!shown.contains(e.getKey()) && !e.getValue().isNull()) also.add(clip(e.getKey()) + "=" + shown(e.getValue()));
        });
        if (!also.isEmpty()) out.append(" (also sends: ").append(String.join(", ", also)).append(')');
        return out.toString();
    }

    /** One argument value as a person reads it: on one line, cut at 200 characters saying how many more there were. */
    private static String shown(JsonNode value) {
        String text = value == null || value.isNull() ? "?" : value.isValueNode() ? value.asText() : value.toString();
        text = text.replaceAll("[\\p{Cc}\\p{Cf}]+", " ");
        return text.length() > SUMMARY_VALUE_CHARS ? text.substring(0, SUMMARY_VALUE_CHARS) + "… (+" + (text.length() - SUMMARY_VALUE_CHARS) + " characters)" : text;
    }

    private static String clip(String name) {
        return shown(JsonNodeFactory.instance.textNode(name));
    }
}
