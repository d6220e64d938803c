package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.KeelConfig;
import dev.keel.config.ModelConfig;
import dev.keel.model.CallContext;
import dev.keel.model.ChatCompletion;
import dev.keel.model.Deadline;
import dev.keel.model.ProviderException;
import dev.keel.provider.CircuitBreakers;
import dev.keel.provider.DocumentAnswerer;
import dev.keel.provider.ExtractiveChatModel;
import dev.keel.provider.OpenAiChatModel;
import dev.keel.provider.ProviderChain;
import dev.keel.trace.Trace;
import dev.keel.trace.Traces;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which upstream request id a trace keeps when a request moves from one target to the next. */
class UpstreamRequestIdTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aFallbackWithoutAnUpstreamLeavesNoRequestIdOfTheFailedAttemptBehind() throws Exception {
        try (FakeLlmServer upstream = new FakeLlmServer()) {
            upstream.then(FakeLlmServer.status(400, "{\"error\":{\"message\":\"no\"}}", Map.of()), FakeLlmServer.status(503, "down", Map.of()));
            KeelConfig config = KeelConfig.parse("providers:\n  remote:\n    type: openai\n    base_url: " + upstream.baseUrl()
                    + "\n    max_retries: 0\n", k -> null);
            Traces traces = new Traces();
            DocumentAnswerer answerer = (tenant, question) -> new DocumentAnswerer.Grounded("From the docs.", true, List.of());
            try (ProviderChain chain = new ProviderChain(Map.of("remote", new OpenAiChatModel(config.gateway().providers().get("remote")),
                    "offline", new ExtractiveChatModel("offline", answerer)), Map.of("remote", 0, "offline", 0),
                    new CircuitBreakers(Map.of("remote", 30, "offline", 30), traces.registry()))) {
                ModelConfig model = new ModelConfig("docs", List.of(new ModelConfig.Target("remote", "m"), new ModelConfig.Target("offline", "extractive")));
                ObjectNode request = (ObjectNode) JSON.readTree("{\"model\":\"docs\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

                Trace rejected = traces.start("rejected", "t");
                ProviderException e = catchThrowableOfType(ProviderException.class,
                        () -> chain.complete(model, request, Map.of(), Deadline.in(Duration.ofSeconds(30)), rejected));
                assertThat(e.kind()).isEqualTo(ProviderException.Kind.BAD_REQUEST);
                assertThat(rejected.attribute(CallContext.UPSTREAM_REQUEST_ID)).as("the rejecting upstream's id").isEqualTo(upstream.received.get(0).requestId());

                Trace fellBack = traces.start("fell back", "t");
                ProviderChain.Served<ChatCompletion> served = chain.complete(model, request, Map.of(), Deadline.in(Duration.ofSeconds(30)), fellBack);
                assertThat(served.provider()).isEqualTo("offline");
                assertThat(fellBack.attribute(CallContext.UPSTREAM_REQUEST_ID)).isNull();
                assertThat(fellBack.view().spans().getFirst().attributes().get(CallContext.UPSTREAM_REQUEST_ID))
                        .as("the failed attempt's span keeps its id").isEqualTo(upstream.received.get(1).requestId());
            }
        }
    }
}
