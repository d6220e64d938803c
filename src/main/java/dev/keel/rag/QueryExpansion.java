package dev.keel.rag;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.gateway.ChatGateway;
import dev.keel.index.ChunkIndex;
import dev.keel.index.SearchHit;
import dev.keel.model.ApiException;
import dev.keel.model.Jackson;
import dev.keel.model.ProviderException;
import dev.keel.trace.Span;
import dev.keel.trace.Trace;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Query expansion by a language model: alternative phrasings of a query (multi-query, whose result
 * lists are fused by RRF) and a hypothetical answer passage (HyDE, embedded for the vector side).
 * Generation goes through a {@link Generator}, in production the gateway on the caller's behalf (so
 * the caller is billed and its limits apply). A failed generation is never an error: the search goes
 * on with the original query and the span says why. Spans carry counts and lengths, never the
 * generated text (it paraphrases the user's query). Thread-safe.
 */
public final class QueryExpansion {
    /** Generated queries longer than this are cut: a query, not a document. */
    static final int MAX_QUERY_CHARS = 1_000;
    /** The embedder reads 512 tokens at most; a passage longer than this adds nothing. */
    static final int MAX_PASSAGE_CHARS = 4_000;
    private static final Pattern LIST_MARKER = Pattern.compile("^\\s*(?:[-*•]|\\d{1,2}[.)])\\s*");

    static final String MULTI_QUERY_INSTRUCTIONS = """
            You rewrite search queries for a document search engine. Write %d alternative phrasings of the user's query \
            that keep its meaning but use other words (synonyms, other verbs, the likely terms of the documents). \
            One per line, no numbering, no quotes, no other text.""";
    static final String HYDE_INSTRUCTIONS = """
            Write a short passage (3 to 5 sentences) from a document that would answer the user's question, in the style of \
            technical documentation. State it directly; do not mention the question. If unsure, write a plausible passage anyway.""";

    /** Writes text for {@code input} following {@code instructions}; throws when it cannot. */
    @FunctionalInterface
    public interface Generator {
        String generate(String instructions, String input, Trace trace);
    }

    /** What to generate: {@code queries} alternatives (0 = none) and/or a HyDE passage. */
    public record Settings(int queries, boolean hyde) {
        public static final Settings OFF = new Settings(0, false);

        public boolean on() {
            return queries > 0 || hyde;
        }
    }

    private final Generator generator;
    private final Settings settings;

    public QueryExpansion(Generator generator, Settings settings) {
        this.generator = generator;
        this.settings = settings;
    }

    /**
     * A generator that asks the catalog chat model {@code model} through the gateway as {@code caller}
     * (billed, limited and traced like any chat completion), at temperature 0 and at most {@code maxTokens}.
     */
    public static Generator through(ChatGateway gateway, ChatGateway.Caller caller, String model, int maxTokens) {
        return (instructions, input, trace) -> {
            ObjectNode request = Jackson.mapper().createObjectNode().put("model", model).put("temperature", 0).put("max_tokens", maxTokens);
            request.putArray("messages").add(Jackson.mapper().createObjectNode().put("role", "system").put("content", instructions))
                    .add(Jackson.mapper().createObjectNode().put("role", "user").put("content", input));
            return gateway.complete(request, caller, trace).completion().text();
        };
    }

    /**
     * Whether expanding a query of {@code tenant} can help: not when the tenant has no chunks, where
     * the search finds nothing whatever the query and the expansion would be paid for in vain (the
     * trace says {@code expansion.skipped: no_documents}).
     */
    static boolean worthwhile(ChunkIndex index, String tenant, Trace trace) {
        if (index.chunkCount(tenant) > 0) return true;
        trace.attr("expansion.skipped", "no_documents");
        return false;
    }

    /** Up to {@code settings.queries} distinct alternatives to {@code query}, none equal to it; empty when off or on failure. */
    List<String> alternatives(String query, Trace trace) {
        if (settings.queries() == 0) return List.of();
        try (Span span = trace.span("expand_multi_query")) {
            span.attr("requested", settings.queries());
            String text;
            try {
                text = generator.generate(MULTI_QUERY_INSTRUCTIONS.formatted(settings.queries()), query, trace);
            } catch (RuntimeException e) {
                failed(span, e);
                return List.of();
            }
            Set<String> seen = new LinkedHashSet<>(List.of(normalised(query)));
            List<String> out = new ArrayList<>();
            for (String line : text.split("\\R")) {
                String q = LIST_MARKER.matcher(line).replaceFirst("").strip();
                if (q.length() > 1 && q.startsWith("\"") && q.endsWith("\"")) q = q.substring(1, q.length() - 1).strip();
                if (q.length() > MAX_QUERY_CHARS) q = q.substring(0, MAX_QUERY_CHARS);
                if (q.isEmpty() || !seen.add(normalised(q))) continue;
                out.add(q);
                if (out.size() == settings.queries()) break;
            }
            span.attr("generated", out.size()).attr("chars", out.stream().map(String::length).toList());
            return out;
        }
    }

    /** A hypothetical passage answering {@code query}; empty when off or on failure. */
    Optional<String> hypothetical(String query, Trace trace) {
        if (!settings.hyde()) return Optional.empty();
        try (Span span = trace.span("expand_hyde")) {
            String passage;
            try {
                passage = generator.generate(HYDE_INSTRUCTIONS, query, trace).strip();
            } catch (RuntimeException e) {
                failed(span, e);
                return Optional.empty();
            }
            if (passage.isEmpty()) {
                span.error("empty").attr("fallback", "original_query");
                return Optional.empty();
            }
            if (passage.length() > MAX_PASSAGE_CHARS) passage = passage.substring(0, MAX_PASSAGE_CHARS);
            span.attr("chars", passage.length());
            return Optional.of(passage);
        }
    }

    /**
     * Reciprocal Rank Fusion of result lists by chunk: score = Σ 1 / (k + rank). A chunk keeps the
     * hit of the first list that has it (its BM25 and vector ranks); ties keep the earlier list's order.
     */
    static List<SearchHit> fuse(List<List<SearchHit>> lists, int k) {
        Map<String, SearchHit> first = new LinkedHashMap<>();
        Map<String, Double> score = new LinkedHashMap<>();
        for (List<SearchHit> list : lists) {
            for (int i = 0; i < list.size(); i++) {
                SearchHit h = list.get(i);
                first.putIfAbsent(h.chunk().chunkId(), h);
                score.merge(h.chunk().chunkId(), 1.0 / (k + i + 1), Double::sum);
            }
        }
        List<SearchHit> out = new ArrayList<>(first.size());
        for (Map.Entry<String, SearchHit> e : first.entrySet()) {
            SearchHit h = e.getValue();
            out.add(new SearchHit(h.chunk(), score.get(e.getKey()), h.bm25Rank(), h.bm25Score(), h.vectorRank(), h.vectorScore()));
        }
        out.sort((a, b) -> Double.compare(b.score(), a.score()));
        return out;
    }

    private static void failed(Span span, RuntimeException e) {
        String why = switch (e) {
            case ApiException a -> a.code() == null ? "refused_" + a.status() : a.code();
            case ProviderException p -> p.kind().name().toLowerCase(Locale.ROOT);
            default -> "error";
        };
        span.error(why).attr("fallback", "original_query");
    }

    private static String normalised(String q) {
        return q.strip().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
    }
}
