package dev.keel.agent;

import dev.keel.config.AgentConfig;
import dev.keel.config.ConfigException;
import dev.keel.gateway.ChatGateway;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The tools of one Keel: the registry assembled from {@code agents:} (the built-in {@code http_get} and
 * {@code calculator}, then the tools the caller brings — the corpus tools and the attached MCP servers' —, then the
 * declared HTTP tools), every agent definition checked against it at startup, and which tools an agent offers a
 * caller: its definition's tools that are registered and whose scopes the caller's key grants (an anonymous local
 * caller, without a key, holds every scope). Thread-safe; closing releases the HTTP clients of the tools that call out.
 */
public final class Tools implements AutoCloseable {
    private final ToolRegistry registry;
    private final HttpGetTool httpGet;
    private final OutboundHttp declared;

    private Tools(ToolRegistry registry, HttpGetTool httpGet, OutboundHttp declared) {
        this.registry = registry;
        this.httpGet = httpGet;
        this.declared = declared;
    }

    /**
     * Assembles the registry from {@code config} with {@code corpusTools} and {@code mcpTools} (either may be empty),
     * and checks every agent definition's {@code tools}: each must be registered or be named
     * {@code <configured MCP server>_…} (whose tools may attach later); otherwise a {@link ConfigException} names
     * {@code agents.definitions.NAME.tools}. A duplicate tool name is a {@link ConfigException} too.
     */
    public static Tools assemble(AgentConfig config, List<? extends Tool> corpusTools, List<? extends Tool> mcpTools) {
        return assemble(config, corpusTools, mcpTools, new HttpGetTool(config.httpGet()));
    }

    static Tools assemble(AgentConfig config, List<? extends Tool> corpusTools, List<? extends Tool> mcpTools, HttpGetTool httpGet) {
        OutboundHttp declared = new OutboundHttp("http-tools", null);
        ToolRegistry registry = new ToolRegistry();
        try {
            registry.register(httpGet).register(new CalculatorTool());
            registry.registerAll(corpusTools).registerAll(mcpTools);
            for (AgentConfig.HttpTool t : config.httpTools()) registry.register(new HttpApiTool(t, declared));
        } catch (IllegalArgumentException e) {
            declared.close();
            httpGet.close();
            throw new ConfigException("agents.http_tools", e.getMessage());
        }
        Tools tools = new Tools(registry, httpGet, declared);
        try {
            tools.check(config);
        } catch (ConfigException e) {
            tools.close();
            throw e;
        }
        return tools;
    }

    private void check(AgentConfig config) {
        Set<String> servers = new HashSet<>();
        config.mcpServers().forEach(s -> servers.add(s.name()));
        for (AgentConfig.Definition d : config.definitions().values()) {
            for (String tool : d.tools()) {
                if (registry.get(tool).isPresent()) continue;
                int cut = tool.indexOf('_');
                if (cut > 0 && cut < tool.length() - 1 && servers.contains(tool.substring(0, cut))) continue;
                throw new ConfigException("agents.definitions." + d.name() + ".tools", "'" + tool + "' is not a tool: neither built in ("
                        + String.join(", ", AgentConfig.BUILT_IN_TOOLS) + "), declared in agents.http_tools, nor named <mcp server>_<tool> after one of agents.mcp_servers");
            }
        }
    }

    /** Every registered tool. */
    public ToolRegistry registry() {
        return registry;
    }

    /**
     * The tools {@code agent} offers {@code caller}, in the definition's order: those of its {@code tools} that are
     * registered now and whose scopes the caller's key grants; the only ones the model sees and may call.
     */
    public List<Tool> offeredTo(AgentConfig.Definition agent, ChatGateway.Caller caller) {
        return registry.offered(agent, caller.key() == null ? null : Set.copyOf(caller.key().scopes()));
    }

    @Override
    public void close() {
        httpGet.close();
        declared.close();
    }
}
