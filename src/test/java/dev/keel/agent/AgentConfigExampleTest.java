package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.AgentConfig;
import dev.keel.config.KeelConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** keel.example.yaml documents the agents' limits with their defaults; README's agent configuration works as it is. */
class AgentConfigExampleTest {
    @Test
    void theRunningAgentsExampleOfTheReadmeStartsAsItIsWithEveryToolItNames() throws Exception {
        String readme = java.nio.file.Files.readString(Path.of("README.md"));
        String from = readme.substring(readme.indexOf("### Running agents"));
        String yaml = from.substring(from.indexOf("```yaml\n") + 8, from.indexOf("```\n", from.indexOf("```yaml\n") + 8));
        KeelConfig config = KeelConfig.parse(yaml, java.util.Map.of("OPENAI_API_KEY", "k", "CRM_TOKEN", "t")::get);
        Tool search = TestTools.read("search_docs", "{\"type\":\"object\"}", a -> TestTools.ok("[]"));
        try (Tools tools = Tools.assemble(config.agents(), java.util.List.of(search), java.util.List.of())) {
            AgentConfig.Definition support = config.agents().definitions().get("support");
            assertThat(tools.offeredTo(support, new dev.keel.gateway.ChatGateway.Caller("local", null)).stream().map(t -> t.spec().name()))
                    .containsExactly("search_docs", "verify_identity", "update_email");
            Tool update = tools.registry().get("update_email").orElseThrow();
            assertThat(support.needsConfirmation("update_email", update.spec().sideEffect())).isTrue();
            assertThat(update.summarize(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("customer_id", "42")
                    .put("email", "ada@example.com"))).isEqualTo("change the email of customer 42 to ada@example.com");
        }
    }

    @Test
    void theExampleFileDocumentsTheDefaultLimits() {
        KeelConfig example = KeelConfig.load(Path.of("keel.example.yaml"));
        assertThat(example.agents().defaults()).isEqualTo(AgentConfig.Limits.DEFAULTS).isEqualTo(KeelConfig.defaults().agents().defaults());
        assertThat(example.agents().definitions()).isEmpty();
    }
}
