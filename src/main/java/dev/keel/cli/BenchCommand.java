package dev.keel.cli;

import dev.keel.bench.AnswerBench;
import dev.keel.bench.GuardBench;
import dev.keel.bench.IngestBench;
import dev.keel.bench.RerankBench;
import dev.keel.bench.SearchBench;
import dev.keel.http.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import dev.keel.guard.StreamGuard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keel bench …}: benchmarks that print same-run ratios and absolute figures. Never part of the tests. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run benchmarks (ingest, search, answer, gateway, rerank, grounding, router, cache, stream-window, guard, limits, online) in throw-away directories.",
        subcommands = {BenchCommand.Ingest.class, BenchCommand.Search.class, BenchCommand.Answer.class, BenchCommand.Gateway.class,
                BenchCommand.Rerank.class, BenchCommand.Grounding.class,
                BenchCommand.Router.class, BenchCommand.Cache.class, BenchCommand.StreamWindow.class, BenchCommand.GuardLatency.class,
                BenchCommand.SharedLimits.class, OnlineBenchCommand.class, AgentBenchCommand.class})
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
                    System.out.printf("CPU raw/ingest    %8.3f   (%.1f vs %.1f CPU-s: the ratio's ceiling when both keep every core busy)%n",
                            r.cpuRatio(), r.rawEmbedCpuSeconds(), r.ingestCpuSeconds());
                    System.out.printf("re-ingest         %8.3f s  → %.0f× faster than first ingest (target ≥ 50×)%n", r.reingestSeconds(), r.reingestSpeedup());
                }
                return 0;
            }
        }
    }

    @Command(name = "guard", mixinStandardHelpOptions = true,
            description = "Input guard latency (Guard.check) over a mix of benign and attack texts: every layer, cheap layers, PII, embedding, by text length; embedding cost by tokens; scan throughput;"
                    + " and multi-turn conversations screened as the gateway screens them, with the memory of findings (guard.cache) on and off.")
    static final class GuardLatency implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Option(names = "--texts", defaultValue = "3000", description = "Texts in the generated mix (default: ${DEFAULT-VALUE}).")
        int texts;

        @Option(names = "--texts-file", description = "JSONL file whose \"text\" fields replace the generated mix.")
        Path data;

        @Option(names = "--seed", defaultValue = "9", description = "Seed of the generated mix (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--parts", split = ",", defaultValue = "texts,conversations",
                description = "What to measure: texts (single checks over the mix), conversations (multi-turn requests) (default: ${DEFAULT-VALUE}).")
        List<String> parts;

        @Option(names = "--conversations", defaultValue = "30", description = "Conversations measured (default: ${DEFAULT-VALUE}).")
        int conversations;

        @Option(names = "--turns", defaultValue = "20", description = "User turns per conversation (default: ${DEFAULT-VALUE}).")
        int turns;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        /** The figures of the parts asked for (null: not asked). */
        record Figures(GuardBench.Result texts, GuardBench.ConversationResult conversations) {}

        @Override
        public Integer call() throws Exception {
            dev.keel.config.KeelConfig config = common.loadConfig();
            try (dev.keel.embed.BgeSmallEmbedder embedder = new dev.keel.embed.BgeSmallEmbedder(config.embed().threads())) {
                GuardBench.ConversationResult c = parts.contains("conversations")
                        ? GuardBench.conversations(config.guard(), embedder, conversations, turns, seed, System.err) : null;
                GuardBench.Result r = parts.contains("texts") ? GuardBench.run(config.guard(), embedder, texts, data, seed, System.err) : null;
                if (json) {
                    System.out.println(Json.write(new Figures(r, c)));
                    return 0;
                }
                if (c != null) printConversations(c);
                if (r == null) return 0;
                System.out.printf("%d texts; %.1f%% blocked under the strict profile%n", r.texts(), 100 * r.blockedShare());
                System.out.printf("%-34s %8s %8s %8s %8s%n", "input check, per request", "p50 ms", "p95 ms", "p99 ms", "mean ms");
                print("every layer (cascade)", r.full());
                print("cheap layers only (with PII)", r.cheapOnly());
                print("  of which PII scanning", r.pii());
                print("embedding layers (every − cheap)", r.embeddingAdded());
                print("one short embedding, for scale", r.embeddingAlone());
                System.out.printf("every layer / cheap only: p50 %.2f×, p99 %.2f× (targets: p50 ≤ 2 ms, p99 ≤ 10 ms)%n", r.p50Ratio(), r.p99Ratio());
                System.out.printf("%nby text length (chars)   %6s  %21s  %21s  %21s  %21s%n", "texts", "every layer p50/p99", "cheap p50/p99",
                        "PII p50/p99", "embedding p50/p99");
                for (GuardBench.Bucket b : r.buckets()) {
                    System.out.printf("%-24s %6d  %21s  %21s  %21s  %21s%n", b.name(), b.texts(), pair(b.full()), pair(b.cheapOnly()), pair(b.pii()),
                            pair(b.embeddingAdded()));
                }
                System.out.printf("%nembedding by input length: %s%n", r.embeddingByTokens().stream()
                        .map(e -> String.format("%d tokens p50 %.1f / p99 %.1f ms", e.tokens(), e.latency().p50(), e.latency().p99()))
                        .collect(java.util.stream.Collectors.joining("; ")));
                System.out.printf("scan: %,.0f lines/min on one thread, %,.0f on %d threads%n", r.linesPerMinuteOneThread(), r.linesPerMinuteAllCores(), r.threads());
                return 0;
            }
        }

        private static void printConversations(GuardBench.ConversationResult c) {
            System.out.printf("conversations: %d of %d user turns (system prompt %d chars), %d requests, %.1f%% refused; each screened as the gateway"
                    + " screens a chat request%n", c.conversations(), c.turns(), GuardBench.SYSTEM_PROMPT.length(), c.requests(), 100 * c.refusedShare());
            System.out.printf("%-28s %8s  %21s  %21s  %10s%n", "request check, whole history", "requests", "remembering p50/p99", "forgetting p50/p99",
                    "p50 ratio");
            for (GuardBench.TurnCost t : c.byTurn()) {
                System.out.printf("%-28s %8d  %21s  %21s  %9.1f×%n", "turn " + t.turn(), t.requests(), pair(t.remembering()), pair(t.forgetting()),
                        t.forgetting().p50() / t.remembering().p50());
            }
            System.out.printf("%-28s %8d  %21s  %21s  %9.1f×%n", "every turn", c.requests(), pair(c.allRemembering()), pair(c.allForgetting()),
                    c.allForgetting().p50() / c.allRemembering().p50());
            System.out.printf("process CPU per request: %.2f ms remembering, %.2f ms forgetting (%.1f×); %,d findings remembered at the end%n%n",
                    c.cpuMsRemembering(), c.cpuMsForgetting(), c.cpuMsForgetting() / c.cpuMsRemembering(), c.remembered());
        }

        private static void print(String name, GuardBench.Latency l) {
            System.out.printf("%-34s %8.2f %8.2f %8.2f %8.2f%n", name, l.p50(), l.p95(), l.p99(), l.mean());
        }

        private static String pair(GuardBench.Latency l) {
            return String.format("%.2f / %.2f ms", l.p50(), l.p99());
        }
    }

    @Command(name = "search", mixinStandardHelpOptions = true,
            description = "Hybrid / BM25 / vector search latency, excluding query embedding, at growing index sizes; heap and RSS at the end.")
    static final class Search implements Callable<Integer> {
        @Option(names = "--sizes", split = ",", defaultValue = "10000,100000", description = "Index sizes in chunks (default: ${DEFAULT-VALUE}).")
        List<Integer> sizes;

        @Option(names = "--queries", defaultValue = "1000", description = "Timed queries per mode and size (default: ${DEFAULT-VALUE}).")
        int queries;

        @Option(names = "--tenants", defaultValue = "1", description = "Tenants sharing the index; documents and queries are dealt round-robin (default: ${DEFAULT-VALUE}).")
        int tenants;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (tenants < 1) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--tenants must be at least 1");
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                Path work = scratch.path();
                SearchBench.Result r = SearchBench.run(sizes.stream().sorted().toList(), queries, tenants, work, System.err);
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

    @Command(name = "rerank", mixinStandardHelpOptions = true,
            description = "POST /v1/search on the sample corpus with rerank none, mmr and remote (an instant local reranker): what each adds.")
    static final class Rerank implements Callable<Integer> {
        @Option(names = "--rounds", defaultValue = "5", description = "Rounds over the golden questions (default: ${DEFAULT-VALUE}).")
        int rounds;

        @Option(names = "--candidates", defaultValue = "20", description = "rerank.candidates (default: ${DEFAULT-VALUE}).")
        int candidates;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                Path samples = DemoCommand.samples();
                RerankBench.Result r = RerankBench.run(samples, samples.resolveSibling("golden.jsonl"), rounds, candidates, scratch.path(), System.err);
                if (json) {
                    System.out.println(Json.write(r));
                    return 0;
                }
                System.out.printf("%d questions × %d rounds, top_k 5, %d candidates reranked%n", r.questions(), r.rounds(), r.candidates());
                r.methods().forEach((m, l) -> System.out.printf("%-7s p50 %6.2f ms  p99 %6.2f ms  added p50 %+6.2f ms%n", m, l.p50(), l.p99(), l.addedP50()));
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

        @Option(names = "--callers", defaultValue = "0",
                description = "Concurrent callers for answers per second, new then repeated questions (default: ${DEFAULT-VALUE}: not measured).")
        int callers;

        @Option(names = "--seconds", defaultValue = "20", description = "Seconds per throughput phase (default: ${DEFAULT-VALUE}).")
        int seconds;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                Path work = scratch.path();
                Path samples = DemoCommand.samples();
                AnswerBench.Result r = AnswerBench.run(samples, samples.resolveSibling("golden.jsonl"), rounds, callers,
                        java.time.Duration.ofSeconds(seconds), work, common.loadConfig(), System.err);
                if (json) {
                    System.out.println(Json.write(r));
                } else {
                    System.out.printf("cold  (%d questions, first ask)   p50 %6.2f ms  p99 %6.2f ms%n", r.questions(), r.coldP50(), r.coldP99());
                    System.out.printf("warm  (%d repeated asks)         p50 %6.2f ms  p99 %6.2f ms%n", r.warmRequests(), r.warmP50(), r.warmP99());
                    System.out.printf("all requests p50 %.2f ms; cold/warm p50 ratio %.1f (target p50 ≤ 50 ms)%n", r.allP50(), r.coldP50() / r.warmP50());
                    for (AnswerBench.Throughput t : r.throughput()) {
                        System.out.printf("%s, %d callers: %.1f answers/s, p50 %.1f ms, process CPU %.1f ms/answer (%d answers); mean ms per answer by stage: %s%n",
                                t.kind(), t.callers(), t.answersPerSecond(), t.p50Ms(), t.cpuMsPerAnswer(), t.answers(), stages(t.stageMeanMs()));
                    }
                }
                return 0;
            }
        }
    }

    @Command(name = "grounding", mixinStandardHelpOptions = true,
            description = "The grounding check on answers built from the sample docs: unsupported sentences flagged, supported ones flagged wrongly, latency.")
    static final class Grounding implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Option(names = "--docs", description = "Corpus to build the answers from (default: the sample docs).")
        Path docs;

        @Option(names = "--seed", defaultValue = "8", description = "Seed of the sentence choices and edits (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--show-misses", description = "Print every answer the checker misjudged (to stderr).")
        boolean showMisses;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                dev.keel.bench.GroundingBench.Result r = dev.keel.bench.GroundingBench.run(docs != null ? docs : DemoCommand.samples(), scratch.path(),
                        common.loadConfig(), seed, showMisses, System.err);
                if (json) {
                    System.out.println(Json.write(r));
                    return 0;
                }
                r.flaggedByKind().forEach((kind, rate) -> System.out.printf("%-44s %4d answers  flagged %5.1f%%%n", kind, r.answersByKind().get(kind), 100 * rate));
                System.out.printf("unsupported flagged   %5.1f%% of %d (target ≥ 90%%)%n", 100 * r.flaggedUnsupported(), r.unsupported());
                System.out.printf("supported flagged     %5.1f%% of %d (target ≤ 10%%)%n", 100 * r.flaggedSupported(), r.supported());
                System.out.printf("checker latency per answer: p50 %.2f ms, p99 %.2f ms, mean %.2f ms%n", r.p50Ms(), r.p99Ms(), r.meanMs());
                return 0;
            }
        }
    }

    @Command(name = "gateway", mixinStandardHelpOptions = true,
            description = {"Added latency of the gateway (auth, limits, budget, ledger on) vs calling a local fake upstream directly, at fixed rates;",
                    "maximum throughput side by side with the Portkey gateway (installed with npm on first use); a 50%%-failure fault run."})
    static final class Gateway implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--rates", split = ",", defaultValue = "500,2000,5000", description = "Offered loads in requests/s (default: ${DEFAULT-VALUE}).")
        List<Integer> rates;

        @Option(names = "--seconds", defaultValue = "10", description = "Measured seconds per load (default: ${DEFAULT-VALUE}).")
        int seconds;

        @Option(names = "--concurrency", defaultValue = "256",
                description = "Callers for maximum throughput; with the upstream latency it bounds the rate (256 / 20 ms = 12,800 req/s) (default: ${DEFAULT-VALUE}).")
        int concurrency;

        @Option(names = "--upstream-latency-ms", defaultValue = "20", description = "Fixed latency of the fake upstream (default: ${DEFAULT-VALUE}).")
        int latency;

        @Option(names = "--parts", split = ",", defaultValue = "sequential,rates,max,portkey,faults",
                description = "What to measure: sequential (one connection, upstream answering at once), rates (fixed loads), max (maximum throughput), portkey, faults, "
                        + "streaming (streams one at a time and at a fixed rate, direct vs Keel), streams (Keel's heap with 1,000 streams open) (default: ${DEFAULT-VALUE}).")
        List<String> parts;

        @Option(names = "--server-java-opts", paramLabel = "OPTS",
                description = "Extra JVM options for the Keel server process, after this JVM's own (e.g. \"-XX:+UseZGC\").")
        String serverJavaOpts;

        @Option(names = "--portkey-dir", description = "Where Portkey is (or gets) installed (default: the system temp dir).")
        Path portkeyDir;

        @Option(names = "--no-guard", description = "Run Keel with guard.enabled: false (the input guard embeds every request's text).")
        boolean noGuard;

        @Option(names = "--redis", paramLabel = "URL",
                description = "Also measure maximum throughput of a Keel with limits, budgets and exact cache in this Redis (same run), e.g. redis://127.0.0.1:18379.")
        String redis;

        @Option(names = "--store", paramLabel = "URL",
                description = "Also put that Keel's keys, ledger and traces in this PostgreSQL, e.g. postgres://keel@127.0.0.1:18432/keel (password: $PGPASSWORD when set).")
        String store;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            Path portkey = portkeyDir != null ? portkeyDir : Path.of(System.getProperty("java.io.tmpdir"), "keel-bench-portkey");
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                java.util.Set<dev.keel.bench.GatewayBench.Part> what = java.util.EnumSet.noneOf(dev.keel.bench.GatewayBench.Part.class);
                for (String p : parts) {
                    try {
                        what.add(dev.keel.bench.GatewayBench.Part.valueOf(p.trim().toUpperCase(java.util.Locale.ROOT)));
                    } catch (IllegalArgumentException e) {
                        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--parts: unknown part '" + p + "' (sequential, rates, max, portkey, faults, streaming, streams)");
                    }
                }
                dev.keel.bench.GatewayBench.Result r = dev.keel.bench.GatewayBench.run(new dev.keel.bench.GatewayBench.Options(rates,
                        java.time.Duration.ofSeconds(seconds), concurrency, latency, what, portkey,
                        jvmOptions(serverJavaOpts), sharedEngines(redis, store, System::getenv), !noGuard), scratch.path(), System.err);
                if (json) {
                    System.out.println(Json.write(r));
                    return 0;
                }
                printGateway(r);
                return 0;
            }
        }
    }

    @Command(name = "router", mixinStandardHelpOptions = true,
            description = "Cost and pass rate of \"model\": \"auto\" vs sending everything to the large tier, on a labelled 70/25/5 mix against fake tier models.")
    static final class Router implements Callable<Integer> {
        @Option(names = "--requests", defaultValue = "2000", description = "Requests in the mix (default: ${DEFAULT-VALUE}).")
        int requests;

        @Option(names = "--seed", defaultValue = "8", description = "Seed of the generated mix (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (requests < 20) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--requests must be at least 20 (one complex request)");
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                dev.keel.bench.RouterBench.Result r = dev.keel.bench.RouterBench.run(requests, seed, scratch.path(), System.err);
                if (json) {
                    System.out.println(Json.write(r));
                    return 0;
                }
                System.out.printf("%d requests, by level %s; %s%n", r.requests(), r.levels(), dev.keel.bench.RouterBench.prices());
                System.out.printf("%-18s %12s %10s %10s %8s %10s  %s%n", "", "cost USD", "vs large", "pass rate", "calls", "escalated", "final tiers");
                for (dev.keel.bench.RouterBench.Run run : List.of(r.allLarge(), r.routed(), r.routeOnly())) {
                    System.out.printf("%-18s %12.6f %9.1f%% %9.1f%% %8d %10d  %s%n", run.name(), run.costUsd(), 100 * run.costUsd() / r.allLarge().costUsd(),
                            100 * run.passRate(), run.upstreamCalls(), run.escalated(), run.finalTiers());
                }
                System.out.printf("auto's cost by tier model: %s%n", r.routed().costByModel().entrySet().stream()
                        .map(e -> String.format(java.util.Locale.ROOT, "%s $%.4f", e.getKey(), e.getValue())).toList());
                System.out.printf("classifier's first pick vs label: %d below (escalated), %d above (overpaid)%n", r.underRouted(), r.overRouted());
                System.out.printf("auto costs %.1f%% of all-large at pass rate %.1f%% vs %.1f%% (target ≤ 35%% at equal pass rate)%n", 100 * r.costRatio(),
                        100 * r.routed().passRate(), 100 * r.allLarge().passRate());
                return 0;
            }
        }
    }

    @Command(name = "stream-window", mixinStandardHelpOptions = true,
            description = "What the streaming output guard's hold-back costs in time to first token, on seeded synthetic replies (in process).")
    static final class StreamWindow implements Callable<Integer> {
        @Option(names = "--replies", defaultValue = "2000", description = "Synthetic replies (default: ${DEFAULT-VALUE}).")
        int replies;

        @Option(names = "--token-ms", defaultValue = "20", description = "Assumed time between a model's tokens, ms (default: ${DEFAULT-VALUE}, 50 tokens/s).")
        double tokenMs;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() {
            try (dev.keel.embed.BgeSmallEmbedder embedder = new dev.keel.embed.BgeSmallEmbedder(1)) {
                dev.keel.bench.StreamWindowBench.Result r = dev.keel.bench.StreamWindowBench.run(replies, 9, tokenMs, embedder);
                if (json) {
                    System.out.println(Json.write(r));
                    return 0;
                }
                System.out.printf("%d replies; deltas before the first visible text: p50 %.0f, p99 %.0f with output checks (restore only: p50 %.0f;"
                        + " a fixed %d-character window: p50 %.0f)%n", r.replies(), r.heldP50(), r.heldP99(), r.restoreOnlyP50(), StreamGuard.WINDOW,
                        r.fixedWindowHeldP50());
                System.out.printf("added time to first token at %.0f ms/token: p50 %.0f ms, p99 %.0f ms; guard CPU per delta p50 %.1f µs, p99 %.1f µs%n",
                        r.tokenMs(), r.addedTtftP50Ms(), r.addedTtftP99Ms(), r.cpuPerDeltaP50Us(), r.cpuPerDeltaP99Us());
                return 0;
            }
        }
    }

    private static void printGateway(dev.keel.bench.GatewayBench.Result r) {
        System.out.printf("fake upstream latency %d ms; Keel runs as `keel serve` in its own process%n", r.upstreamLatencyMs());
        if (r.sequential() != null) {
            dev.keel.bench.GatewayBench.RateResult x = r.sequential();
            System.out.printf("sequential, one connection, upstream answering at once: direct p50 %.3f / p99 %.3f ms, keel p50 %.3f / p99 %.3f ms%n",
                    x.direct().p50Ms(), x.direct().p99Ms(), x.keel().p50Ms(), x.keel().p99Ms());
            System.out.printf("%8s added p50 %.3f ms, p90 %.3f ms, p99 %.3f ms; keel CPU %.3f ms/request, %,.0f req/s%n", "",
                    x.addedP50Ms(), x.addedP90Ms(), x.addedP99Ms(), x.keel().serverCpuMsPerRequest(), x.keel().throughput());
            System.out.printf("%8s x-keel-overhead-ms p50 %.3f, p99 %.3f; header - added at p50 %+.3f ms: %s%n", "", x.keel().overheadP50Ms(),
                    x.keel().overheadP99Ms(), x.headerMinusAddedP50Ms(), x.headerAgrees()
                            ? String.format(java.util.Locale.ROOT, "agrees (within %.1f ms)", dev.keel.bench.GatewayBench.RateResult.HEADER_AGREEMENT_MS)
                            : String.format(java.util.Locale.ROOT, "DISAGREES (by more than %.1f ms)", dev.keel.bench.GatewayBench.RateResult.HEADER_AGREEMENT_MS));
        }
        if (!r.rates().isEmpty()) {
            System.out.printf("%8s %22s %22s %26s %10s %12s%n", "req/s", "direct p50/p99 ms", "keel p50/p99 ms", "added p50/p90/p99 ms", "success", "keel CPU/req");
        }
        for (dev.keel.bench.GatewayBench.RateResult x : r.rates()) {
            System.out.printf("%,8d %10.2f / %8.2f %10.2f / %8.2f %7.2f / %7.2f / %7.2f %9.2f%% %9.3f ms  (keel %,.0f req/s = %.0f%% of offered)%n", x.offered(),
                    x.direct().p50Ms(), x.direct().p99Ms(), x.keel().p50Ms(), x.keel().p99Ms(), x.addedP50Ms(), x.addedP90Ms(), x.addedP99Ms(),
                    100 * x.keel().successRate(), x.keel().serverCpuMsPerRequest(), x.keel().throughput(), 100 * x.keel().throughput() / x.offered());
            if (!x.keel().failures().isEmpty()) System.out.printf("%8s keel failures: %s%n", "", x.keel().failures());
            System.out.printf("%8s time inside Keel (x-keel-overhead-ms) p50 %.3f ms, p99 %.3f ms%n", "", x.keel().overheadP50Ms(), x.keel().overheadP99Ms());
        }
        r.maxThroughput().forEach((k, v) -> System.out.printf("max throughput %-11s %,10.0f req/s, p50 %.2f ms%s, %,d errors%n", k, v.throughput(), v.p50Ms(),
                v.serverCpuMsPerRequest() > 0 ? String.format(java.util.Locale.ROOT, ", server CPU %.3f ms/request", v.serverCpuMsPerRequest()) : "",
                v.failed()));
        if (r.maxThroughput().containsKey("keel") && r.maxThroughput().containsKey("direct")) {
            dev.keel.bench.GatewayBench.RateResult x = new dev.keel.bench.GatewayBench.RateResult(0, r.maxThroughput().get("direct"), r.maxThroughput().get("keel"));
            System.out.printf("max throughput keel added p50 %.2f ms, p90 %.2f ms, p99 %.2f ms (keel - direct, each at its own maximum); 0 errors: %s%n",
                    x.addedP50Ms(), x.addedP90Ms(), x.addedP99Ms(), x.keel().failed() == 0 ? "yes" : "NO " + x.keel().failures());
        }
        if (r.keelMaxCompile() != null && r.keelMaxCompile().processCpuSeconds() > 0) {
            System.out.printf("keel's JIT compilers inside its measured maximum: %.2f CPU-s of the process's %.1f (%.1f%%)%n", r.keelMaxCompile().compilerCpuSeconds(),
                    r.keelMaxCompile().processCpuSeconds(), 100 * r.keelMaxCompile().compilerCpuSeconds() / r.keelMaxCompile().processCpuSeconds());
        }
        if (r.maxThroughput().containsKey("portkey")) {
            double keel = r.maxThroughput().get("keel").throughput(), portkey = r.maxThroughput().get("portkey").throughput();
            System.out.printf("keel / portkey max throughput: %.2f× (target ≥ 10×)", keel / portkey);
            double keelCpu = r.maxThroughput().get("keel").serverCpuMsPerRequest(), portkeyCpu = r.maxThroughput().get("portkey").serverCpuMsPerRequest();
            if (keelCpu > 0 && portkeyCpu > 0) System.out.printf("; CPU per request portkey / keel: %.2f×", portkeyCpu / keelCpu);
            System.out.println();
        }
        if (r.maxThroughput().containsKey("keel-shared")) {
            dev.keel.bench.GatewayBench.Stats keel = r.maxThroughput().get("keel"), shared = r.maxThroughput().get("keel-shared");
            System.out.printf("keel-shared / keel max throughput: %.2f×; CPU per request %.2f×%n", shared.throughput() / keel.throughput(),
                    shared.serverCpuMsPerRequest() / keel.serverCpuMsPerRequest());
        }
        System.out.println(r.portkeyNote());
        if (r.fault() != null) System.out.printf("fault run: %d requests, success %.2f%%, ledger rows %d (one per request: %s), upstream calls %d%n", r.fault().requests(),
                100 * r.fault().successRate(), r.fault().ledgerRows(), r.fault().ledgerRows() == r.fault().requests() ? "yes" : "NO", r.fault().upstreamCalls());
        r.footprints().forEach((k, v) -> System.out.printf("%s at the end: %sRSS %.0f MiB%n", k,
                v.heapAfterGcMiB() >= 0 ? String.format(java.util.Locale.ROOT, "heap after GC %.0f MiB, ", v.heapAfterGcMiB()) : "", v.rssMiB()));
        if (r.streaming() != null) printGatewayStreams(r.streaming());
    }

    private static void printGatewayStreams(dev.keel.bench.GatewayStreamBench.Result r) {
        if (r.measured() != null) {
            System.out.printf("streams of %d content deltas %d ms apart (added = keel − direct, per percentile, alternating rounds):%n", r.deltas(), r.intervalMs());
            for (dev.keel.bench.GatewayStreamBench.Comparison c : r.measured()) {
                System.out.printf("  %s: %,d streams direct, %,d through Keel (%d failed)%n", c.load(), c.direct().streams(), c.keel().streams(),
                        c.direct().failed() + c.keel().failed());
                System.out.printf("    added first byte p50 %.3f / p99 %.3f ms; first content delta p50 %.3f / p99 %.3f ms%n", c.addedFirstByte().p50Ms(),
                        c.addedFirstByte().p99Ms(), c.addedFirstDelta().p50Ms(), c.addedFirstDelta().p99Ms());
                System.out.printf("    of which before the upstream's first write p50 %.3f / p99 %.3f ms%n", c.addedToUpstream().p50Ms(), c.addedToUpstream().p99Ms());
                System.out.printf("    added upstream last byte → client last byte p50 %.3f / p99 %.3f ms (%.1f / %.1f µs per frame of %d)%n", c.addedTail().p50Ms(),
                        c.addedTail().p99Ms(), 1000 * c.addedTail().p50Ms() / c.frames(), 1000 * c.addedTail().p99Ms() / c.frames(), c.frames());
                System.out.printf("    added lag of each frame behind the upstream's write p50 %.1f / p99 %.1f µs; keel CPU %.3f ms/stream%n",
                        1000 * c.addedPerFrame().p50Ms(), 1000 * c.addedPerFrame().p99Ms(), c.keel().cpuMsPerStream());
            }
            dev.keel.bench.GatewayBench.RateResult u = r.unstreamed();
            System.out.printf("  the same requests not streamed, one at a time (the upstream answers when its stream would end): added p50 %.3f / p99 %.3f ms; keel CPU %.3f ms/request%n", u.addedP50Ms(),
                    u.addedP99Ms(), u.keel().serverCpuMsPerRequest());
        }
        if (r.heldOpen() != null) {
            dev.keel.bench.GatewayStreamBench.HeldOpen h = r.heldOpen();
            System.out.printf("%,d streams held open through Keel: %,d open while measured; keel heap after GC %.0f MiB (%.0f MiB before they opened), RSS %.0f MiB;"
                    + " %,d completed, %,d with the right text and [DONE] last%n", h.streams(), h.openWhileMeasured(), h.heapOpenMiB(), h.heapBeforeMiB(), h.rssOpenMiB(),
                    h.completed(), h.correct());
        }
    }

    @Command(name = "cache", mixinStandardHelpOptions = true,
            description = "Exact hits, semantic hits (paraphrases) and misses of the response caches, end to end over HTTP against keel serve and a fake upstream.")
    static final class Cache implements Callable<Integer> {
        @Option(names = "--questions", defaultValue = "200", description = "Measured questions per phase, at most 240 (default: ${DEFAULT-VALUE}).")
        int questions;

        @Option(names = "--upstream-latency-ms", defaultValue = "200", description = "Fixed latency of the fake upstream (default: ${DEFAULT-VALUE}).")
        int latency;

        @Option(names = "--server-java-opts", paramLabel = "OPTS", description = "Extra JVM options for the Keel server process.")
        String serverJavaOpts;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                dev.keel.bench.CacheBench.Result r = dev.keel.bench.CacheBench.run(questions, latency,
                        jvmOptions(serverJavaOpts), scratch.path(), System.err);
                if (json) {
                    System.out.println(Json.write(r));
                    return 0;
                }
                System.out.printf("fake upstream latency %d ms; keel serve in its own process, default caches; one request at a time%n", r.upstreamLatencyMs());
                printPhase("miss", r.miss());
                printPhase("exact hit", r.exact());
                printPhase("semantic hit", r.semantic());
                System.out.printf("miss p50 / semantic hit p50 = %.0f×, / exact hit p50 = %.0f× (target: semantic hit p50 ≤ 5 ms)%n",
                        r.miss().p50Ms() / r.semantic().p50Ms(), r.miss().p50Ms() / r.exact().p50Ms());
                return 0;
            }
        }

        private static void printPhase(String name, dev.keel.bench.CacheBench.Phase p) {
            System.out.printf("%-13s p50 %7.2f ms  p99 %7.2f ms  mean %7.2f ms  inside Keel p50 %6.2f ms  (%d requests, served as %s)%n", name, p.p50Ms(),
                    p.p99Ms(), p.meanMs(), p.insideKeelP50Ms(), p.requests(), p.served());
        }
    }

    @Command(name = "limits", mixinStandardHelpOptions = true,
            description = "Admission (admit + settle) throughput of one replica with limits in process vs in a Redis you name (same run).")
    static final class SharedLimits implements Callable<Integer> {
        @Option(names = "--redis", required = true, paramLabel = "URL", description = "Redis to measure against, e.g. redis://127.0.0.1:6379 (keys keel:{key_bench_…}: are left to expire).")
        String redis;

        @Option(names = "--pairs", defaultValue = "20000", description = "Admit + settle pairs per phase (default: ${DEFAULT-VALUE}).")
        int pairs;

        @Option(names = {"--threads", "--concurrency"}, split = ",", defaultValue = "16",
                description = "Concurrent callers, one measurement each, e.g. 1,4,16,64 (default: ${DEFAULT-VALUE}).")
        List<Integer> threads;

        @Option(names = "--keys", defaultValue = "50", description = "API keys the load is spread over (default: ${DEFAULT-VALUE}).")
        int keys;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (pairs < 1 || keys < 1 || threads.stream().anyMatch(t -> t < 1)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--pairs, --keys and each of --concurrency must be at least 1");
            }
            try (ScratchDir scratch = new ScratchDir("keel-bench-")) {
                dev.keel.bench.LimitsBench.Result r = dev.keel.bench.LimitsBench.run(redis, pairs, threads, keys, scratch.path());
                if (json) {
                    System.out.println(Json.write(r));
                    return 0;
                }
                for (dev.keel.bench.LimitsBench.Level level : r.levels()) {
                    System.out.printf("%d threads over %d budgeted, rate-limited keys; one admit + settle per request%n", level.threads(), r.keys());
                    for (dev.keel.bench.LimitsBench.Phase p : List.of(level.inProcess(), level.redis())) {
                        System.out.printf("%-10s %9.0f pairs/s  p50 %6.2f ms  p99 %6.2f ms  (%d pairs)%n", p.store(), p.pairsPerSecond(), p.p50Ms(), p.p99Ms(), p.pairs());
                    }
                    System.out.printf("redis / in-process throughput = %.3f; redis-server CPU %.1f µs per pair (%.0f%% of a core)%n",
                            level.redis().pairsPerSecond() / level.inProcess().pairsPerSecond(), level.redisCpuMsPerPair() * 1000, 100 * level.redisCpuShare());
                }
                return 0;
            }
        }
    }

    /** The {@code keel.yaml} sections that put a bench Keel on the engines named (empty for none); the password stays in the environment. */
    static String sharedEngines(String redisUrl, String storeUrl, java.util.function.Function<String, String> env) {
        StringBuilder yaml = new StringBuilder();
        if (redisUrl != null) yaml.append("redis: {url: ").append(Json.write(redisUrl)).append("}\n");
        if (storeUrl != null) {
            yaml.append("store: {url: ").append(Json.write(storeUrl)).append(env.apply("PGPASSWORD") == null ? "}\n" : ", password: \"${PGPASSWORD}\"}\n");
        }
        return yaml.toString();
    }

    private static String stages(java.util.Map<String, Double> meanMs) {
        return meanMs.entrySet().stream().map(e -> String.format(java.util.Locale.ROOT, "%s %.2f", e.getKey(), e.getValue()))
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** {@code --server-java-opts} as a list of JVM options (none when absent). */
    private static List<String> jvmOptions(String opts) {
        return opts == null || opts.isBlank() ? List.of() : List.of(opts.trim().split("\\s+"));
    }
}
