package dev.keel.bench;

import dev.keel.config.SearchConfig;
import dev.keel.index.ChunkIndex;
import dev.keel.index.ChunkRecord;
import dev.keel.index.DocumentRecord;
import dev.keel.index.LuceneChunkIndex;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchMode;
import dev.keel.index.SearchRequest;
import dev.keel.trace.Traces;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Search latency of the embedded index, excluding query embedding, at growing sizes. Chunks are
 * synthetic text with topic-clustered 384-dimensional unit vectors (the real model would need hours
 * to embed 100k chunks here); queries are precomputed text + vector pairs, so only retrieval and
 * fusion are timed. After a warm-up pass over every query, the modes are timed interleaved (query by
 * query), so machine noise falls on all alike (hybrid is also timed without pseudo-relevance feedback); each size reports hybrid, BM25-only and
 * vector-only latency from the same run. With several tenants, documents are dealt round-robin to
 * them and each query runs for one of them in turn, so every search filters to a share of the index.
 */
public final class SearchBench {
    private static final int DIMENSION = 384, CHUNKS_PER_DOC = 10, TOPICS = 256;
    private static final String MODEL = "synthetic-clustered@1";

    /** Latency of one mode at one size, in milliseconds. */
    public record Latency(double p50, double p99, double mean) {}

    /** Results at one index size. */
    public record SizeResult(int chunks, double buildSeconds, Map<String, Latency> modes) {}

    /** The whole run. */
    public record Result(List<SizeResult> sizes, double heapMiB, double rssMiB) {}

    /** A timed variant: the three modes with the default settings, and hybrid without feedback to show its cost. */
    private record Timed(String name, SearchMode mode, SearchConfig settings) {}

    private static final List<Timed> TIMED = List.of(new Timed("hybrid", SearchMode.HYBRID, SearchConfig.DEFAULTS),
            new Timed("bm25", SearchMode.BM25, SearchConfig.DEFAULTS), new Timed("vector", SearchMode.VECTOR, SearchConfig.DEFAULTS),
            new Timed("hybrid_no_prf", SearchMode.HYBRID, SearchConfig.DEFAULTS.withPrf(false)));

    private SearchBench() {}

    public static Result run(List<Integer> sizes, int queries, int tenants, Path work, PrintStream log) throws Exception {
        SyntheticCorpus corpus = new SyntheticCorpus(7);
        float[][] centroids = SyntheticCorpus.centroids(11, TOPICS, DIMENSION);
        Traces traces = new Traces(1_000, java.time.Duration.ofMinutes(1));
        List<SizeResult> results = new ArrayList<>();
        try (ChunkIndex index = new LuceneChunkIndex(work.resolve("index"), MODEL, DIMENSION)) {
            int built = 0;
            for (int size : sizes) {
                log.printf("search: building %,d chunks…%n", size);
                long t0 = System.nanoTime();
                build(index, corpus, centroids, built / CHUNKS_PER_DOC, size / CHUNKS_PER_DOC, tenants);
                built = size;
                double buildSeconds = (System.nanoTime() - t0) / 1e9;
                Map<String, Latency> modes = new LinkedHashMap<>();
                List<String> texts = new ArrayList<>();
                List<float[]> vectors = new ArrayList<>();
                SplittableRandom r = new SplittableRandom(99);
                for (int q = 0; q < queries; q++) {
                    texts.add(corpus.query(q));
                    vectors.add(SyntheticCorpus.clusteredVector(r, centroids, 0.5 / Math.sqrt(DIMENSION)));
                }
                for (int q = 0; q < queries; q++) for (Timed t : TIMED) search(index, traces, tenant(q, tenants), texts.get(q), vectors.get(q), t);
                double[][] ms = new double[TIMED.size()][queries];
                for (int q = 0; q < queries; q++) {
                    for (int m = 0; m < TIMED.size(); m++) {
                        long s = System.nanoTime();
                        search(index, traces, tenant(q, tenants), texts.get(q), vectors.get(q), TIMED.get(m));
                        ms[m][q] = (System.nanoTime() - s) / 1e6;
                    }
                }
                for (int m = 0; m < TIMED.size(); m++) {
                    double mean = java.util.Arrays.stream(ms[m]).average().orElse(0);
                    modes.put(TIMED.get(m).name(), new Latency(Measurements.percentile(ms[m], 50), Measurements.percentile(ms[m], 99), mean));
                }
                results.add(new SizeResult(size, buildSeconds, modes));
            }
            return new Result(results, Measurements.heapUsedAfterGcMiB(), Measurements.rssMiB());
        }
    }

    private static String tenant(int n, int tenants) {
        return "bench-" + n % tenants;
    }

    private static void search(ChunkIndex index, Traces traces, String tenant, String text, float[] vector, Timed timed) {
        var trace = traces.start("bench.search", tenant);
        index.search(new SearchRequest(tenant, text, vector, timed.mode(), 10, timed.settings(), SearchFilters.NONE, false), trace);
        trace.finish();
    }

    private static void build(ChunkIndex index, SyntheticCorpus corpus, float[][] centroids, int fromDoc, int toDoc, int tenants) throws Exception {
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int part = t;
                parts.add(pool.submit(() -> {
                    for (int d = fromDoc + part; d < toDoc; d += threads) index.replace(document(tenant(d, tenants), d), chunks(tenant(d, tenants), corpus, centroids, d));
                    return null;
                }));
            }
            for (Future<?> f : parts) f.get();
        } finally {
            pool.shutdown();
        }
        index.commit();
    }

    private static DocumentRecord document(String tenant, int d) {
        return new DocumentRecord(tenant, "doc" + d, "v1", "/bench/doc" + d + ".md", "Doc " + d, "text/markdown", 0, CHUNKS_PER_DOC, 0, 0, Map.of());
    }

    private static List<ChunkRecord> chunks(String tenant, SyntheticCorpus corpus, float[][] centroids, int d) {
        SplittableRandom r = new SplittableRandom(d);
        List<ChunkRecord> out = new ArrayList<>(CHUNKS_PER_DOC);
        for (int i = 0; i < CHUNKS_PER_DOC; i++) {
            String body = corpus.paragraph(r, 3 + r.nextInt(4));
            out.add(new ChunkRecord(tenant, "doc" + d, "v1", i, "/bench/doc" + d + ".md", "Doc " + d, List.of("Section " + i), body,
                    "Doc " + d + " › Section " + i + "\n\n" + body, MODEL, 0, SyntheticCorpus.clusteredVector(r, centroids, 1.0 / Math.sqrt(DIMENSION))));
        }
        return out;
    }
}
