package dev.keel.rag;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ProviderConfig;
import dev.keel.config.RerankConfig;
import dev.keel.index.SearchHit;
import dev.keel.model.CallContext;
import dev.keel.model.Deadline;
import dev.keel.model.Jackson;
import dev.keel.model.ProviderException;
import dev.keel.provider.ProviderHttp;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A rerank server: {@code POST {base_url}/rerank} with Cohere's {@code {model, query, documents,
 * top_n}} answered by {@code {results: [{index, relevance_score}]}} (Cohere, Jina, vLLM), or with
 * TEI's {@code {query, texts, truncate}} answered by {@code [{index, score}]}. One attempt within the configured timeout (connect, first byte and
 * body together), a reply of at most {@link #MAX_REPLY_BYTES}; any other outcome is a
 * {@link Reranker.Failure}. Sends the bearer key when one is configured, on the gateway's HTTP client.
 */
final class RemoteReranker implements Reranker {
    /** 1,000 results of {index, relevance_score} take ~50 KB; anything much larger is not a rerank reply. */
    static final int MAX_REPLY_BYTES = 1 << 20;
    /** Per document sent: a chunk is at most a few thousand characters; this bounds what one search uploads. */
    static final int MAX_DOCUMENT_CHARS = 8_000;

    private final RerankConfig.Remote config;
    private final ProviderHttp http;
    private final URI endpoint;

    RemoteReranker(RerankConfig.Remote config) {
        this.config = config;
        // The HTTP leg reads only the name, URL and timeouts; each call's CallContext bounds the whole exchange by timeout_ms.
        this.http = new ProviderHttp(ProviderConfig.of("rerank", ProviderConfig.Type.OPENAI, config.baseUrl(), config.apiKey()));
        this.endpoint = URI.create(config.baseUrl() + "/rerank");
    }

    @Override
    public List<Ranked> rerank(String query, List<SearchHit> candidates, int limit) {
        boolean tei = config.api() == RerankConfig.Api.TEI;
        ObjectNode body = Jackson.mapper().createObjectNode().put("query", query);
        if (tei) body.put("truncate", true);
        else body.put("model", config.model()).put("top_n", Math.min(limit, candidates.size()));
        ArrayNode documents = body.putArray(tei ? "texts" : "documents");
        for (SearchHit h : candidates) documents.add(documentText(h));
        Map<String, String> headers = config.apiKey() == null || config.apiKey().isBlank() ? Map.of()
                : Map.of("Authorization", "Bearer " + config.apiKey());
        JsonNode reply;
        try {
            Duration timeout = Duration.ofMillis(config.timeoutMs());
            reply = http.json(http.send(endpoint, headers, body, new CallContext(Deadline.in(timeout), timeout, timeout, null, id -> {}, Map.of())),
                    MAX_REPLY_BYTES);
        } catch (ProviderException e) {
            throw new Failure(switch (e.kind()) {
                case TIMEOUT -> Reason.TIMEOUT;
                case UNAVAILABLE, RATE_LIMITED -> Reason.UNAVAILABLE;
                case MALFORMED_RESPONSE -> Reason.MALFORMED;
                case BAD_REQUEST, AUTHENTICATION, CONTENT_FILTERED -> Reason.REJECTED;
            }, e.getMessage());
        }
        return parse(tei ? reply : reply == null ? null : reply.get("results"), tei ? "score" : "relevance_score");
    }

    /** The results as given; whether their indexes fit the candidates is checked by {@link Rerankers}. */
    private static List<Ranked> parse(JsonNode results, String scoreField) {
        if (results == null || !results.isArray()) throw new Failure(Reason.MALFORMED, "the reply has no list of results");
        List<Ranked> out = new ArrayList<>(results.size());
        for (JsonNode r : results) {
            JsonNode index = r.get("index"), score = r.get(scoreField);
            if (index == null || !index.canConvertToInt() || !index.isIntegralNumber() || score == null || !score.isNumber()
                    || !Double.isFinite(score.asDouble())) {
                throw new Failure(Reason.MALFORMED, "a result lacks an integer 'index' or a finite '" + scoreField + "'");
            }
            out.add(new Ranked(index.asInt(), score.asDouble()));
        }
        out.sort((a, b) -> Double.compare(b.score(), a.score()));
        return out;
    }

    /** What the cross-encoder reads: where the chunk sits (title › section), then its text. */
    static String documentText(SearchHit h) {
        String where = h.chunk().section().isEmpty() ? h.chunk().title() : h.chunk().title() + " › " + h.chunk().section();
        String text = where == null || where.isBlank() ? h.chunk().body() : where + "\n\n" + h.chunk().body();
        return text.length() <= MAX_DOCUMENT_CHARS ? text : text.substring(0, MAX_DOCUMENT_CHARS);
    }

    @Override
    public void close() {
        http.close();
    }
}
