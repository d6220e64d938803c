package dev.keel.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A typed, path-aware view of one YAML mapping. Every accessor validates and names the field
 * on failure; {@link #rejectUnknown()} reports keys nobody asked for (typos).
 */
final class ConfigNode {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private final String path;
    private final JsonNode node;
    private final Function<String, String> env;
    private final Set<String> seen = new HashSet<>();
    private final List<ConfigNode> children = new ArrayList<>();

    ConfigNode(String path, JsonNode node, Function<String, String> env) {
        this.path = path;
        this.node = node == null ? MissingNode.getInstance() : node;
        this.env = env;
        if (!this.node.isMissingNode() && !this.node.isNull() && !this.node.isObject()) {
            throw new ConfigException(path, "expected a mapping of settings, got " + describe(this.node));
        }
    }

    String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    ConfigNode child(String key) {
        ConfigNode c = new ConfigNode(path(key), raw(key), env);
        children.add(c);
        return c;
    }

    /** Keys of a mapping whose entries are user-named (providers, models); each is marked as read. */
    List<String> keys() {
        List<String> out = new ArrayList<>();
        if (node.isObject()) node.fieldNames().forEachRemaining(out::add);
        seen.addAll(out);
        return out;
    }

    /** A list of mappings, each as a child node named {@code key[i]}. */
    List<ConfigNode> list(String key) {
        JsonNode v = raw(key);
        List<ConfigNode> out = new ArrayList<>();
        if (v == null) return out;
        if (!v.isArray()) throw new ConfigException(path(key), "expected a list, got " + describe(v));
        for (int i = 0; i < v.size(); i++) {
            ConfigNode c = new ConfigNode(path(key) + "[" + i + "]", v.get(i), env);
            children.add(c);
            out.add(c);
        }
        return out;
    }

    /** An environment variable, for defaults that come from the environment. */
    String env(String name) {
        return env.apply(name);
    }

    boolean has(String key) {
        return node.has(key) && !node.get(key).isNull();
    }

    String string(String key, String fallback) {
        JsonNode v = raw(key);
        if (v == null) return fallback;
        if (!v.isValueNode()) throw new ConfigException(path(key), "expected a string, got " + describe(v));
        return interpolate(key, v.asText());
    }

    /**
     * A list of strings, written as a YAML list or as one comma-separated string (so that a single
     * {@code ${VAR}} can supply it); blank items are dropped. Empty when absent.
     */
    List<String> strings(String key) {
        JsonNode v = raw(key);
        List<String> out = new ArrayList<>();
        if (v == null) return out;
        List<JsonNode> items = new ArrayList<>();
        if (v.isArray()) v.forEach(items::add);
        else items.add(v);
        for (JsonNode item : items) {
            if (!item.isValueNode()) throw new ConfigException(path(key), "expected a list of strings, got " + describe(item) + " in it");
            for (String part : interpolate(key, item.asText()).split(",")) {
                if (!part.isBlank()) out.add(part.strip());
            }
        }
        return out;
    }

    /**
     * A raw subtree (a JSON Schema written in YAML), marked as read with everything under it; null when absent.
     * Strings in it are not interpolated: a schema is data, not settings.
     */
    JsonNode tree(String key) {
        return raw(key);
    }

    /** A mapping of user-named string values (HTTP headers, environment variables), interpolated; empty when absent. */
    Map<String, String> stringMap(String key) {
        ConfigNode c = child(key);
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String k : c.keys()) out.put(k, c.string(k, ""));
        return out;
    }

    int integer(String key, int fallback, int min, int max) {
        return (int) longValue(key, fallback, min, max);
    }

    long longValue(String key, long fallback, long min, long max) {
        String s = string(key, null);
        if (s == null) return fallback;
        long v;
        try {
            v = Long.parseLong(s.trim().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new ConfigException(path(key), "expected a whole number, got '" + s + "'");
        }
        if (v < min || v > max) throw new ConfigException(path(key), "expected a number from " + min + " to " + max + ", got " + v);
        return v;
    }

    double decimal(String key, double fallback, double min, double max) {
        String s = string(key, null);
        if (s == null) return fallback;
        double v;
        try {
            v = Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(path(key), "expected a number, got '" + s + "'");
        }
        if (!(v >= min && v <= max)) throw new ConfigException(path(key), "expected a number from " + min + " to " + max + ", got " + v);
        return v;
    }

    /** An http(s) URL without a trailing slash; null when absent. */
    java.net.URI httpUrl(String key) {
        String url = string(key, null);
        return url == null ? null : httpUrl(path(key), url);
    }

    /**
     * {@code url} as an http(s) URL without a trailing slash, read from {@code field} (a config path or an environment
     * variable); a host Java's URI cannot read (an underscore, say) is refused here rather than failing every request.
     */
    static java.net.URI httpUrl(String field, String url) {
        try {
            java.net.URI base = java.net.URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            if (base.getScheme() == null || !(base.getScheme().equals("http") || base.getScheme().equals("https")) || base.getHost() == null) {
                throw new IllegalArgumentException();
            }
            return base;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(field, "expected an http(s) URL with a host name (letters, digits, dots and hyphens), got '" + url + "'");
        }
    }

    boolean bool(String key, boolean fallback) {
        String s = string(key, null);
        if (s == null) return fallback;
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigException(path(key), "expected true or false, got '" + s + "'");
        };
    }

    <E extends Enum<E>> E enumValue(String key, Class<E> type, E fallback) {
        String s = string(key, null);
        if (s == null) return fallback;
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s.trim())) return e;
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) names.add(e.name().toLowerCase(Locale.ROOT));
        throw new ConfigException(path(key), "expected one of " + names + ", got '" + s + "'");
    }

    /** Fails on keys that no accessor read, here and in every child, naming the first one. */
    void rejectUnknown() {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (!seen.contains(e.getKey())) {
                    throw new ConfigException(path(e.getKey()), "unknown setting" + (seen.isEmpty() ? "" : " (known here: " + String.join(", ", seen.stream().sorted().toList()) + ")"));
                }
            }
        }
        children.forEach(ConfigNode::rejectUnknown);
    }

    private JsonNode raw(String key) {
        seen.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    private String interpolate(String key, String value) {
        Matcher m = ENV.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String resolved = env.apply(m.group(1));
            if (resolved == null) resolved = m.group(2);
            if (resolved == null) {
                throw new ConfigException(path(key), "environment variable " + m.group(1) + " is not set (use ${" + m.group(1) + ":-default} for a default)");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(resolved));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String describe(JsonNode v) {
        if (v.isArray()) return "a list";
        if (v.isObject()) return "a mapping";
        return "'" + v.asText() + "'";
    }
}
