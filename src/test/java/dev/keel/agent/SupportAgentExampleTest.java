package dev.keel.agent;

import static dev.keel.gateway.FakeLlmServer.okFrom;
import static dev.keel.gateway.FakeLlmServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.KeelConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.gateway.FakeLlmServer;
import dev.keel.ingest.IngestListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The example agent of README "An example agent over the sample docs" (examples/support-agent/keel.yaml), run over
 * the sample corpus. The model stands in for a tool-calling LLM behind the fake provider: it asks search_docs about
 * each part of the question, then writes its answer only from the sentences the two searches returned, citing their
 * documents' titles. What is checked is Keel's side: the tools offered, the searches run against the tenant's corpus, the
 * results fed back, the trajectory and its accounting.
 */
class SupportAgentExampleTest {
    static final String QUESTION = "I bought an annual plan three weeks ago. If I cancel now and delete my workspace, do I get my money back,"
            + " and how long until my data is really gone?";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Sentences the stand-in quotes: those stating a period, the facts the question asks for. */
    private static final Pattern PERIOD = Pattern.compile("\\b\\d+(?:-day| days| business days)\\b");
    /** The stand-in reads the best two hits of each search, as a model weighs the top of a result list. */
    private static final int TOP_HITS = 2;
    private static FakeLlmServer llm;
    private static Keel keel;

    @BeforeAll
    static void open() throws Exception {
        llm = new FakeLlmServer();
        Map<String, String> env = Map.of("LLM_BASE_URL", llm.baseUrl(), "LLM_MODEL", "stand-in");
        keel = Keel.open(KeelConfig.parse(Files.readString(Path.of("examples", "support-agent", "keel.yaml")), env::get),
                Files.createTempDirectory("keel-support-agent-"));
        keel.ingestor().ingestPaths(Keel.DEFAULT_TENANT, List.of(SampleCorpus.DOCS), false, keel.traces().start("ingest", Keel.DEFAULT_TENANT),
                IngestListener.NONE);
    }

    @AfterAll
    static void close() {
        keel.close();
        llm.close();
    }

    @Test
    void answersAMultiStepSupportQuestionWithTwoSearchesAndCitesBothDocuments() throws Exception {
        llm.then(toolCall("search_docs", "{\"query\":\"refund for an annual plan cancelled within 30 days\"}"),
                toolCall("search_docs", "{\"query\":\"how long until a deleted workspace's data is permanently deleted\"}"),
                okFrom(SupportAgentExampleTest::answerFromToolResults));
        var run = keel.agents().start("support", QUESTION, new ChatGateway.Caller(Keel.DEFAULT_TENANT, null), e -> {});

        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        List<String> tools = new ArrayList<>();
        run.events().stream().filter(e -> e.type() == RunEvent.Type.TOOL_CALL).forEach(e -> tools.add(e.payload().path("tool").asText()));
        assertThat(tools).containsExactly("search_docs", "search_docs");
        assertThat(run.output()).contains("(Refund policy)").contains("(Cancelling your account)")
                .contains("within 30 days").contains("30-day grace period").contains("35 days");
        assertThat(run.steps()).isEqualTo(3);
        // The model was offered exactly the agent's tools, and saw both searches' results before answering.
        JsonNode first = llm.received.get(0).body();
        List<String> offered = new ArrayList<>();
        first.path("tools").forEach(t -> offered.add(t.path("function").path("name").asText()));
        assertThat(offered).containsExactly("search_docs", "calculator");
        assertThat(llm.received.get(2).body().path("messages").findValuesAsText("role")).containsSubsequence("user", "assistant", "tool", "assistant", "tool");
        System.out.println("support agent example: " + run.status().wire() + " in " + run.steps() + " steps, tools " + tools + "\n" + run.output());
    }

    /** The stand-in's final reply: the period sentences of each search's top hits, each cited with its document's title. */
    private static String answerFromToolResults(JsonNode request) {
        Set<String> sentences = new LinkedHashSet<>();
        for (JsonNode m : request.path("messages")) {
            if (!m.path("role").asText().equals("tool")) continue;
            JsonNode result;
            try {
                result = JSON.readTree(m.path("content").asText());
            } catch (Exception e) {
                throw new IllegalStateException("a tool result is not JSON: " + m.path("content").asText(), e);
            }
            JsonNode hits = result.findPath("hits");
            for (int i = 0; i < Math.min(TOP_HITS, hits.size()); i++) {
                JsonNode hit = hits.get(i);
                for (String sentence : hit.path("text").asText().split("(?<=\\.)\\s+")) {
                    Matcher period = PERIOD.matcher(sentence);
                    if (period.find() && (sentence.contains("refund") || sentence.contains("delet") || sentence.contains("purged"))) {
                        sentences.add(sentence.strip() + " (" + hit.path("title").asText() + ")");
                    }
                }
            }
        }
        return String.join(" ", sentences);
    }
}
