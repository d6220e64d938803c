package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.Keel;
import dev.keel.config.ConfigException;
import dev.keel.config.GatewayConfig;
import dev.keel.config.KeelConfig;
import dev.keel.model.ApiException;
import dev.keel.provider.DocumentAnswerer;
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
    private static final DocumentAnswerer NO_DOCUMENTS = (tenant, question) -> new DocumentAnswerer.Grounded("n/a", false, List.of());

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

    @Test
    void aBaseUrlFromTheEnvironmentThatCannotBeCalledIsRefusedAtStartNamingTheVariable(@TempDir Path dir) {
        for (String url : List.of("http://my_llm:8000/v1", "http://127.0.0.1:8000/v1?key=1", "ftp://127.0.0.1/v1")) {
            try (Database db = Database.open(dir); Ledger ledger = new Ledger(db)) {
                assertThatThrownBy(() -> ChatGateway.create(GatewayConfig.EMPTY, Map.of("OPENAI_API_KEY", "sk-o", "OPENAI_BASE_URL", url)::get,
                        new Traces().registry(), ledger, NO_DOCUMENTS)).as(url).isInstanceOf(ConfigException.class)
                        .hasMessageStartingWith("OPENAI_BASE_URL: ").hasMessageContaining(url);
            }
        }
    }

    @Test
    void aBaseUrlWithoutAKeySaysThatTheKeyMustBeSetInTheNotFound(@TempDir Path dir) throws Exception {
        try (Database db = Database.open(dir); Ledger ledger = new Ledger(db);
             ChatGateway gateway = ChatGateway.create(GatewayConfig.EMPTY, Map.of("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")::get,
                     new Traces().registry(), ledger, NO_DOCUMENTS)) {
            ApiException e = catchThrowableOfType(ApiException.class,
                    () -> gateway.complete(request("llama3.2"), new ChatGateway.Caller("t", null), new Traces().start("x", "t")));
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.getMessage()).contains("OPENAI_BASE_URL is set but OPENAI_API_KEY is not").contains("any value for servers that ignore it")
                    .endsWith("available: [" + ChatGateway.EXTRACTIVE_MODEL + "]");
        }
    }

    @Test
    void anUnknownModelsNameIsQuotedCutShort(@TempDir Path dir) throws Exception {
        try (Database db = Database.open(dir); Ledger ledger = new Ledger(db);
             ChatGateway gateway = ChatGateway.create(GatewayConfig.EMPTY, k -> null, new Traces().registry(), ledger, NO_DOCUMENTS)) {
            ApiException e = catchThrowableOfType(ApiException.class,
                    () -> gateway.complete(request("m".repeat(1_000_000)), new ChatGateway.Caller("t", null), new Traces().start("x", "t")));
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.getMessage()).contains("'" + "m".repeat(200) + "…'").hasSizeLessThan(1000).contains("no providers are configured");
        }
    }

    @Test
    void anAnswerModelThatNoProviderServesFailsAtStartupNamingTheField(@TempDir Path dir) {
        try (Database db = Database.open(dir); Ledger ledger = new Ledger(db);
             ChatGateway gateway = ChatGateway.create(GatewayConfig.EMPTY, k -> null, new Traces().registry(), ledger, NO_DOCUMENTS)) {
            assertThatThrownBy(() -> gateway.checkConfigured("answer.model", "gpt-4o-mini")).isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("answer.model: ").hasMessageContaining("add providers and models to keel.yaml");
            gateway.checkConfigured("answer.model", ChatGateway.EXTRACTIVE_MODEL);
        }
    }

    @Test
    void keelRefusesToStartWithAnAnswerModelThatNoProviderServes(@TempDir Path dir) {
        assumeTrue(System.getenv("OPENAI_API_KEY") == null && System.getenv("ANTHROPIC_API_KEY") == null, "no provider keys in the environment");
        assertThatThrownBy(() -> Keel.open(KeelConfig.parse("answer: {model: gpt-4o-mini}", k -> null), dir)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("answer.model: ");
    }

    private static ObjectNode request(String model) throws Exception {
        return (ObjectNode) JSON.readTree("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }
}
