package dev.keel.agent;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tools agents may use, by name: built-in ones, HTTP tools declared in keel.yaml and the tools of attached MCP
 * servers. Names are unique; registering a second tool of a name fails. Thread-safe for reads once built.
 */
public final class ToolRegistry {
    private final Map<String, Tool> tools = new LinkedHashMap<>();

    /** Adds a tool; fails when its name is taken. */
    public synchronized ToolRegistry register(Tool tool) {
        String name = tool.spec().name();
        if (tools.putIfAbsent(name, tool) != null) throw new IllegalArgumentException("a tool named '" + name + "' is already registered");
        return this;
    }

    public synchronized ToolRegistry registerAll(Collection<? extends Tool> all) {
        all.forEach(this::register);
        return this;
    }

    public synchronized Optional<Tool> get(String name) {
        return Optional.ofNullable(tools.get(name));
    }

    /**
     * The tools {@code agent} offers a caller holding {@code granted} scopes (null: an anonymous local caller, who holds
     * every scope), in the definition's order: those of its {@code tools} that are registered and whose scopes are
     * granted. The only tools the model sees and the loop runs.
     */
    public synchronized List<Tool> offered(dev.keel.config.AgentConfig.Definition agent, java.util.Set<String> granted) {
        List<Tool> out = new ArrayList<>();
        for (String name : agent.tools()) {
            Tool tool = tools.get(name);
            if (tool != null && tool.spec().permits(granted)) out.add(tool);
        }
        return out;
    }

    /** Every tool, in registration order. */
    public synchronized List<Tool> all() {
        return new ArrayList<>(tools.values());
    }
}
