package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.FakeLlmServer;
import dev.keel.ingest.IngestListener;
import dev.keel.model.Deadline;
import dev.keel.store.ApiKey;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code answer_from_docs} with a language model: the call is the caller's, as a {@code POST /v1/answer} with their key would be. */
class CorpusToolsBillingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String QUESTION = "{\"question\":\"How long do I have to request a refund on an annual plan?\"}";
    private static FakeLlmServer llm;
    private static Keel keel;
    private static Tool answer;

    @BeforeAll
    static void open() throws Exception {
        llm = new FakeLlmServer();
        keel = Keel.open(KeelConfig.parse("""
                providers:
                  llm: {type: openai, base_url: "%s", max_retries: 0}
                models:
                  writer:
                    targets: [{provider: llm, model: upstream-writer, input_per_mtok: 1000.0, output_per_mtok: 2000.0}]
                answer:
                  model: writer
                cache: {exact: {enabled: false}, semantic: {enabled: false}}
                """.formatted(llm.baseUrl()), k -> null), Files.createTempDirectory("keel-corpus-billing-"));
        keel.ingestor().ingestPaths("acme", List.of(SampleCorpus.DOCS.resolve("refunds.md")), false, keel.traces().start("ingest", "acme"),
                IngestListener.NONE);
        keel.index().commit();
        answer = CorpusTools.create(keel.answers(), keel.gateway(), keel.config().guard()).get(1);
    }

    @AfterAll
    static void close() {
        keel.close();
        llm.close();
    }

    @Test
    void theAnswerModelsCostIsBilledToTheCallersKey() throws Exception {
        ApiKey key = key(List.of());
        llm.then(FakeLlmServer.ok("Annual plans can be refunded in full within 30 days of purchase [1]."));
        ToolOutcome outcome = answer.call(JSON.readTree(QUESTION), invocation(key));
        JsonNode a = ((ToolOutcome.Success) outcome).value();
        assertThat(a.get("answerer").asText()).isEqualTo("writer");
        assertThat(a.get("answer").asText()).contains("30 days");
        keel.ledger().flush();
        assertThat(keel.ledger().spentSince(key.id(), 0)).isPositive();
    }

    @Test
    void aKeyThatMayNotUseTheAnswerModelGetsAFailureAndNoModelCall() throws Exception {
        ApiKey key = key(List.of("some-other-model"));
        int before = llm.received.size();
        ToolOutcome outcome = answer.call(JSON.readTree(QUESTION), invocation(key));
        assertThat(outcome).isInstanceOf(ToolOutcome.Failure.class);
        assertThat(((ToolOutcome.Failure) outcome).message()).contains("writer");
        assertThat(llm.received).hasSize(before);
    }

    private static ApiKey key(List<String> models) {
        return keel.keys().create("agent", "acme", models, 0, 0, 0, 0, 0, true, null, List.of()).key();
    }

    private static ToolInvocation invocation(ApiKey key) {
        return new ToolInvocation(new ChatGateway.Caller("acme", key, null), "run-1", 1, "run-1:1", Deadline.in(Duration.ofSeconds(60)),
                keel.traces().start("tool", "acme"));
    }
}
