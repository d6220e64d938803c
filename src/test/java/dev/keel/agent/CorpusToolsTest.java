package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.AgentConfig.SideEffect;
import dev.keel.gateway.ChatGateway;
import dev.keel.model.Deadline;
import dev.keel.model.JsonSchemas;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code search_docs} and {@code answer_from_docs} over the sample corpus, called as the agent loop calls them. */
class CorpusToolsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Keel keel = SampleCorpus.keel();
    private final List<Tool> tools = CorpusTools.create(keel.answers(), keel.gateway(), keel.config().guard());
    private final Tool search = tools.get(0), answer = tools.get(1);

    @Test
    void searchDocsReturnsTheTopChunksWithCitationIds() throws Exception {
        JsonNode hits = success(search.call(args("{\"query\":\"How do I set up SAML single sign-on?\",\"k\":3}"), invocation(Keel.DEFAULT_TENANT))).get("hits");
        assertThat(hits).hasSize(3);
        JsonNode first = hits.get(0);
        assertThat(first.get("source").asText()).endsWith("sso-saml.md");
        assertThat(first.get("citation").asText()).matches(java.util.regex.Pattern.quote(first.get("doc_id").asText()) + "#\\d+");
        assertThat(first.get("text").asText()).isNotBlank();
        assertThat(first.get("score").asDouble()).isPositive();
        assertThat(first.has("title")).isTrue();
        assertThat(first.has("section")).isTrue();
    }

    @Test
    void searchDocsReturnsFiveHitsUnlessAskedForMore() throws Exception {
        assertThat(success(search.call(args("{\"query\":\"refund\"}"), invocation(Keel.DEFAULT_TENANT))).get("hits")).hasSize(CorpusTools.DEFAULT_HITS);
    }

    @Test
    void searchDocsReadsOnlyTheCallersTenant() throws Exception {
        JsonNode hits = success(search.call(args("{\"query\":\"refund annual plan\"}"), invocation("tenant-with-no-documents"))).get("hits");
        assertThat(hits).isEmpty();
    }

    @Test
    void answerFromDocsAnswersWithCitationsToTheSources() throws Exception {
        JsonNode a = success(answer.call(args("{\"question\":\"How long do I have to request a refund on an annual plan?\"}"), invocation(Keel.DEFAULT_TENANT)));
        assertThat(a.get("answered").asBoolean()).isTrue();
        assertThat(a.get("answer").asText()).contains("30 days");
        assertThat(a.get("citations")).isNotEmpty();
        assertThat(a.get("citations").get(0).get("source").asText()).endsWith("refunds.md");
        assertThat(a.get("answerer").asText()).isEqualTo("extractive");
    }

    @Test
    void answerFromDocsSaysSoWhenTheDocumentsDoNotAnswer() throws Exception {
        JsonNode a = success(answer.call(args("{\"question\":\"What is the boiling point of tungsten in kelvin?\"}"), invocation(Keel.DEFAULT_TENANT)));
        assertThat(a.get("answered").asBoolean()).isFalse();
        assertThat(a.get("citations")).isEmpty();
    }

    @Test
    void answerFromDocsOfAnotherTenantCitesNothingOfThisOne() throws Exception {
        JsonNode a = success(answer.call(args("{\"question\":\"How long do I have to request a refund on an annual plan?\"}"), invocation("tenant-with-no-documents")));
        assertThat(a.get("answered").asBoolean()).isFalse();
        assertThat(a.toString()).doesNotContain("refunds.md").doesNotContain("30 days");
    }

    @Test
    void bothReadAndNeedNoScopeBeyondTheTenantsOwnKey() {
        assertThat(tools).extracting(t -> t.spec().name()).containsExactly(CorpusTools.SEARCH, CorpusTools.ANSWER);
        assertThat(tools).allMatch(t -> t.spec().sideEffect() == SideEffect.READ && t.spec().idempotent() && t.spec().scopes().isEmpty());
    }

    @Test
    void theirSchemasRefuseWhatTheToolsCannotUse() throws Exception {
        JsonSchemas.Compiled searchArgs = JsonSchemas.compile(search.spec().parameters());
        assertThat(searchArgs.errors(args("{\"query\":\"x\",\"k\":21}"))).isNotEmpty();
        assertThat(searchArgs.errors(args("{\"query\":\"\"}"))).isNotEmpty();
        assertThat(searchArgs.errors(args("{\"query\":\"x\",\"tenant\":\"someone-else\"}"))).as("no tenant from the arguments").isNotEmpty();
        assertThat(JsonSchemas.compile(answer.spec().parameters()).errors(args("{\"question\":\"" + "x".repeat(4_001) + "\"}"))).isNotEmpty();
    }

    @Test
    void resultsConformToTheirResultSchemas() throws Exception {
        JsonNode hits = success(search.call(args("{\"query\":\"webhooks retries\"}"), invocation(Keel.DEFAULT_TENANT)));
        assertThat(JsonSchemas.compile(search.spec().result()).errors(hits)).isEmpty();
        JsonNode a = success(answer.call(args("{\"question\":\"Are monthly subscriptions refundable?\"}"), invocation(Keel.DEFAULT_TENANT)));
        assertThat(JsonSchemas.compile(answer.spec().result()).errors(a)).isEmpty();
    }

    private ToolInvocation invocation(String tenant) {
        return new ToolInvocation(new ChatGateway.Caller(tenant, null), "run-1", 1, "run-1:1", Deadline.in(Duration.ofSeconds(30)),
                keel.traces().start("tool", tenant));
    }

    private static JsonNode args(String json) throws Exception {
        return JSON.readTree(json);
    }

    private static JsonNode success(ToolOutcome outcome) {
        assertThat(outcome).isInstanceOf(ToolOutcome.Success.class);
        return ((ToolOutcome.Success) outcome).value();
    }
}
