package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.config.SearchConfig;
import dev.keel.http.ApiViews;
import dev.keel.http.Json;
import dev.keel.index.InjectionFlag;
import dev.keel.index.RankedList;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchHit;
import dev.keel.index.SearchMode;
import dev.keel.index.SearchResult;
import dev.keel.trace.Trace;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keel search "…"}: retrieval only, with a debug view of every ranked list. */
@Command(name = "search", mixinStandardHelpOptions = true, description = "Search the local index (hybrid BM25 + vectors by default).")
final class SearchCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "QUERY")
    String query;

    @Option(names = "--mode", defaultValue = "hybrid", description = "bm25, vector or hybrid (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = {"-k", "--top-k"}, defaultValue = "10", description = "Results to return (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--source-prefix", description = "Only chunks whose source starts with this.")
    String sourcePrefix;

    @Option(names = "--debug", description = "Show the BM25, vector, fused and final lists with ranks and scores.")
    boolean debug;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        SearchMode m = SearchMode.valueOf(mode.toUpperCase(java.util.Locale.ROOT));
        try (Keel keel = common.open()) {
            Trace trace = keel.traces().start("search", common.tenant);
            SearchConfig settings = keel.config().search();
            SearchResult r = keel.answers().search(common.tenant, query, m, topK, settings,
                    new SearchFilters(sourcePrefix, null, null), debug, trace);
            trace.finish();
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("mode", mode);
                out.put("data", ApiViews.hits(r.hits(), r.rerankScores(), debug));
                if (debug) for (RankedList l : r.debug()) out.put("debug_" + l.name(), l.entries());
                if (debug && !r.expansion().isEmpty()) out.put("debug_prf_terms", r.expansion());
                out.put("trace_id", trace.id());
                System.out.println(Json.write(out));
                return 0;
            }
            int rank = 1;
            for (SearchHit h : r.hits()) {
                System.out.printf("%2d. %.4f  %s%s  (%s)%n", rank++, h.score(), h.chunk().source(),
                        h.chunk().section().isEmpty() ? "" : " › " + h.chunk().section(), h.chunk().chunkId());
                String text = h.chunk().body().replace('\n', ' ');
                System.out.println("    " + (text.length() > 160 ? text.substring(0, 160) + "…" : text));
                if (h.chunk().injection().flagged() || debug) System.out.println("    " + injection(h.chunk().injection()));
            }
            if (debug) {
                if (!r.expansion().isEmpty()) {
                    System.out.println("-- prf terms: " + String.join(" ", r.expansion().stream()
                            .map(t -> String.format(java.util.Locale.ROOT, "%s %.3f", t.term(), t.weight())).toList()));
                }
                for (RankedList l : r.debug()) {
                    System.out.println("-- " + l.name());
                    l.entries().stream().limit(topK).forEach(e -> System.out.printf("   %2d  %.4f  %s%s%n", e.rank(), e.score(), e.chunkId(), parts(e)));
                }
            }
            return 0;
        }
    }

    /** A hit's injection scan, e.g. "FLAGGED as possible prompt injection (score 0.970)" or "injection score 0.012". */
    private static String injection(InjectionFlag flag) {
        if (!flag.scanned()) return "injection: not scanned (ingested before the scan or with it off)";
        return String.format(java.util.Locale.ROOT, flag.flagged() ? "FLAGGED as possible prompt injection (score %.3f)" : "injection score %.3f",
                flag.score());
    }

    /** A BM25 entry's score parts, e.g. "  (title 1.20 + body 3.40)"; empty for other lists. */
    private static String parts(RankedList.Entry e) {
        if (e.parts().isEmpty()) return "";
        return e.parts().entrySet().stream().map(p -> String.format(java.util.Locale.ROOT, "%s %.2f", p.getKey(), p.getValue()))
                .collect(java.util.stream.Collectors.joining(" + ", "  (", ")"));
    }
}
