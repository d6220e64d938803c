package dev.keel.bench;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import dev.keel.embed.BgeSmallEmbedder;
import dev.keel.index.ChunkRecord;
import dev.keel.index.DocumentRecord;
import dev.keel.ingest.IngestListener;
import dev.keel.ingest.IngestReport;
import dev.keel.ingest.Ingestor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Ingest throughput against the raw embedder in the same run: the full pipeline (read, hash,
 * parse, chunk, scan, embed, index, commit) on a synthetic Markdown corpus, then the same chunk texts
 * through a fresh embedder alone, then a re-ingest of the unchanged corpus. Both are measured warm:
 * the raw embedder after a first call, ingest after a one-page ingest into another tenant (its
 * one-time start, mostly loading the cl100k vocabulary for the chunker, is not throughput).
 */
public final class IngestBench {
    /**
     * Figures of one run. The CPU seconds are the whole process's during each side: when both sides keep every core
     * busy, their ratio bounds the throughput ratio however ingest schedules its work.
     */
    public record Result(int documents, long chunks, double ingestSeconds, double rawEmbedSeconds, double reingestSeconds,
                         double ingestCpuSeconds, double rawEmbedCpuSeconds) {
        public double ingestChunksPerSecond() {
            return chunks / ingestSeconds;
        }

        public double rawChunksPerSecond() {
            return chunks / rawEmbedSeconds;
        }

        public double throughputRatio() {
            return ingestChunksPerSecond() / rawChunksPerSecond();
        }

        /** Raw embedder's CPU over ingest's for the same chunks. */
        public double cpuRatio() {
            return rawEmbedCpuSeconds / ingestCpuSeconds;
        }

        public double reingestSpeedup() {
            return ingestSeconds / reingestSeconds;
        }
    }

    private IngestBench() {}

    public static Result run(int documents, Path work, KeelConfig config, PrintStream log) throws IOException {
        Path docs = work.resolve("docs"), data = work.resolve("data");
        Files.createDirectories(docs);
        SyntheticCorpus corpus = new SyntheticCorpus(42);
        for (int i = 0; i < documents; i++) Files.writeString(docs.resolve(String.format("page-%05d.md", i)), corpus.document(i, 4));
        Path warmUp = work.resolve("warm-up");
        Files.createDirectories(warmUp);
        Files.writeString(warmUp.resolve("page.md"), new SyntheticCorpus(7).document(0, 4));
        try (Keel keel = Keel.open(config, data)) {
            keel.embedder().embedQuery("warm up the model");
            keel.ingestor().ingestPaths("warm-up", List.of(warmUp), false, keel.traces().start("bench", "warm-up"), IngestListener.NONE);
            log.printf("ingest: %d synthetic pages…%n", documents);
            long t0 = System.nanoTime(), c0 = processCpuNanos();
            IngestReport first = keel.ingestor().ingestPaths("bench", List.of(docs), false, keel.traces().start("bench", "bench"), IngestListener.NONE);
            double ingestSeconds = (System.nanoTime() - t0) / 1e9, ingestCpu = (processCpuNanos() - c0) / 1e9;
            if (!first.failures().isEmpty()) throw new IllegalStateException("bench corpus failed to ingest: " + first.failures().get(0).error());

            List<String> texts = new ArrayList<>();
            for (DocumentRecord d : keel.index().documents("bench", 0, Integer.MAX_VALUE)) {
                for (ChunkRecord c : keel.index().chunks("bench", d.docId())) texts.add(Ingestor.indexText(c.title(), c.sectionPath(), c.body()));
            }
            log.printf("raw embedder: %d chunk texts…%n", texts.size());
            double rawSeconds, rawCpu;
            try (BgeSmallEmbedder raw = new BgeSmallEmbedder(config.embed().threads())) {
                raw.embedDocuments(texts.subList(0, Math.min(8, texts.size())));
                long t1 = System.nanoTime(), c1 = processCpuNanos();
                for (int from = 0; from < texts.size(); from += config.embed().batchSize()) {
                    raw.embedDocuments(texts.subList(from, Math.min(texts.size(), from + config.embed().batchSize())));
                }
                rawSeconds = (System.nanoTime() - t1) / 1e9;
                rawCpu = (processCpuNanos() - c1) / 1e9;
            }
            log.println("re-ingest of the unchanged corpus…");
            long t2 = System.nanoTime();
            IngestReport again = keel.ingestor().ingestPaths("bench", List.of(docs), false, keel.traces().start("bench", "bench"), IngestListener.NONE);
            double reingestSeconds = (System.nanoTime() - t2) / 1e9;
            if (again.chunksWritten() != 0) throw new IllegalStateException("re-ingest rewrote " + again.chunksWritten() + " chunks");
            return new Result(documents, first.chunksWritten(), ingestSeconds, rawSeconds, reingestSeconds, ingestCpu, rawCpu);
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
