package dev.keel.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Agents and their tools ({@code agents:} in keel.yaml). {@code defaults} are the hard limits of every agent that
 * sets none of its own; {@code http_get} is the policy of the built-in {@code http_get} tool (no host is allowed
 * until listed); {@code http_tools} are the teams' own HTTP APIs as tools; {@code mcp_servers} attach MCP servers
 * whose tools join the registry; {@code definitions} are the agents, by name; {@code mcp_endpoint} serves Keel's
 * corpus tools over MCP at {@code /mcp}. Immutable; validated at startup, every error names its field.
 */
public record AgentConfig(Limits defaults, HttpGet httpGet, List<HttpTool> httpTools, List<McpServer> mcpServers,
                          Map<String, Definition> definitions, boolean mcpEndpoint) {
    public static final AgentConfig DEFAULTS = new AgentConfig(Limits.DEFAULTS, HttpGet.DEFAULTS, List.of(), List.of(), Map.of(), true);

    /** Tool and agent names as providers accept them (OpenAI: {@code ^[a-zA-Z0-9_-]{1,64}$}). */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    /** The names of the built-in tools, which declared tools may not reuse. */
    public static final Set<String> BUILT_IN_TOOLS = Set.of("search_docs", "answer_from_docs", "http_get", "calculator");

    public AgentConfig {
        httpTools = List.copyOf(httpTools);
        mcpServers = List.copyOf(mcpServers);
        definitions = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(definitions));
    }

    /** Whether a tool performs a side effect: {@code read} tools run freely, {@code write} tools need confirmation by default. */
    public enum SideEffect { READ, WRITE }

    /**
     * Hard limits of one run; hitting one ends it with status {@code limit_reached} and the limit's name as reason.
     * Steps count model calls; cost and tokens are what the run's model calls were billed (tools are free).
     */
    public record Limits(int maxSteps, double maxCostUsd, int maxSeconds, long maxTokens) {
        public static final Limits DEFAULTS = new Limits(25, 0.50, 120, 50_000);

        static Limits read(ConfigNode n, Limits fallback) {
            return new Limits(
                    n.integer("max_steps", fallback.maxSteps, 1, 1_000),
                    n.decimal("max_cost_usd", fallback.maxCostUsd, 0, 1_000),
                    n.integer("max_seconds", fallback.maxSeconds, 1, 24 * 3600),
                    n.longValue("max_tokens", fallback.maxTokens, 1, 100_000_000));
        }
    }

    /**
     * The built-in {@code http_get} tool: hosts it may fetch ({@code allow_hosts}, exact names or {@code *.example.com};
     * empty = the tool refuses every URL), the most bytes of a body it reads, its timeout and how many redirects it
     * follows (each re-checked). Private, loopback and link-local addresses are refused after DNS resolution
     * whatever the list says.
     */
    public record HttpGet(List<String> allowHosts, long maxBytes, int timeoutMs, int maxRedirects) {
        public static final HttpGet DEFAULTS = new HttpGet(List.of(), 1024 * 1024, 10_000, 3);

        public HttpGet {
            allowHosts = List.copyOf(allowHosts);
        }

        static HttpGet read(ConfigNode n) {
            return new HttpGet(
                    n.strings("allow_hosts").stream().map(h -> h.toLowerCase(Locale.ROOT)).toList(),
                    n.longValue("max_bytes", DEFAULTS.maxBytes, 1, 64L * 1024 * 1024),
                    n.integer("timeout_ms", DEFAULTS.timeoutMs, 1, 600_000),
                    n.integer("max_redirects", DEFAULTS.maxRedirects, 0, 10));
        }
    }

    /**
     * A team's own HTTP API as a tool. {@code url} is a template whose {@code {arg}} placeholders are filled from the
     * arguments (URL-encoded); with a body method the other arguments are sent as a JSON object. {@code headers}
     * values come from the environment ({@code ${TOKEN}}). {@code parameters} is the arguments' JSON Schema,
     * {@code result} the response's (optional). A write tool's calls carry an {@code Idempotency-Key} header.
     * {@code confirm_summary} is the text a person sees before a write runs, with {@code {arg}} placeholders.
     * Unlike {@code http_get}, the host of {@code url} is trusted (the operator wrote it), but redirects are not followed.
     */
    public record HttpTool(String name, String description, String method, String url, Map<String, String> headers,
                           JsonNode parameters, JsonNode result, SideEffect sideEffect, boolean idempotent, int timeoutMs,
                           List<String> scopes, String confirmSummary, long maxBytes) {
        public HttpTool {
            headers = Map.copyOf(headers);
            scopes = List.copyOf(scopes);
        }

        /** Header values and the URL (either may carry a token) never appear in toString (logs, errors). */
        @Override
        public String toString() {
            return "HttpTool[" + name + ", " + method + ", headers=" + new java.util.TreeSet<>(headers.keySet()) + ", " + sideEffect + ", scopes=" + scopes + "]";
        }

        static HttpTool read(ConfigNode n) {
            String name = n.string("name", null);
            if (name == null || !NAME.matcher(name).matches()) throw new ConfigException(n.path("name"), "a tool needs a name of 1-64 letters, digits, '_' or '-'");
            if (BUILT_IN_TOOLS.contains(name)) throw new ConfigException(n.path("name"), "'" + name + "' is a built-in tool");
            String method = n.string("method", "GET").toUpperCase(Locale.ROOT);
            if (!Set.of("GET", "POST", "PUT", "PATCH", "DELETE").contains(method)) {
                throw new ConfigException(n.path("method"), "expected GET, POST, PUT, PATCH or DELETE, got '" + method + "'");
            }
            String url = n.string("url", null);
            if (url == null) throw new ConfigException(n.path("url"), "an HTTP tool needs a url");
            JsonNode parameters = schema(n, "parameters", true);
            checkPlaceholders(n, url, parameters);
            URI base;
            try {
                base = URI.create(url.replaceAll("\\{[A-Za-z0-9_]+}", "x"));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(n.path("url"), "not a URL template: '" + url + "'");
            }
            if (base.getScheme() == null || !Set.of("http", "https").contains(base.getScheme()) || base.getHost() == null) {
                throw new ConfigException(n.path("url"), "expected an http(s) URL template, got '" + url + "'");
            }
            SideEffect effect = n.enumValue("side_effect", SideEffect.class, method.equals("GET") ? SideEffect.READ : SideEffect.WRITE);
            return new HttpTool(name, n.string("description", name), method, url, n.stringMap("headers"), parameters, schema(n, "result", false),
                    effect, n.bool("idempotent", method.equals("GET") || method.equals("PUT") || method.equals("DELETE")),
                    n.integer("timeout_ms", 10_000, 1, 600_000), n.strings("scopes"), n.string("confirm_summary", null),
                    n.longValue("max_bytes", 1024 * 1024, 1, 64L * 1024 * 1024));
        }
    }

    /**
     * Placeholders may stand only in the path and query (a model's argument never chooses the scheme, host or port),
     * and each must be a required property of {@code parameters}, so a call always has what its URL needs.
     */
    private static void checkPlaceholders(ConfigNode n, String url, JsonNode parameters) {
        int scheme = url.indexOf("://");
        int authorityEnd = url.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int i = url.indexOf(c, scheme + 3);
            if (i >= 0) authorityEnd = Math.min(authorityEnd, i);
        }
        java.util.regex.Matcher m = Pattern.compile("\\{([A-Za-z0-9_]+)}").matcher(url);
        Set<String> required = new java.util.HashSet<>();
        parameters.path("required").forEach(r -> required.add(r.asText()));
        while (m.find()) {
            if (m.start() < authorityEnd) throw new ConfigException(n.path("url"), "{" + m.group(1) + "} is in the scheme or host; placeholders may stand only in the path or query");
            if (!required.contains(m.group(1)) || !parameters.path("properties").has(m.group(1))) {
                throw new ConfigException(n.path("parameters"), "the url's {" + m.group(1) + "} must be a required property");
            }
        }
    }

    /**
     * An MCP server whose tools join the registry: launched as {@code command} (stdio, with {@code env}) or reached
     * at {@code url} (streamable HTTP, with {@code headers}). Its tools are named {@code <name>_<tool>}. A tool is
     * {@code read} only when listed in {@code read_tools} (a server's own read-only annotation is not trusted), else {@code write}
     * (so it needs confirmation); {@code scopes} are needed to use any of its tools. {@code timeout_ms} bounds each call.
     */
    public record McpServer(String name, List<String> command, Map<String, String> env, URI url, Map<String, String> headers,
                            List<String> readTools, List<String> scopes, int timeoutMs) {
        public McpServer {
            command = List.copyOf(command);
            env = Map.copyOf(env);
            headers = Map.copyOf(headers);
            readTools = List.copyOf(readTools);
            scopes = List.copyOf(scopes);
        }

        /** Environment and header values, command arguments and the URL beyond its host (any may carry a token) never appear in toString. */
        @Override
        public String toString() {
            return "McpServer[" + name + ", " + (stdio() ? "stdio " + command.getFirst() : "http " + url.getHost()) + ", env=" + new java.util.TreeSet<>(env.keySet())
                    + ", headers=" + new java.util.TreeSet<>(headers.keySet()) + ", scopes=" + scopes + "]";
        }

        /** Whether it is launched as a subprocess speaking MCP on stdio (else reached over streamable HTTP). */
        public boolean stdio() {
            return !command.isEmpty();
        }

        static McpServer read(ConfigNode n) {
            String name = n.string("name", null);
            if (name == null || !Pattern.matches("[A-Za-z0-9-]{1,24}", name)) {
                throw new ConfigException(n.path("name"), "an MCP server needs a name of 1-24 letters, digits or '-'");
            }
            List<String> command = n.strings("command");
            URI url = n.httpUrl("url");
            if (command.isEmpty() == (url == null)) throw new ConfigException(n.path("command"), "an MCP server needs exactly one of command (stdio) or url (streamable HTTP)");
            return new McpServer(name, command, n.stringMap("env"), url, n.stringMap("headers"), n.strings("read_tools"), n.strings("scopes"),
                    n.integer("timeout_ms", 30_000, 1, 600_000));
        }
    }

    /**
     * One agent: the catalog {@code model} it calls (the answer model when absent), its system prompt ({@code system},
     * inline text or a template file path; the built-in {@code agent-system} when absent), the {@code tools} it may
     * use (nothing else is offered to the model, and a call to anything else is refused), which of them need a
     * person's confirmation ({@code confirm}, exactly those; absent = every write tool, {@code confirmAllWrites}), tools that must have succeeded before
     * another may run ({@code requires: {update_email: [verify_identity]}}), when it hands over to a person
     * ({@code escalate_after_failures} failed tool calls in a run, or a model reply or task matching one of
     * {@code escalate_on}), and its limits.
     */
    public record Definition(String name, String description, String model, String system, List<String> tools, boolean confirmAllWrites,
                             Set<String> confirm, Map<String, List<String>> requires, int escalateAfterFailures, List<Pattern> escalateOn, Limits limits) {
        public Definition {
            tools = List.copyOf(tools);
            confirm = Set.copyOf(confirm);
            requires = Map.copyOf(requires);
            escalateOn = List.copyOf(escalateOn);
        }

        static Definition read(String name, ConfigNode n, Limits defaults) {
            List<String> tools = n.strings("tools");
            Set<String> confirm = n.has("confirm") ? new LinkedHashSet<>(n.strings("confirm")) : null;
            if (confirm != null) {
                for (String c : confirm) if (!tools.contains(c)) throw new ConfigException(n.path("confirm"), "'" + c + "' is not one of this agent's tools");
            }
            Map<String, List<String>> requires = new LinkedHashMap<>();
            ConfigNode req = n.child("requires");
            for (String tool : req.keys()) {
                if (!tools.contains(tool)) throw new ConfigException(req.path(tool), "'" + tool + "' is not one of this agent's tools");
                List<String> before = req.strings(tool);
                for (String b : before) if (!tools.contains(b)) throw new ConfigException(req.path(tool), "'" + b + "' is not one of this agent's tools");
                requires.put(tool, before);
            }
            List<Pattern> escalateOn = new ArrayList<>();
            for (String p : n.strings("escalate_on")) {
                try {
                    escalateOn.add(Pattern.compile(p, Pattern.CASE_INSENSITIVE));
                } catch (PatternSyntaxException e) {
                    throw new ConfigException(n.path("escalate_on"), "not a regular expression: " + e.getDescription());
                }
            }
            return new Definition(name, n.string("description", ""), n.string("model", null), n.string("system", null), tools,
                    confirm == null, confirm == null ? Set.of() : confirm, requires, n.integer("escalate_after_failures", 3, 1, 1_000),
                    escalateOn, Limits.read(n.child("limits"), defaults));
        }

        /** Whether a call of {@code tool}, whose side effect is {@code effect}, waits for a person's confirmation. */
        public boolean needsConfirmation(String tool, SideEffect effect) {
            return confirmAllWrites ? effect == SideEffect.WRITE : confirm.contains(tool);
        }
    }

    static AgentConfig read(ConfigNode n) {
        Limits defaults = Limits.read(n.child("defaults"), Limits.DEFAULTS);
        List<HttpTool> httpTools = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>(BUILT_IN_TOOLS);
        for (ConfigNode t : n.list("http_tools")) {
            HttpTool tool = HttpTool.read(t);
            if (!names.add(tool.name())) throw new ConfigException(t.path("name"), "a tool named '" + tool.name() + "' is already declared");
            httpTools.add(tool);
        }
        List<McpServer> servers = new ArrayList<>();
        Set<String> serverNames = new java.util.HashSet<>();
        for (ConfigNode s : n.list("mcp_servers")) {
            McpServer server = McpServer.read(s);
            if (!serverNames.add(server.name())) throw new ConfigException(s.path("name"), "an MCP server named '" + server.name() + "' is already declared");
            servers.add(server);
        }
        Map<String, Definition> definitions = new LinkedHashMap<>();
        ConfigNode defs = n.child("definitions");
        for (String name : defs.keys()) {
            if (!NAME.matcher(name).matches()) throw new ConfigException(defs.path(name), "an agent name is 1-64 letters, digits, '_' or '-'");
            definitions.put(name, Definition.read(name, defs.child(name), defaults));
        }
        return new AgentConfig(defaults, HttpGet.read(n.child("http_get")), httpTools, servers, definitions, n.bool("mcp_endpoint", true));
    }

    private static JsonNode schema(ConfigNode n, String key, boolean required) {
        JsonNode s = n.tree(key);
        if (s == null) {
            if (!required) return null;
            return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("type", "object");
        }
        if (!s.isObject()) throw new ConfigException(n.path(key), "expected a JSON Schema mapping");
        try {
            dev.keel.model.JsonSchemas.compile(s);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(n.path(key), "not a usable JSON Schema: " + e.getMessage());
        }
        return s;
    }
}
