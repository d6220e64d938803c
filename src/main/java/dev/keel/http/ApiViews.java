package dev.keel.http;

import dev.keel.guard.GuardResult;
import dev.keel.guard.GuardVerdict;
import dev.keel.index.InjectionFlag;
import dev.keel.index.SearchHit;
import dev.keel.rag.Answer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON shapes of answers and search hits, shared by the HTTP API and the CLI's {@code --json}. */
public final class ApiViews {
    private ApiViews() {}

    /**
     * An answer's JSON: {@code refused} (the reason) only when Keel declined without calling the model,
     * {@code grounding} (score, unsupported, invalid_citations, in that order) only for a model's checked
     * answer. Never {@code ttft_ms}, which only a stream's {@code done} event carries ({@link #streamed}).
     */
    public static Map<String, Object> answer(Answer a, double tookMs) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "answer");
        out.put("answer", a.text());
        out.put("answered", a.answered());
        out.put("citations", a.citations());
        out.put("support", Math.round(a.support() * 1000) / 1000.0);
        out.put("answerer", a.answerer());
        if (a.refused() != null) out.put("refused", a.refused());
        if (a.grounding() != null) {
            Map<String, Object> grounding = new LinkedHashMap<>();
            grounding.put("score", a.grounding().score());
            grounding.put("unsupported", a.grounding().unsupported());
            grounding.put("invalid_citations", a.grounding().invalidCitations());
            out.put("grounding", grounding);
        }
        if (a.degraded()) out.put("degraded", true);
        if (a.rewrittenQuestion() != null) out.put("rewritten_question", a.rewrittenQuestion());
        out.put("trace_id", a.traceId());
        out.put("took_ms", Math.round(tookMs * 1000) / 1000.0);
        return out;
    }

    /** A stream's {@code done} event: {@code view} of {@code a} plus {@code ttft_ms} when a model streamed tokens. */
    public static Map<String, Object> streamed(Map<String, Object> view, Answer a) {
        Map<String, Object> out = new LinkedHashMap<>(view);
        if (a.ttftMs() != null) out.put("ttft_ms", Math.round(a.ttftMs() * 1000) / 1000.0);
        return out;
    }

    /**
     * A guard verdict as the check API and {@code keel guard scan} show it: {@code verdict},
     * {@code categories}, {@code score}, {@code entities} ({@code {type, start, end}}, UTF-16 offsets,
     * end exclusive, never the value) and, for a block, its {@code code}.
     */
    public static Map<String, Object> guard(GuardResult r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("verdict", r.verdict().name());
        out.put("categories", r.categories());
        out.put("score", round4(r.score()));
        out.put("entities", r.entities().stream().map(e -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", e.type());
            m.put("start", e.start());
            m.put("end", e.end());
            return m;
        }).toList());
        if (r.verdict() instanceof GuardVerdict.Block b) out.put("code", b.code());
        return out;
    }

    /** A score rounded to four decimals, as guard views show scores. */
    static double round4(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }

    /** A chunk's injection scan: {@code flagged} and its {@code score} (null when the chunk was not scanned). */
    static Map<String, Object> injection(InjectionFlag flag) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("flagged", flag.flagged());
        m.put("score", flag.scanned() ? round4(flag.score()) : null);
        return m;
    }

    public static List<Map<String, Object>> hits(List<SearchHit> hits) {
        return hits(hits, Map.of(), false);
    }

    /**
     * Search hits; a hit a reranker scored carries {@code rerank_score} ({@code rerankScores} by chunk id) next to its fused {@code score}.
     * Every hit says whether the ingest scan {@code flagged} it as carrying instructions; with {@code debug} also its {@code injection} scan.
     */
    public static List<Map<String, Object>> hits(List<SearchHit> hits, Map<String, Double> rerankScores, boolean debug) {
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
            Double rerankScore = rerankScores.get(h.chunk().chunkId());
            if (rerankScore != null) m.put("rerank_score", rerankScore);
            m.put("bm25", h.bm25Rank() == 0 ? null : Map.of("rank", h.bm25Rank(), "score", h.bm25Score()));
            m.put("vector", h.vectorRank() == 0 ? null : Map.of("rank", h.vectorRank(), "score", h.vectorScore()));
            m.put("text", h.chunk().body());
            m.put("flagged", h.chunk().injection().flagged());
            if (debug) m.put("injection", injection(h.chunk().injection()));
            out.add(m);
        }
        return out;
    }
}
