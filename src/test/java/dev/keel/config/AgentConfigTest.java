package dev.keel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AgentConfigTest {
    private static AgentConfig agents(String yaml) {
        return KeelConfig.parse(yaml, Map.of("ORDERS_TOKEN", "tok-123", "GH_TOKEN", "gh-456")::get).agents();
    }

    private static void rejected(String yaml, String field, String message) {
        assertThatThrownBy(() -> agents(yaml)).isInstanceOf(ConfigException.class).hasMessageContaining(field).hasMessageContaining(message);
    }

    @Test
    void absentSectionMeansTheDefaultsAndTheExampleFileDocumentsExactlyThem() {
        assertThat(agents("")).isEqualTo(AgentConfig.DEFAULTS);
        assertThat(AgentConfig.DEFAULTS.defaults()).isEqualTo(new AgentConfig.Limits(25, 0.50, 120, 50_000));
        assertThat(AgentConfig.DEFAULTS.httpGet().allowHosts()).isEmpty();
        assertThat(KeelConfig.load(Path.of("keel.example.yaml")).agents()).isEqualTo(AgentConfig.DEFAULTS);
    }

    @Test
    void theCommentedExamplesOfKeelExampleYamlAreValidWhenUncommented() throws Exception {
        String example = java.nio.file.Files.readString(Path.of("keel.example.yaml"));
        String section = example.substring(example.indexOf("\nagents:") + 1, example.indexOf("\n# OpenAI-compatible gateway"));
        String uncommented = section.replace("http_tools: []", "http_tools:").replace("mcp_servers: []", "mcp_servers:")
                .replace("definitions: {}", "definitions:").replaceAll("(?m)^  # ", "  ");
        AgentConfig a = KeelConfig.parse(uncommented, Map.of("CRM_TOKEN", "crm-1")::get).agents();
        assertThat(a.httpTools()).extracting(AgentConfig.HttpTool::name).containsExactly("update_email");
        assertThat(a.mcpServers()).extracting(AgentConfig.McpServer::name).containsExactly("files");
        assertThat(a.definitions().get("support").tools()).contains("update_email", "files_read_file");
    }

    @Test
    void everySectionIsRead() {
        AgentConfig a = agents("""
                agents:
                  defaults: {max_steps: 10, max_cost_usd: 0.2, max_seconds: 60, max_tokens: 20000}
                  http_get: {allow_hosts: [Docs.Example.com, "*.wikipedia.org"], max_bytes: 4096, timeout_ms: 2000, max_redirects: 1}
                  http_tools:
                    - name: update_email
                      description: Changes a customer's email
                      method: post
                      url: https://crm.example.com/customers/{customer}/email
                      headers: {Authorization: "Bearer ${ORDERS_TOKEN}"}
                      parameters: {type: object, properties: {customer: {type: string}, email: {type: string}}, required: [customer, email]}
                      result: {type: object}
                      scopes: ["crm:write"]
                      confirm_summary: "update the email of customer {customer} to {email}"
                      timeout_ms: 5000
                      max_bytes: 2048
                  mcp_servers:
                    - {name: files, command: [npx, -y, "@modelcontextprotocol/server-filesystem", /srv/docs], read_tools: [read_file]}
                    - {name: github, url: "https://mcp.example.com/mcp", headers: {Authorization: "Bearer ${GH_TOKEN}"}, scopes: [github], timeout_ms: 5000}
                  definitions:
                    support:
                      model: gpt-4o-mini
                      system: You help customers.
                      tools: [search_docs, update_email, files_read_file]
                      confirm: [update_email]
                      requires: {update_email: [search_docs]}
                      escalate_after_failures: 2
                      escalate_on: ["lawyer|legal action"]
                      limits: {max_steps: 5}
                  mcp_endpoint: false
                """);
        assertThat(a.defaults()).isEqualTo(new AgentConfig.Limits(10, 0.2, 60, 20_000));
        assertThat(a.httpGet()).isEqualTo(new AgentConfig.HttpGet(List.of("docs.example.com", "*.wikipedia.org"), 4096, 2000, 1));
        AgentConfig.HttpTool t = a.httpTools().getFirst();
        assertThat(t.method()).isEqualTo("POST");
        assertThat(t.sideEffect()).isEqualTo(AgentConfig.SideEffect.WRITE);
        assertThat(t.idempotent()).isFalse();
        assertThat(t.headers()).containsEntry("Authorization", "Bearer tok-123");
        assertThat(t.scopes()).containsExactly("crm:write");
        assertThat(t.timeoutMs()).isEqualTo(5000);
        assertThat(t.maxBytes()).isEqualTo(2048);
        assertThat(a.mcpServers().get(0).stdio()).isTrue();
        assertThat(a.mcpServers().get(1).url()).isEqualTo(URI.create("https://mcp.example.com/mcp"));
        assertThat(a.mcpServers().get(1).headers()).containsEntry("Authorization", "Bearer gh-456");
        AgentConfig.Definition d = a.definitions().get("support");
        assertThat(d.confirm()).isEqualTo(Set.of("update_email"));
        assertThat(d.needsConfirmation("update_email", AgentConfig.SideEffect.WRITE)).isTrue();
        assertThat(d.needsConfirmation("files_read_file", AgentConfig.SideEffect.WRITE)).isFalse();
        assertThat(d.requires()).containsEntry("update_email", List.of("search_docs"));
        assertThat(d.limits()).isEqualTo(new AgentConfig.Limits(5, 0.2, 60, 20_000));
        assertThat(d.escalateOn().getFirst().matcher("I will take LEGAL ACTION").find()).isTrue();
        assertThat(a.mcpEndpoint()).isFalse();
        assertThat(a.toString()).doesNotContain("tok-123").doesNotContain("gh-456").contains("Authorization");
    }

    @Test
    void anAgentWithoutAModelWhileAnswersAreExtractiveIsAConfigErrorNamingItsModelField() {
        rejected("agents: {definitions: {helper: {tools: [calculator]}}}", "agents.definitions.helper.model", "an agent needs a catalog model that calls tools");
    }

    @Test
    void anAgentWithoutAModelCallsTheAnswerModelWhenThereIsOne() {
        AgentConfig a = agents("answer: {model: chat}\nagents: {definitions: {helper: {tools: [calculator]}}}");
        assertThat(a.definitions().get("helper").model()).isNull();
    }

    @Test
    void definitionsKeepTheirKeelYamlOrder() {
        AgentConfig a = agents("agents: {definitions: {zeta: {model: m}, alpha: {model: m}, mu: {model: m}, beta: {model: m}, omega: {model: m}}}");
        assertThat(a.definitions().keySet()).containsExactly("zeta", "alpha", "mu", "beta", "omega");
    }

    @Test
    void anAgentWithoutConfirmConfirmsEveryWriteTool() {
        AgentConfig.Definition d = agents("agents: {definitions: {helper: {model: chat, tools: [calculator]}}}").definitions().get("helper");
        assertThat(d.needsConfirmation("anything", AgentConfig.SideEffect.WRITE)).isTrue();
        assertThat(d.needsConfirmation("calculator", AgentConfig.SideEffect.READ)).isFalse();
        assertThat(d.limits()).isEqualTo(AgentConfig.Limits.DEFAULTS);
    }

    @Test
    void aGetToolIsAnIdempotentReadUnlessDeclaredOtherwise() {
        AgentConfig.HttpTool t = agents("agents: {http_tools: [{name: status, url: 'https://status.example.com/'}]}").httpTools().getFirst();
        assertThat(t.sideEffect()).isEqualTo(AgentConfig.SideEffect.READ);
        assertThat(t.idempotent()).isTrue();
        assertThat(t.parameters().toString()).isEqualTo("{\"type\":\"object\"}");
    }

    @Test
    void aPlaceholderInTheSchemeOrHostIsRefusedSoAModelCannotChooseWhereTheCallGoes() {
        rejected("agents: {http_tools: [{name: t, url: 'https://{tenant}.example.com/x', parameters: {type: object, properties: {tenant: {type: string}}, required: [tenant]}}]}",
                "agents.http_tools[0].url", "only in the path or query");
        rejected("agents: {http_tools: [{name: t, url: 'https://api.example.com:{port}/x', parameters: {type: object, properties: {port: {type: string}}, required: [port]}}]}",
                "agents.http_tools[0].url", "only in the path or query");
    }

    @Test
    void aPlaceholderMustBeARequiredParameter() {
        rejected("agents: {http_tools: [{name: t, url: 'https://api.example.com/orders/{id}'}]}", "agents.http_tools[0].parameters", "{id} must be a required property");
        rejected("agents: {http_tools: [{name: t, url: 'https://api.example.com/orders/{id}', parameters: {type: object, properties: {id: {type: string}}}}]}",
                "agents.http_tools[0].parameters", "{id} must be a required property");
    }

    @Test
    void badHttpToolsNameTheirField() {
        rejected("agents: {http_tools: [{name: 'bad name', url: 'https://a.example/'}]}", "agents.http_tools[0].name", "1-64 letters");
        rejected("agents: {http_tools: [{name: http_get, url: 'https://a.example/'}]}", "agents.http_tools[0].name", "built-in");
        rejected("agents: {http_tools: [{name: t, url: 'https://a.example/'}, {name: t, url: 'https://b.example/'}]}", "agents.http_tools[1].name", "already declared");
        rejected("agents: {http_tools: [{name: t, method: TRACE, url: 'https://a.example/'}]}", "agents.http_tools[0].method", "TRACE");
        rejected("agents: {http_tools: [{name: t, url: 'file:///etc/passwd'}]}", "agents.http_tools[0].url", "http(s)");
        rejected("agents: {http_tools: [{name: t}]}", "agents.http_tools[0].url", "needs a url");
        rejected("agents: {http_tools: [{name: t, url: 'https://a.example/a b'}]}", "agents.http_tools[0].url", "not a URL template");
        rejected("agents: {http_tools: [{name: t, url: 'https://a.example/', parameters: {$ref: 'https://evil.example/s.json'}}]}", "agents.http_tools[0].parameters", "local $ref");
        rejected("agents: {http_tools: [{name: t, url: 'https://a.example/', side_effect: maybe}]}", "agents.http_tools[0].side_effect", "maybe");
    }

    @Test
    void badPoliciesServersAndDefinitionsNameTheirField() {
        rejected("agents: {http_get: {max_redirects: 50}}", "agents.http_get.max_redirects", "");
        rejected("agents: {defaults: {max_steps: 0}}", "agents.defaults.max_steps", "");
        rejected("agents: {mcp_servers: [{name: files}]}", "agents.mcp_servers[0].command", "exactly one of command");
        rejected("agents: {mcp_servers: [{name: a_b, url: 'https://m.example/'}]}", "agents.mcp_servers[0].name", "1-24 letters");
        rejected("agents: {definitions: {a: {tools: [calculator], confirm: [http_get]}}}", "agents.definitions.a.confirm", "'http_get' is not one of this agent's tools");
        rejected("agents: {definitions: {a: {tools: [calculator], requires: {calculator: [http_get]}}}}", "agents.definitions.a.requires.calculator", "http_get");
        rejected("agents: {definitions: {a: {tools: [calculator], escalate_on: ['(']}}}", "agents.definitions.a.escalate_on", "regular expression");
        rejected("agents: {definitions: {'a b': {tools: [calculator]}}}", "agents.definitions", "agent name");
        rejected("agents: {tools: []}", "agents.tools", "unknown setting");
    }
}
