package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.config.IndexConfig;
import dev.keel.config.KeelConfig;
import dev.keel.eval.BeirDataset;
import dev.keel.eval.RetrievalEvaluation;
import dev.keel.http.Json;
import dev.keel.index.SearchMode;
import dev.keel.index.SolrChunkIndex;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code keel eval}: evaluation commands. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate Keel: run datasets through the answer pipeline or retrieval, judge and calibrate judges, compare runs with a release gate, report.",
        subcommands = {EvalCommand.Retrieval.class,
                EvalRunCommand.class,
                EvalCalibrateCommand.class,
                EvalPairwiseCommand.class,
                EvalCompareCommand.class,
                EvalReportCommand.class})
final class EvalCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "retrieval", mixinStandardHelpOptions = true,
            description = {"Ingest a BEIR dataset into a throw-away index and print nDCG@10, Recall@10, Recall@100 and MRR@10 per mode.",
                    "Embeddings are cached in the data directory, so a second run skips embedding.",
                    "The index is the one --config names (index.kind): with solr, throw-away collections on that SolrCloud,",
                    "deleted afterwards."})
    static final class Retrieval implements Callable<Integer> {
        @Option(names = "--beir", required = true, paramLabel = "DIR", description = "Folder with corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv.")
        Path beir;

        @Option(names = "--split", defaultValue = "test", description = "qrels split (default: ${DEFAULT-VALUE}).")
        String split;

        @Option(names = "--mode", defaultValue = "all", description = "bm25, vector, hybrid or all (default: ${DEFAULT-VALUE}).")
        String mode;

        @Option(names = "--json", description = "Print one JSON object on stdout.")
        boolean json;

        @Option(names = "--data", paramLabel = "DIR", description = "Where the embedding cache lives (default: $KEEL_DATA, else ~/.keel).")
        Path data;

        @Option(names = "--config", paramLabel = "FILE", description = "keel.yaml with search/chunking settings to evaluate.")
        Path config;

        @Override
        public Integer call() throws IOException {
            List<SearchMode> modes = mode.equalsIgnoreCase("all") ? List.of(SearchMode.BM25, SearchMode.VECTOR, SearchMode.HYBRID)
                    : List.of(SearchMode.valueOf(mode.toUpperCase(java.util.Locale.ROOT)));
            BeirDataset dataset = BeirDataset.load(beir, split);
            KeelConfig cfg = config != null ? KeelConfig.load(config) : KeelConfig.defaults();
            CommonOptions dirs = new CommonOptions();
            dirs.data = data;
            if (cfg.index().kind() == IndexConfig.Kind.SOLR) cfg = cfg.withIndex(cfg.index().withCollectionPrefix(throwAwayPrefix(cfg.index())));
            RetrievalEvaluation.Report report;
            try (ScratchDir scratch = new ScratchDir("keel-eval-"); Keel keel = Keel.openWithSharedCache(cfg, scratch.path(), dirs.dataDir())) {
                System.err.printf("%s: %d documents, %d judged queries, %s index%n", dataset.name(), dataset.corpus().size(), dataset.queries().size(),
                        cfg.index().kind().name().toLowerCase(java.util.Locale.ROOT));
                try {
                    report = RetrievalEvaluation.run(keel, dataset, modes, cfg.search(), new ProgressBar(System.err, "docs"));
                } finally {
                    if (keel.index() instanceof SolrChunkIndex solr) solr.deleteCollections();
                }
            }
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("dataset", report.dataset());
                out.put("index", cfg.index().kind().name().toLowerCase(java.util.Locale.ROOT));
                out.put("split", split);
                out.put("documents", report.documents());
                out.put("queries", report.queries());
                Map<String, Object> m = new LinkedHashMap<>();
                report.modes().forEach((name, r) -> m.put(name, Map.of("ndcg@10", round(r.ndcgAt10()), "recall@10", round(r.recallAt10()),
                        "recall@100", round(r.recallAt100()), "mrr@10", round(r.mrrAt10()), "mean_latency_ms", round(r.meanLatencyMs()))));
                out.put("modes", m);
                System.out.println(Json.write(out));
            } else {
                System.out.printf("%s (%d docs, %d queries, ingest %.1fs)%n", report.dataset(), report.documents(), report.queries(), report.ingestSeconds());
                System.out.printf("%-8s %9s %10s %11s %8s %11s%n", "mode", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "latency ms");
                report.modes().forEach((name, r) -> System.out.printf("%-8s %9.4f %10.4f %11.4f %8.4f %11.2f%n",
                        name, r.ndcgAt10(), r.recallAt10(), r.recallAt100(), r.mrrAt10(), r.meanLatencyMs()));
            }
            return 0;
        }

        /** The configured prefix with a random suffix: the evaluation's collections never meet a tenant's. */
        private static String throwAwayPrefix(IndexConfig index) {
            return index.collectionPrefix() + "-eval-" + java.util.HexFormat.of().toHexDigits(java.util.concurrent.ThreadLocalRandom.current().nextInt());
        }

        private static double round(double v) {
            return Math.round(v * 10000) / 10000.0;
        }
    }
}
