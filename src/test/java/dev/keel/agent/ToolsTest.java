package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.keel.config.AgentConfig;
import dev.keel.config.ConfigException;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.store.ApiKey;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ToolsTest {
    private static final String CONFIG = """
            agents:
              mcp_servers:
                - {name: github, url: "https://mcp.example.com/mcp"}
              http_tools:
                - name: get_order
                  url: "https://orders.example.com/orders/{id}"
                  parameters: {type: object, properties: {id: {type: string}}, required: [id]}
                  scopes: ["orders:read"]
                - name: refund_order
                  method: POST
                  url: "https://orders.example.com/orders/{id}/refund"
                  parameters: {type: object, properties: {id: {type: string}}, required: [id]}
                  scopes: ["orders:read", "orders:write"]
              definitions:
                support:
                  model: chat
                  tools: [search_docs, get_order, refund_order, calculator, github_create_issue]
            """;

    /** A stand-in for a tool another part of Keel brings (the corpus tools, an MCP server's). */
    private record Named(ToolSpec spec) implements Tool {
        Named(String name) {
            this(new ToolSpec(name, name, null, null, AgentConfig.SideEffect.READ, true, Duration.ofSeconds(1), Set.of()));
        }

        @Override
        public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) {
            return ToolOutcome.success(JsonNodeFactory.instance.textNode(spec.name()));
        }
    }

    private static AgentConfig agents(String yaml) {
        return KeelConfig.parse(yaml, k -> null).agents();
    }

    private static ApiKey key(String... scopes) {
        return new ApiKey("key_1", "app", "acme", "sk-keel-ab", List.of(), 0, 0, 0, 0, 0, 0, null, true, null, List.of(scopes));
    }

    private static List<String> names(List<Tool> tools) {
        return tools.stream().map(t -> t.spec().name()).toList();
    }

    @Test
    void registryHoldsBuiltInsThenBroughtToolsThenDeclaredOnes() {
        try (Tools tools = Tools.assemble(agents(CONFIG), List.of(new Named("search_docs")), List.of(new Named("github_create_issue")))) {
            assertThat(names(tools.registry().all())).containsExactly("http_get", "calculator", "search_docs", "github_create_issue", "get_order", "refund_order");
        }
    }

    @Test
    void aKeyWithoutOrdersWriteIsNotOfferedTheToolThatRequiresIt() {
        try (Tools tools = Tools.assemble(agents(CONFIG), List.of(new Named("search_docs")), List.of(new Named("github_create_issue")))) {
            AgentConfig.Definition support = agents(CONFIG).definitions().get("support");
            assertThat(names(tools.offeredTo(support, new ChatGateway.Caller("acme", key("orders:read")))))
                    .containsExactly("search_docs", "get_order", "calculator", "github_create_issue");
            assertThat(names(tools.offeredTo(support, new ChatGateway.Caller("acme", key()))))
                    .containsExactly("search_docs", "calculator", "github_create_issue");
            assertThat(names(tools.offeredTo(support, new ChatGateway.Caller("acme", key("orders:read", "orders:write")))))
                    .containsExactly("search_docs", "get_order", "refund_order", "calculator", "github_create_issue");
        }
    }

    @Test
    void anAnonymousLocalCallerHoldsEveryScope() {
        try (Tools tools = Tools.assemble(agents(CONFIG), List.of(new Named("search_docs")), List.of())) {
            AgentConfig.Definition support = agents(CONFIG).definitions().get("support");
            assertThat(names(tools.offeredTo(support, new ChatGateway.Caller("local", null))))
                    .containsExactly("search_docs", "get_order", "refund_order", "calculator");
        }
    }

    @Test
    void onlyTheDefinitionsToolsAreOfferedEvenWhenMoreAreRegistered() {
        String yaml = CONFIG.replace("tools: [search_docs, get_order, refund_order, calculator, github_create_issue]", "tools: [calculator]");
        try (Tools tools = Tools.assemble(agents(yaml), List.of(new Named("search_docs")), List.of())) {
            assertThat(names(tools.offeredTo(agents(yaml).definitions().get("support"), new ChatGateway.Caller("local", null)))).containsExactly("calculator");
        }
    }

    @Test
    void theReadmeExampleOffersAnOrdersReadKeyEverythingButTheRefund() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
        String from = readme.substring(readme.indexOf("### Tools and permissions"));
        String yaml = from.substring(from.indexOf("```yaml\n") + 8, from.indexOf("```\n", from.indexOf("```yaml\n") + 8));
        AgentConfig config = KeelConfig.parse(yaml, java.util.Map.of("ORDERS_TOKEN", "t")::get).agents();
        try (Tools tools = Tools.assemble(config, List.of(new Named("search_docs")), List.of())) {
            assertThat(names(tools.offeredTo(config.definitions().get("support"), new ChatGateway.Caller("acme", key("orders:read")))))
                    .containsExactly("search_docs", "get_order", "calculator");
            assertThat(tools.registry().get("refund_order").orElseThrow().summarize(JsonNodeFactory.instance.objectNode().put("order_id", "A-17").put("amount_usd", 12.5)))
                    .isEqualTo("refund 12.5 USD on order A-17");
        }
    }

    @Test
    void aDefinitionNamingAnUnknownToolIsAConfigErrorNamingItsField() {
        String yaml = CONFIG.replace("calculator, github", "calculater, github");
        assertThatThrownBy(() -> Tools.assemble(agents(yaml), List.of(new Named("search_docs")), List.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("agents.definitions.support.tools").hasMessageContaining("'calculater' is not a tool");
    }

    @Test
    void aToolNamedAfterAnUnconfiguredMcpServerIsAConfigError() {
        String yaml = CONFIG.replace("github_create_issue", "gitlab_create_issue");
        assertThatThrownBy(() -> Tools.assemble(agents(yaml), List.of(new Named("search_docs")), List.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("agents.definitions.support.tools").hasMessageContaining("gitlab_create_issue");
    }

    @Test
    void aBroughtToolClashingWithADeclaredOneIsAConfigError() {
        assertThatThrownBy(() -> Tools.assemble(agents(CONFIG), List.of(new Named("search_docs"), new Named("get_order")), List.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("get_order").hasMessageContaining("already registered");
    }
}
