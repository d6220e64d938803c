package dev.keel.eval;

import dev.keel.Keel;
import dev.keel.config.SearchConfig;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.ingest.DocumentFormat;
import dev.keel.ingest.IngestListener;
import dev.keel.ingest.SourceDocument;
import dev.keel.trace.Trace;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Runs a BEIR dataset through Keel's own ingest and search: every corpus document is ingested
 * (title + text) into the given, throw-away Keel; every judged query is searched in each mode and
 * the chunk ranking is collapsed to a document ranking (first occurrence wins) before scoring.
 */
public final class RetrievalEvaluation {
    public static final String TENANT = "eval";
    private static final int DEPTH = 100;

    /** Mean metrics of one mode. */
    public record ModeResult(double ndcgAt10, double recallAt10, double recallAt100, double mrrAt10, double meanLatencyMs) {}

    /** All modes of one dataset. */
    public record Report(String dataset, int documents, int queries, Map<String, ModeResult> modes, double ingestSeconds) {}

    private RetrievalEvaluation() {}

    public static Report run(Keel keel, BeirDataset data, List<SearchMode> modes, SearchConfig settings, IngestListener progress) {
        long start = System.nanoTime();
        int documents = ingest(keel, data, progress);
        double ingestSeconds = (System.nanoTime() - start) / 1e9;
        return new Report(data.name(), documents, data.queries().size(), evaluate(keel, data, modes, settings), ingestSeconds);
    }

    /** Ingests the corpus (title + text; documents with neither are skipped) into {@link #TENANT}; returns how many went in. */
    public static int ingest(Keel keel, BeirDataset data, IngestListener progress) {
        Trace trace = keel.traces().start("eval.ingest", TENANT);
        List<SourceDocument> docs = new ArrayList<>();
        for (BeirDataset.Doc d : data.corpus()) {
            String text = d.text().isBlank() ? d.title() : d.text();
            if (text.isBlank()) continue;
            docs.add(new SourceDocument(d.id(), "beir:" + data.name() + "/" + d.id(), d.id() + ".txt", DocumentFormat.TEXT,
                    text.getBytes(StandardCharsets.UTF_8), 0, Map.of(), d.title().isBlank() ? "(untitled)" : d.title()));
        }
        keel.ingestor().ingestDocuments(TENANT, docs, trace, progress);
        trace.finish();
        return docs.size();
    }

    /** Searches every judged query of an ingested dataset in each mode, {@value #DEPTH} deep, and averages the metrics per mode. */
    public static Map<String, ModeResult> evaluate(Keel keel, BeirDataset data, List<SearchMode> modes, SearchConfig settings) {
        SearchConfig deep = settings.withDepth(Math.max(DEPTH, settings.candidates()), DEPTH);
        Map<String, ModeResult> results = new LinkedHashMap<>();
        for (SearchMode mode : modes) {
            double ndcg = 0, r10 = 0, r100 = 0, mrr = 0, latency = 0;
            for (Map.Entry<String, String> q : data.queries().entrySet()) {
                Trace t = keel.traces().start("eval.search", TENANT);
                long s = System.nanoTime();
                List<SearchHit> hits = keel.answers().search(TENANT, q.getValue(), mode, DEPTH, deep, SearchFilters.NONE, false, t).hits();
                latency += (System.nanoTime() - s) / 1e6;
                t.finish();
                LinkedHashSet<String> ranking = new LinkedHashSet<>();
                for (SearchHit h : hits) ranking.add(h.chunk().docId());
                List<String> ranked = List.copyOf(ranking);
                Map<String, Integer> judged = data.qrels().get(q.getKey());
                ndcg += RetrievalMetrics.ndcg(ranked, judged, 10);
                r10 += RetrievalMetrics.recall(ranked, judged, 10);
                r100 += RetrievalMetrics.recall(ranked, judged, 100);
                mrr += RetrievalMetrics.reciprocalRank(ranked, judged, 10);
            }
            int n = Math.max(1, data.queries().size());
            results.put(mode.name().toLowerCase(), new ModeResult(ndcg / n, r10 / n, r100 / n, mrr / n, latency / n));
        }
        return results;
    }
}
