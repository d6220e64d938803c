package dev.keel.eval;

import dev.keel.embed.Embedder;
import dev.keel.embed.Vectors;
import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchHit;
import dev.keel.rag.AnswerEngine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The offline judge: deterministic, no model call. Faithfulness is the share of the answer's checkable sentences that
 * their cited context supports, as Keel's grounding check reads them (embedding similarity to the closest context
 * sentences blended with IDF-weighted term coverage, numbers and names required verbatim); citation accuracy is the
 * share of the answer's checkable sentences that cite a block which supports them (a sentence that cites nothing is
 * not accurately cited: Keel's answers must cite every fact), with citations of blocks that do not exist counted as wrong;
 * answer relevance is the embedding similarity of question and answer, rescaled so unrelated text scores near 0. It
 * gives no correctness score (the runner's token F1 and semantic similarity cover that offline). A declined answer
 * gets no scores. Thread-safe.
 */
public final class HeuristicJudge implements Judge {
    public static final String ID = "heuristic/v1";
    /**
     * Cosine of bge-small query and answer vectors below which an answer reads as unrelated, and above which as fully on
     * topic: bge-small puts unrelated English texts near 0.4–0.5, and the sample corpus's refund answer to its question at
     * 0.79 (HeuristicJudgeTest prints it).
     */
    private static final double UNRELATED_COSINE = 0.45, ON_TOPIC_COSINE = 0.8;

    private final AnswerEngine engine;
    private final Embedder embedder;

    public HeuristicJudge(AnswerEngine engine, Embedder embedder) {
        this.engine = engine;
        this.embedder = embedder;
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String family() {
        return null;
    }

    @Override
    public Verdict judge(Input input) {
        if (input.declined() || input.answer().isBlank()) return new Verdict(Map.of(), Map.of());
        Map<String, Double> scores = new LinkedHashMap<>();
        Map<String, String> reasons = new LinkedHashMap<>();
        AnswerEngine.SentenceChecks checks = engine.checkSentences(input.tenant(), input.question(), input.answer(), hits(input));
        int supported = 0, citing = 0, citingSupported = 0;
        List<String> unsupported = new ArrayList<>();
        for (AnswerEngine.SentenceSupport s : checks.sentences()) {
            if (s.supported()) supported++;
            else unsupported.add(s.sentence());
            if (!s.cited().isEmpty()) {
                citing++;
                if (s.supported()) citingSupported++;
            }
        }
        int checked = checks.sentences().size();
        scores.put(FAITHFULNESS, checked == 0 ? 1.0 : (double) supported / checked);
        reasons.put(FAITHFULNESS, checked == 0 ? "no checkable sentence" : supported + " of " + checked + " sentences supported"
                + (unsupported.isEmpty() ? "" : "; first unsupported: " + unsupported.get(0)));
        int wrongIds = checks.invalidCitations().size();
        if (checked + wrongIds > 0) {
            scores.put(CITATION_ACCURACY, (double) citingSupported / (checked + wrongIds));
            reasons.put(CITATION_ACCURACY, citingSupported + " of " + checked + " sentences cite a block that supports them"
                    + (citing == checked ? "" : ", " + (checked - citing) + " cite nothing")
                    + (wrongIds == 0 ? "" : ", " + wrongIds + " citations of no block"));
        }
        double cosine = Vectors.dot(embedder.embedQuery(input.question()), embedder.embedDocuments(List.of(input.answer())).get(0));
        scores.put(ANSWER_RELEVANCE, Math.max(0, Math.min(1, (cosine - UNRELATED_COSINE) / (ON_TOPIC_COSINE - UNRELATED_COSINE))));
        reasons.put(ANSWER_RELEVANCE, "question–answer cosine %.3f".formatted(cosine));
        return new Verdict(scores, reasons);
    }

    /** The passages as search hits of the input's tenant, which the grounding check reads (title, section, text). */
    private static List<SearchHit> hits(Input input) {
        List<SearchHit> hits = new ArrayList<>();
        for (Passage p : input.context()) {
            List<String> path = p.section() == null || p.section().isBlank() ? List.of() : List.of(p.section().split(" › "));
            ChunkRecord chunk = new ChunkRecord(input.tenant(), "judged", "", hits.size(), "", p.title() == null ? "" : p.title(), path, p.text(),
                    null, "", 0, null);
            hits.add(new SearchHit(chunk, 0, -1, 0, -1, 0));
        }
        return hits;
    }
}
