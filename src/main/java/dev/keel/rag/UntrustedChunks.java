package dev.keel.rag;

import dev.keel.config.GuardConfig;
import dev.keel.guard.Guard;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.ingest.Sentences;
import java.util.ArrayList;
import java.util.List;

/**
 * How chunks the ingest scan flagged as carrying instructions reach an answer
 * ({@code guard.indirect.policy}). {@code exclude}: never — answers retrieve without them, and any
 * that reach this filter are dropped. {@code wrap}: a model's prompt gets them inside an
 * untrusted-data wrapper ({@link ContextPacker}), and the extractive answerer, which quotes
 * sentences verbatim, sees them without the sentences the guard scores as instructions. With
 * {@code guard.enabled: false} flagged chunks are treated like any other. Each method takes the
 * guard under the asking caller's policy ({@code indirect.policy} may differ by tenant and key).
 * Stateless.
 */
final class UntrustedChunks {
    private UntrustedChunks() {}

    private static boolean excluding(Guard guard) {
        return guard.config().enabled() && guard.config().indirect().policy() == GuardConfig.IndirectPolicy.EXCLUDE;
    }

    private static boolean wrapping(Guard guard) {
        return guard.config().enabled() && guard.config().indirect().policy() == GuardConfig.IndirectPolicy.WRAP;
    }

    /** What an answer retrieves with: {@code filters}, leaving out flagged chunks under {@code exclude}. */
    static SearchFilters retrieving(Guard guard, SearchFilters filters) {
        return excluding(guard) ? filters.excludingFlagged() : filters;
    }

    /** The hits an answer may use as context (for a model's prompt, as sources). */
    static List<SearchHit> context(Guard guard, List<SearchHit> hits) {
        return excluding(guard) ? hits.stream().filter(h -> !h.chunk().injection().flagged()).toList() : hits;
    }

    /** The context as the extractive answerer may quote it: a flagged chunk without its sentences that read as instructions. */
    static List<SearchHit> quotable(Guard guard, List<SearchHit> context) {
        if (!wrapping(guard) || context.stream().noneMatch(h -> h.chunk().injection().flagged())) return context;
        double threshold = guard.config().indirect().threshold();
        List<SearchHit> out = new ArrayList<>(context.size());
        for (SearchHit h : context) {
            if (!h.chunk().injection().flagged()) {
                out.add(h);
                continue;
            }
            List<String> kept = Sentences.split(h.chunk().body()).stream().filter(s -> guard.injectionScore(s) < threshold).toList();
            out.add(new SearchHit(h.chunk().withBody(String.join("\n", kept)), h.score(), h.bm25Rank(), h.bm25Score(), h.vectorRank(), h.vectorScore()));
        }
        return out;
    }
}
