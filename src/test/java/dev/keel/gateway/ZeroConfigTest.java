package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.GatewayConfig;
import dev.keel.store.Database;
import dev.keel.store.Ledger;
import dev.keel.trace.Traces;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With no catalog, provider keys in the environment register providers and model names pass through, as the SDKs do. */
class ZeroConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void environmentKeysRegisterProvidersAndRouteClaudeModelsToAnthropic(@TempDir Path dir) throws Exception {
        try (FakeLlmServer openai = new FakeLlmServer(); FakeLlmServer anthropic = new FakeLlmServer();
             Database db = Database.open(dir); Ledger ledger = new Ledger(db);
             ChatGateway gateway = ChatGateway.create(GatewayConfig.EMPTY, Map.of("OPENAI_API_KEY", "sk-o", "OPENAI_BASE_URL", openai.baseUrl(),
                     "ANTHROPIC_API_KEY", "sk-a", "ANTHROPIC_BASE_URL", anthropic.baseUrl())::get, new Traces().registry(), ledger, (tenant, q) -> new dev.keel.provider.DocumentAnswerer.Grounded("n/a", false, List.of()))) {
            Traces traces = new Traces();
            assertThat(gateway.passthrough()).isTrue();
            anthropic.then(FakeLlmServer.anthropic("from claude", null, null, "end_turn"));
            ChatGateway.Result claude = gateway.complete(request("claude-sonnet-4-20250514"), new ChatGateway.Caller("t", null), traces.start("x", "t"));
            assertThat(claude.provider()).isEqualTo("anthropic");
            assertThat(claude.cost().priceKnown()).as("built-in price for claude-sonnet-4").isTrue();
            ChatGateway.Result gpt = gateway.complete(request("gpt-4o-mini"), new ChatGateway.Caller("t", null), traces.start("x", "t"));
            assertThat(gpt.provider()).isEqualTo("openai");
            assertThat(openai.received.get(0).body().get("model").asText()).isEqualTo("gpt-4o-mini");
        }
    }

    @Test
    void withoutKeysOrCatalogOnlyTheOfflineExtractiveModelIsOffered(@TempDir Path dir) {
        try (Database db = Database.open(dir); Ledger ledger = new Ledger(db);
             ChatGateway gateway = ChatGateway.create(GatewayConfig.EMPTY, k -> null, new Traces().registry(), ledger, (tenant, q) -> new dev.keel.provider.DocumentAnswerer.Grounded("n/a", false, List.of()))) {
            assertThat(gateway.passthrough()).isFalse();
            assertThat(gateway.models()).containsExactly(ChatGateway.EXTRACTIVE_MODEL);
        }
    }

    private static ObjectNode request(String model) throws Exception {
        return (ObjectNode) JSON.readTree("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }
}
