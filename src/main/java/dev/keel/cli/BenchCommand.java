package dev.keel.cli;

import dev.keel.bench.AnswerBench;
import dev.keel.bench.IngestBench;
import dev.keel.bench.SearchBench;
import dev.keel.http.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keel bench …}: benchmarks that print same-run ratios and absolute figures. Never part of the tests. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run benchmarks (ingest, search, answer) in throw-away directories.",
        subcommands = {BenchCommand.Ingest.class, BenchCommand.Search.class, BenchCommand.Answer.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "ingest", mixinStandardHelpOptions = true,
            description = "Ingest throughput vs the raw embedder (same run), and re-ingest of the unchanged corpus vs first ingest.")
    static final class Ingest implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Option(names = "--docs", defaultValue = "200", description = "Synthetic pages to generate (default: ${DEFAULT-VALUE}).")
        int docs;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                Path work = scratch.path();
                IngestBench.Result r = IngestBench.run(docs, work, common.loadConfig(), System.err);
                if (json) {
                    System.out.println(Json.write(r));
                } else {
                    System.out.printf("documents %d, chunks %d%n", r.documents(), r.chunks());
                    System.out.printf("ingest            %8.1f chunks/s  (%.1f s)%n", r.ingestChunksPerSecond(), r.ingestSeconds());
                    System.out.printf("raw embedder      %8.1f chunks/s  (%.1f s)%n", r.rawChunksPerSecond(), r.rawEmbedSeconds());
                    System.out.printf("ratio ingest/raw  %8.3f   (target ≥ 0.85)%n", r.throughputRatio());
                    System.out.printf("re-ingest         %8.3f s  → %.0f× faster than first ingest (target ≥ 50×)%n", r.reingestSeconds(), r.reingestSpeedup());
                }
                return 0;
            }
        }
    }

    @Command(name = "search", mixinStandardHelpOptions = true,
            description = "Hybrid / BM25 / vector search latency, excluding query embedding, at growing index sizes; heap and RSS at the end.")
    static final class Search implements Callable<Integer> {
        @Option(names = "--sizes", split = ",", defaultValue = "10000,100000", description = "Index sizes in chunks (default: ${DEFAULT-VALUE}).")
        List<Integer> sizes;

        @Option(names = "--queries", defaultValue = "1000", description = "Timed queries per mode and size (default: ${DEFAULT-VALUE}).")
        int queries;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                Path work = scratch.path();
                SearchBench.Result r = SearchBench.run(sizes.stream().sorted().toList(), queries, work, System.err);
                if (json) {
                    System.out.println(Json.write(r));
                    return 0;
                }
                System.out.printf("%9s %-7s %8s %8s %8s%n", "chunks", "mode", "p50 ms", "p99 ms", "mean ms");
                for (SearchBench.SizeResult s : r.sizes()) {
                    s.modes().forEach((mode, l) -> System.out.printf("%,9d %-7s %8.2f %8.2f %8.2f%n", s.chunks(), mode, l.p50(), l.p99(), l.mean()));
                    SearchBench.Latency h = s.modes().get("hybrid"), b = s.modes().get("bm25"), v = s.modes().get("vector");
                    System.out.printf("%9s hybrid p50 = %.2f× bm25-only, %.2f× vector-only (index built in %.1f s)%n", "", h.p50() / b.p50(), h.p50() / v.p50(), s.buildSeconds());
                }
                System.out.printf("heap after GC %.0f MiB, RSS %.0f MiB (targets at 100k: p50 ≤ 5 ms, p99 ≤ 20 ms, heap ≤ 1024 MiB)%n", r.heapMiB(), r.rssMiB());
                return 0;
            }
        }
    }

    @Command(name = "answer", mixinStandardHelpOptions = true, description = "POST /v1/answer end to end on the sample corpus: cold and warm latency.")
    static final class Answer implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Option(names = "--rounds", defaultValue = "5", description = "Warm rounds over the golden questions (default: ${DEFAULT-VALUE}).")
        int rounds;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                Path work = scratch.path();
                Path samples = DemoCommand.samples();
                AnswerBench.Result r = AnswerBench.run(samples, samples.resolveSibling("golden.jsonl"), rounds, work, common.loadConfig(), System.err);
                if (json) {
                    System.out.println(Json.write(r));
                } else {
                    System.out.printf("cold  (%d questions, first ask)   p50 %6.2f ms  p99 %6.2f ms%n", r.questions(), r.coldP50(), r.coldP99());
                    System.out.printf("warm  (%d repeated asks)         p50 %6.2f ms  p99 %6.2f ms%n", r.warmRequests(), r.warmP50(), r.warmP99());
                    System.out.printf("all requests p50 %.2f ms; cold/warm p50 ratio %.1f (target p50 ≤ 50 ms)%n", r.allP50(), r.coldP50() / r.warmP50());
                }
                return 0;
            }
        }
    }
}
