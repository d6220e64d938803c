package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.GatewayConfig;
import dev.keel.config.ModelConfig;
import dev.keel.model.ApiException;
import dev.keel.model.ProviderException;
import dev.keel.provider.DocumentAnswerer;
import dev.keel.provider.Prices;
import dev.keel.store.ApiKey;
import dev.keel.store.Database;
import dev.keel.store.Ledger;
import dev.keel.trace.Traces;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model listing and unknown models when providers come from the environment and model names pass through. */
class ZeroConfigModelsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DocumentAnswerer NO_DOCUMENTS = (tenant, question) -> new DocumentAnswerer.Grounded("n/a", false, List.of());
    private static final ChatGateway.Caller OPEN = new ChatGateway.Caller("t", null);

    private static ChatGateway gateway(Ledger ledger, FakeLlmServer openai, FakeLlmServer anthropic) {
        Map<String, String> env = new HashMap<>();
        if (openai != null) env.putAll(Map.of("OPENAI_API_KEY", "sk-o", "OPENAI_BASE_URL", openai.baseUrl()));
        if (anthropic != null) env.putAll(Map.of("ANTHROPIC_API_KEY", "sk-a", "ANTHROPIC_BASE_URL", anthropic.baseUrl()));
        return ChatGateway.create(GatewayConfig.EMPTY, env::get, new Traces().registry(), ledger, NO_DOCUMENTS);
    }

    @Test
    void theWellKnownModelsOfEachRegisteredProviderAreListedWithTheOfflineModel(@TempDir Path dir) throws Exception {
        try (FakeLlmServer openai = new FakeLlmServer(); FakeLlmServer anthropic = new FakeLlmServer();
             Database db = Database.open(dir); Ledger ledger = new Ledger(db); ChatGateway gateway = gateway(ledger, openai, anthropic)) {
            assertThat(gateway.available(OPEN)).contains(new ChatGateway.Listed("gpt-4o-mini", "openai"),
                    new ChatGateway.Listed("text-embedding-3-small", "openai"), new ChatGateway.Listed("claude-sonnet-4-0", "anthropic"),
                    new ChatGateway.Listed(ChatGateway.EXTRACTIVE_MODEL, "keel"));
        }
    }

    @Test
    void onlyTheRegisteredProvidersModelsAreListed(@TempDir Path dir) throws Exception {
        try (FakeLlmServer openai = new FakeLlmServer(); Database db = Database.open(dir); Ledger ledger = new Ledger(db);
             ChatGateway gateway = gateway(ledger, openai, null)) {
            assertThat(gateway.available(OPEN)).extracting(ChatGateway.Listed::id).contains("gpt-4o").noneMatch(id -> id.startsWith("claude"));
        }
    }

    @Test
    void aKeyAllowingANameThatPassesThroughSeesIt(@TempDir Path dir) throws Exception {
        try (FakeLlmServer openai = new FakeLlmServer(); FakeLlmServer anthropic = new FakeLlmServer();
             Database db = Database.open(dir); Ledger ledger = new Ledger(db); ChatGateway gateway = gateway(ledger, openai, anthropic)) {
            ApiKey key = new ApiKey("key_1", "app", "t", "sk-keel-ab", List.of("gpt-5-nano", "claude-haiku-4-5", ChatGateway.EXTRACTIVE_MODEL),
                    0, 0, 0, 0, 0, 0, null, true, null, List.of());
            assertThat(gateway.available(new ChatGateway.Caller("t", key))).containsExactly(new ChatGateway.Listed("claude-haiku-4-5", "anthropic"),
                    new ChatGateway.Listed("gpt-5-nano", "openai"), new ChatGateway.Listed(ChatGateway.EXTRACTIVE_MODEL, "keel"));
        }
    }

    @Test
    void aPassedThroughNameOutsideTheKeysAllowanceIsQuotedCutShort(@TempDir Path dir) throws Exception {
        try (FakeLlmServer openai = new FakeLlmServer(); Database db = Database.open(dir); Ledger ledger = new Ledger(db);
             ChatGateway gateway = gateway(ledger, openai, null)) {
            ApiKey key = new ApiKey("key_1", "app", "t", "sk-keel-ab", List.of("gpt-4o"), 0, 0, 0, 0, 0, 0, null, true, null, List.of());
            ObjectNode request = JSON.createObjectNode().put("model", "m".repeat(1_000_000));
            request.putArray("messages").addObject().put("role", "user").put("content", "hi");
            ApiException e = catchThrowableOfType(ApiException.class,
                    () -> gateway.complete(request, new ChatGateway.Caller("t", key), new Traces().start("x", "t")));
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.getMessage()).contains("'" + "m".repeat(200) + "…'").hasSizeLessThan(1000);
            assertThat(openai.received).isEmpty();
        }
    }

    @Test
    void everyWellKnownPassthroughModelHasABuiltInPrice(@TempDir Path dir) throws Exception {
        try (FakeLlmServer openai = new FakeLlmServer(); FakeLlmServer anthropic = new FakeLlmServer();
             Database db = Database.open(dir); Ledger ledger = new Ledger(db); ChatGateway gateway = gateway(ledger, openai, anthropic)) {
            Prices prices = Prices.builtIn();
            for (ChatGateway.Listed m : gateway.available(OPEN)) {
                if (m.ownedBy().equals("keel")) continue;
                assertThat(prices.priceOf(new ModelConfig.Target(m.ownedBy(), m.id()))).as(m.id()).isNotNull();
            }
        }
    }

    @Test
    void anUpstream404ForAPassedThroughNameIsModelNotFound(@TempDir Path dir) throws Exception {
        try (FakeLlmServer openai = new FakeLlmServer(); Database db = Database.open(dir); Ledger ledger = new Ledger(db);
             ChatGateway gateway = gateway(ledger, openai, null)) {
            openai.then(FakeLlmServer.status(404, "{\"error\":{\"message\":\"The model `gpt-imaginary` does not exist\",\"code\":\"model_not_found\"}}",
                    Map.of()));
            ObjectNode request = (ObjectNode) JSON.readTree("{\"model\":\"gpt-imaginary\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            ProviderException e = catchThrowableOfType(ProviderException.class, () -> gateway.complete(request, OPEN, new Traces().start("x", "t")));
            assertThat(e.modelNotFound()).isTrue();
            assertThat(ChatGateway.statusOf(e)).isEqualTo(404);
        }
    }
}
