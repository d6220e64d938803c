package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.AgentConfig.SideEffect;
import dev.keel.config.GuardConfig;
import dev.keel.gateway.ChatGateway;
import dev.keel.index.IndexException;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.model.ApiException;
import dev.keel.model.ProviderException;
import dev.keel.provider.DocumentAnswerer;
import dev.keel.rag.Answer;
import dev.keel.rag.AnswerEngine;
import dev.keel.rag.AnswerRequest;
import dev.keel.rag.Citation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Keel's corpus as tools: {@code search_docs} (hybrid retrieval, the top chunks with their citation ids) and
 * {@code answer_from_docs} (a grounded answer with citations, as {@code POST /v1/answer} gives it: the question
 * screened by the input guard, the model calls billed to, limited for and traced on the caller's key). Both read only
 * the invocation's tenant: the tenant comes from the caller, never from the arguments. The same instances serve the
 * agent loop and the MCP server ({@code /mcp}, {@code keel mcp}), so their schemas and behaviour cannot drift apart.
 * Thread-safe; they hold no state between calls.
 */
public final class CorpusTools {
    public static final String SEARCH = "search_docs";
    public static final String ANSWER = "answer_from_docs";
    /** A model reads every hit it gets: a handful is what it can use, and 20 chunks already fill several thousand tokens. */
    static final int DEFAULT_HITS = 5, MAX_HITS = 20;
    /** Retrieval is local and takes milliseconds; the bound is for a remote index (Solr) that stalls. */
    private static final Duration SEARCH_TIMEOUT = Duration.ofSeconds(15);
    /** An answer may wait for a model (with its retries and fallbacks), as /v1/answer does. */
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    private CorpusTools() {}

    /** {@code search_docs} and {@code answer_from_docs} over {@code answers}; {@code guard} decides whether an ungrounded answer is withheld. */
    public static List<Tool> create(AnswerEngine answers, ChatGateway gateway, GuardConfig guard) {
        return List.of(new SearchDocs(answers), new AnswerFromDocs(answers, gateway, guard));
    }

    private static ObjectNode schema(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A refusal or outage of the answer path as the model reads it: the API error's text, retryable when a later call may pass. */
    private static ToolOutcome failure(RuntimeException e) {
        return switch (e) {
            case ApiException a -> new ToolOutcome.Failure(a.getMessage(), a.status() == 429 || a.status() >= 500);
            case ProviderException p -> new ToolOutcome.Failure("the answer model is unavailable (" + p.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + "); try again later", true);
            case IndexException i -> new ToolOutcome.Failure("the search index is unavailable; try again shortly", true);
            default -> throw e;
        };
    }

    private record SearchDocs(AnswerEngine answers, ToolSpec spec) implements Tool {
        SearchDocs(AnswerEngine answers) {
            this(answers, new ToolSpec(SEARCH, "Search the organisation's documents (hybrid keyword and semantic retrieval). Returns the best"
                    + " passages with their doc id, title, section, text, score and a citation id to quote.",
                    schema("""
                            {"type":"object","additionalProperties":false,"required":["query"],"properties":{
                              "query":{"type":"string","minLength":1,"maxLength":%d,"description":"what to look for, in words"},
                              "k":{"type":"integer","minimum":1,"maximum":%d,"default":%d,"description":"how many passages to return"}}}"""
                            .formatted(DocumentAnswerer.MAX_QUESTION_CHARS, MAX_HITS, DEFAULT_HITS)),
                    schema("""
                            {"type":"object","required":["hits"],"properties":{"hits":{"type":"array","items":{"type":"object",
                              "required":["citation","doc_id","text","score"]}}}}"""),
                    SideEffect.READ, true, SEARCH_TIMEOUT, Set.of()));
        }

        @Override
        public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) {
            String query = arguments.path("query").asText();
            int k = arguments.path("k").asInt(DEFAULT_HITS);
            List<SearchHit> hits;
            try {
                hits = answers.search(invocation.tenant(), query, SearchMode.HYBRID, k, answers.searchSettings(), SearchFilters.NONE, false,
                        invocation.trace()).hits();
            } catch (RuntimeException e) {
                return failure(e);
            }
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            ArrayNode list = out.putArray("hits");
            for (SearchHit h : hits) {
                ObjectNode hit = list.addObject()
                        .put("citation", h.chunk().chunkId())
                        .put("doc_id", h.chunk().docId())
                        .put("title", h.chunk().title())
                        .put("section", h.chunk().section())
                        .put("source", h.chunk().source())
                        .put("score", Math.round(h.score() * 10_000) / 10_000.0)
                        .put("text", h.chunk().body());
                // The ingest scan saw instructions in it: the model should read it as data, not as orders.
                if (h.chunk().injection().flagged()) hit.put("flagged", true);
            }
            return ToolOutcome.success(out);
        }

        @Override
        public String summarize(JsonNode arguments) {
            return "search the documents for \"" + arguments.path("query").asText() + "\"";
        }
    }

    private record AnswerFromDocs(AnswerEngine answers, ChatGateway gateway, GuardConfig guard, ToolSpec spec) implements Tool {
        /** What stands in for an answer the grounding guard withheld (as on /v1/answer). */
        static final String WITHHELD = "The answer was withheld because parts of it are not supported by the documents.";

        AnswerFromDocs(AnswerEngine answers, ChatGateway gateway, GuardConfig guard) {
            this(answers, gateway, guard, new ToolSpec(ANSWER, "Answer a question from the organisation's documents, with numbered citations"
                    + " [n] to the passages used; says so when the documents do not contain the answer.",
                    schema("""
                            {"type":"object","additionalProperties":false,"required":["question"],"properties":{
                              "question":{"type":"string","minLength":1,"maxLength":%d,"description":"the question, self-contained"}}}"""
                            .formatted(DocumentAnswerer.MAX_QUESTION_CHARS)),
                    schema("""
                            {"type":"object","required":["answer","answered","citations"],"properties":{
                              "answer":{"type":"string"},"answered":{"type":"boolean"},"citations":{"type":"array"}}}"""),
                    SideEffect.READ, true, ANSWER_TIMEOUT, Set.of()));
        }

        @Override
        public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) {
            String question = arguments.path("question").asText();
            Answer a;
            try {
                ChatGateway.Screened screened = gateway.screenQuestion(question, invocation.caller(), invocation.trace());
                a = answers.answer(new AnswerRequest(invocation.tenant(), screened.question(), SearchFilters.NONE, null, screened.caller()),
                        invocation.trace());
                if (withholds(a, screened.caller())) a = a.withheld(WITHHELD, "ungrounded_answer");
            } catch (RuntimeException e) {
                return failure(e);
            }
            ObjectNode out = JsonNodeFactory.instance.objectNode()
                    .put("answer", a.text())
                    .put("answered", a.answered());
            ArrayNode citations = out.putArray("citations");
            for (Citation c : a.citations()) {
                citations.addObject().put("n", c.n()).put("doc_id", c.docId()).put("title", c.title()).put("section", c.section())
                        .put("source", c.source()).put("citation", c.docId() + "#" + c.chunk());
            }
            out.put("answerer", a.answerer());
            if (a.refused() != null) out.put("refused", a.refused());
            if (a.degraded()) out.put("degraded", true);
            return ToolOutcome.success(out);
        }

        /** {@code output.grounding: block} under {@code caller}'s guard policy: a model's answer with unsupported sentences is not passed on. */
        private boolean withholds(Answer a, ChatGateway.Caller caller) {
            dev.keel.guard.Guard policed = gateway.guardOf(caller);
            GuardConfig policy = policed == null ? guard : policed.config();
            return policy.enabled() && policy.output().grounding() == GuardConfig.GroundingAction.BLOCK && a.grounding() != null
                    && !a.grounding().unsupported().isEmpty();
        }

        @Override
        public String summarize(JsonNode arguments) {
            return "answer from the documents: \"" + arguments.path("question").asText() + "\"";
        }
    }
}
