package dev.keel.agent;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.AgentConfig;
import dev.keel.config.AgentConfig.SideEffect;
import java.time.Duration;
import java.util.Set;

/**
 * A tool's contract: its {@code name} (as providers accept it), a {@code description} for the model, the JSON
 * Schema of its arguments and, optionally, of its result, whether it reads or writes, whether calling it twice with
 * the same arguments is harmless ({@code idempotent}), how long a call may take, and the scopes a caller's key must
 * grant for the tool to be offered at all. Immutable.
 */
public record ToolSpec(String name, String description, ObjectNode parameters, ObjectNode result, SideEffect sideEffect,
                       boolean idempotent, Duration timeout, Set<String> scopes) {
    public ToolSpec {
        if (name == null || !AgentConfig.NAME.matcher(name).matches()) throw new IllegalArgumentException("invalid tool name: " + name);
        parameters = parameters == null ? JsonNodeFactory.instance.objectNode().put("type", "object") : parameters.deepCopy();
        result = result == null ? null : result.deepCopy();
        scopes = Set.copyOf(scopes);
    }

    /** The tool as an OpenAI {@code tools[]} entry ({@code {"type":"function","function":{…}}}). */
    public ObjectNode openAiTool() {
        ObjectNode tool = JsonNodeFactory.instance.objectNode().put("type", "function");
        tool.putObject("function").put("name", name).put("description", description).set("parameters", parameters.deepCopy());
        return tool;
    }

    /** Whether a caller holding {@code granted} may use it; {@code null} means an anonymous local caller, who holds every scope. */
    public boolean permits(Set<String> granted) {
        return granted == null || granted.containsAll(scopes);
    }
}
