package dev.keel.http;

import dev.keel.index.SearchHit;
import dev.keel.rag.Answer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON shapes of answers and search hits, shared by the HTTP API and the CLI's {@code --json}. */
public final class ApiViews {
    private ApiViews() {}

    public static Map<String, Object> answer(Answer a, double tookMs) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "answer");
        out.put("answer", a.text());
        out.put("answered", a.answered());
        out.put("citations", a.citations());
        out.put("support", Math.round(a.support() * 1000) / 1000.0);
        out.put("answerer", a.answerer());
        if (a.grounding() != null) {
            out.put("grounding", Map.of("score", a.grounding().score(), "unsupported", a.grounding().unsupported(),
                    "invalid_citations", a.grounding().invalidCitations()));
        }
        if (a.degraded()) out.put("degraded", true);
        if (a.rewrittenQuestion() != null) out.put("rewritten_question", a.rewrittenQuestion());
        if (a.ttftMs() != null) out.put("ttft_ms", Math.round(a.ttftMs() * 1000) / 1000.0);
        out.put("trace_id", a.traceId());
        out.put("took_ms", Math.round(tookMs * 1000) / 1000.0);
        return out;
    }

    public static List<Map<String, Object>> hits(List<SearchHit> hits) {
        List<Map<String, Object>> out = new ArrayList<>(hits.size());
        for (int i = 0; i < hits.size(); i++) {
            SearchHit h = hits.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rank", i + 1);
            m.put("chunk_id", h.chunk().chunkId());
            m.put("doc_id", h.chunk().docId());
            m.put("source", h.chunk().source());
            m.put("title", h.chunk().title());
            m.put("section", h.chunk().section());
            m.put("chunk", h.chunk().ordinal());
            m.put("score", h.score());
            m.put("bm25", h.bm25Rank() == 0 ? null : Map.of("rank", h.bm25Rank(), "score", h.bm25Score()));
            m.put("vector", h.vectorRank() == 0 ? null : Map.of("rank", h.vectorRank(), "score", h.vectorScore()));
            m.put("text", h.chunk().body());
            out.add(m);
        }
        return out;
    }
}
