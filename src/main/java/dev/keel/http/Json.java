package dev.keel.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.model.ApiException;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** The API's (and the CLI's) JSON: snake_case fields, ISO dates; request parsing errors become 400s naming the problem. */
public final class Json {
    public static final ObjectMapper MAPPER = dev.keel.model.Jackson.api();
    private static final ObjectReader STRICT = MAPPER.reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /**
     * Where Jackson's messages name its own settings and classes: "(…, from `StreamReadConstraints.getMaxNestingDepth()`)",
     * "enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow", "since Feature 'ALLOW_COMMENTS' not enabled".
     */
    private static final Pattern INTERNALS = Pattern.compile(
            ":? enable `[^`]*` to allow|,? from `[^`]*`| \\(not recognized as one since Feature '[^']*' not enabled for parser\\)|`[^`]*`");

    private Json() {}

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("response not serialisable", e);
        }
    }

    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("response not serialisable", e);
        }
    }

    /**
     * Parses a request body that must be a JSON object. Duplicate keys and content after the object are
     * refused (two parsers could read two different requests from one body); Jackson's limits (nesting depth, number and string
     * lengths) hold, and a message never names Jackson's internals.
     */
    static ObjectNode object(String body) {
        if (body == null || body.isBlank()) throw ApiException.badRequest("request body is empty; expected a JSON object", null);
        JsonNode node;
        try {
            node = STRICT.readTree(body);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw ApiException.badRequest("malformed JSON" + where + ": " + INTERNALS.matcher(e.getOriginalMessage()).replaceAll(""), null);
        }
        if (!(node instanceof ObjectNode o)) throw ApiException.badRequest("expected a JSON object", null);
        return o;
    }

    /** The request's media type, lower-case and without parameters; "" when it has none. */
    static String mediaType(Context ctx) {
        return mediaType(ctx.header("Content-Type"));
    }

    /** The request's media type, lower-case and without parameters; "" when it has none. */
    static String mediaType(Exchange exchange) {
        return mediaType(exchange.header("Content-Type"));
    }

    /** A {@code Content-Type} header's media type; the raw header, since Jetty's parsed type throws on a charset this JVM does not know. */
    private static String mediaType(String type) {
        if (type == null) return "";
        int semicolon = type.indexOf(';');
        return (semicolon < 0 ? type : type.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
    }

    /** The {@code charset} parameter of the request's content type, unquoted, or null. */
    static String charset(Exchange exchange) {
        String type = exchange.header("Content-Type");
        if (type == null) return null;
        for (String param : type.split(";")) {
            int eq = param.indexOf('=');
            if (eq > 0 && param.substring(0, eq).strip().equalsIgnoreCase("charset")) return param.substring(eq + 1).strip().replace("\"", "");
        }
        return null;
    }

    /** {@code application/json} or a JSON-based {@code application/…+json} type. */
    static boolean isJson(String mediaType) {
        return mediaType.equals("application/json") || mediaType.startsWith("application/") && mediaType.endsWith("+json");
    }

    static String requiredText(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) throw ApiException.badRequest("'" + field + "' is required", field);
        if (!v.isTextual()) throw ApiException.badRequest("'" + field + "' must be a string", field);
        if (v.asText().isBlank()) throw ApiException.badRequest("'" + field + "' must not be empty", field);
        return v.asText();
    }

    static String optionalText(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ApiException.badRequest("'" + field + "' must be a string", field);
        return v.asText();
    }

    static int optionalInt(ObjectNode o, String field, int fallback, int min, int max) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.canConvertToInt() || !v.isIntegralNumber()) throw ApiException.badRequest("'" + field + "' must be an integer", field);
        int i = v.asInt();
        if (i < min || i > max) throw ApiException.badRequest("'" + field + "' must be between " + min + " and " + max, field);
        return i;
    }

    static Double optionalDouble(ObjectNode o, String field, double min, double max) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw ApiException.badRequest("'" + field + "' must be a number", field);
        double d = v.asDouble();
        if (d < min || d > max) throw ApiException.badRequest("'" + field + "' must be between " + min + " and " + max, field);
        return d;
    }

    static Boolean optionalBool(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isBoolean()) throw ApiException.badRequest("'" + field + "' must be true or false", field);
        return v.asBoolean();
    }

    static List<String> optionalStrings(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw ApiException.badRequest("'" + field + "' must be a list of strings", field);
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) throw ApiException.badRequest("'" + field + "' must be a list of strings", field);
            out.add(e.asText());
        }
        return out;
    }
}
