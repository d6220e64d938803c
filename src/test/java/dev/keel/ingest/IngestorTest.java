package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.SearchConfig;
import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchFilters;
import dev.keel.index.SearchMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestorTest {
    /** Makes a section at least {@code chunking.min_tokens} long, so it is a chunk of its own. */
    private static final String LONG_ENOUGH_TO_STAND_ALONE = "Field guides describe this in detail, with photographs taken over many years in the wild "
            + "by researchers who followed the same herds across several seasons.";
    private final Keel keel = SampleCorpus.keel();

    private IngestReport ingest(String tenant, boolean sync, Path... paths) {
        return keel.ingestor().ingestPaths(tenant, List.of(paths), sync, keel.traces().start("ingest", tenant), IngestListener.NONE);
    }

    @Test
    void sampleCorpusIngestsEveryFormatWithoutFailures() {
        IngestReport first = SampleCorpus.firstIngest();
        assertThat(first.failures()).isEmpty();
        assertThat(first.count(DocumentOutcome.Status.ADDED)).isGreaterThanOrEqualTo(32);
        assertThat(first.outcomes()).extracting(DocumentOutcome::source)
                .anyMatch(s -> s.endsWith(".pdf")).anyMatch(s -> s.endsWith(".html")).anyMatch(s -> s.endsWith(".md"));
    }

    @Test
    void everyChunkCarriesItsProvenanceAndModel() {
        String id = Ingestor.fileDocId(SampleCorpus.DOCS.resolve("refunds.md"));
        List<ChunkRecord> chunks = keel.index().chunks(Keel.DEFAULT_TENANT, id);
        assertThat(chunks).isNotEmpty();
        for (int i = 0; i < chunks.size(); i++) {
            ChunkRecord c = chunks.get(i);
            assertThat(c.ordinal()).isEqualTo(i);
            assertThat(c.tenant()).isEqualTo(Keel.DEFAULT_TENANT);
            assertThat(c.docVersion()).hasSize(64);
            assertThat(c.embedModel()).startsWith("bge-small-en-v1.5-q@");
            assertThat(c.title()).isEqualTo("Refund policy");
            assertThat(c.ingestedAtMillis()).isPositive();
        }
        assertThat(chunks).anyMatch(c -> c.sectionPath().equals(List.of("Annual plans")));
    }

    @Test
    void reingestingAnUnchangedCorpusEmbedsNothing() {
        long before = keel.embedder().computedCount();
        IngestReport again = ingest(Keel.DEFAULT_TENANT, false, SampleCorpus.DOCS);
        assertThat(again.count(DocumentOutcome.Status.UNCHANGED)).isEqualTo(again.outcomes().size());
        assertThat(keel.embedder().computedCount()).isEqualTo(before);
    }

    @Test
    void aChangedFileReplacesOnlyItsChunksAndEmbedsOnlyNewText(@TempDir Path dir) throws Exception {
        String tenant = "changes";
        Path a = dir.resolve("a.md"), b = dir.resolve("b.md");
        String zebras = "The first fact about zebras is that no two of them share a pattern of stripes. " + LONG_ENOUGH_TO_STAND_ALONE;
        String okapis = "A brand new fact about okapis is that they are giraffes that live in the forest. " + LONG_ENOUGH_TO_STAND_ALONE;
        Files.writeString(a, "# A\n\n## One\n\n" + zebras + "\n\n## Two\n\nThe second fact about zebras. " + LONG_ENOUGH_TO_STAND_ALONE + "\n");
        Files.writeString(b, "# B\n\nNothing changes here about giraffes.\n");
        assertThat(ingest(tenant, false, dir).count(DocumentOutcome.Status.ADDED)).isEqualTo(2);
        long before = keel.embedder().computedCount();
        Files.writeString(a, "# A\n\n## One\n\n" + zebras + "\n\n## Two\n\n" + okapis + "\n");
        IngestReport r = ingest(tenant, false, dir);
        assertThat(r.count(DocumentOutcome.Status.UPDATED)).isEqualTo(1);
        assertThat(r.count(DocumentOutcome.Status.UNCHANGED)).isEqualTo(1);
        assertThat(keel.embedder().computedCount() - before).as("only the changed chunk is embedded").isEqualTo(1);
        assertThat(keel.index().chunks(tenant, Ingestor.fileDocId(a))).extracting(ChunkRecord::body).containsExactly(zebras, okapis);
    }

    @Test
    void deletingADocumentForgetsItsCachedEmbeddings(@TempDir Path dir) throws Exception {
        String tenant = "forget";
        Path doc = dir.resolve("secret.md");
        Files.writeString(doc, "# Secret\n\nThe launch code is hidden in the orange folder.\n");
        ingest(tenant, false, doc);
        assertThat(keel.ingestor().delete(tenant, Ingestor.fileDocId(doc))).isTrue();
        assertThat(keel.index().document(tenant, Ingestor.fileDocId(doc))).isEmpty();
        long before = keel.embedder().computedCount();
        ingest(tenant, false, doc);
        assertThat(keel.embedder().computedCount() - before).as("the deleted text was embedded again, not read from cache").isEqualTo(1);
    }

    /** A policy titled "Policy" whose Contact section is the same text in every variant, plus a section of its own. */
    private static SourceDocument policy(String id, String own) {
        String text = "## Contact\n\nWrite to the privacy office; it answers within five working days. " + LONG_ENOUGH_TO_STAND_ALONE
                + "\n\n## Scope\n\n" + own + " " + LONG_ENOUGH_TO_STAND_ALONE + "\n";
        return new SourceDocument(id, "api:" + id, id + ".md", DocumentFormat.MARKDOWN, text.getBytes(StandardCharsets.UTF_8), 0, Map.of(), "Policy");
    }

    private DocumentOutcome ingest(String tenant, SourceDocument doc) {
        return keel.ingestor().ingest(tenant, doc, keel.traces().start("ingest", tenant));
    }

    @Test
    void deletingADocumentRemovesItsStoredVectorsButKeepsThoseAnotherDocumentUses() {
        String tenant = "shared-chunks";
        long stored = keel.embedder().storedVectors();
        ingest(tenant, policy("hr", "This policy covers staff records."));
        ingest(tenant, policy("it", "This policy covers laptops and accounts."));
        assertThat(keel.embedder().storedVectors() - stored).as("the shared Contact chunk is stored once").isEqualTo(3);

        assertThat(keel.ingestor().delete(tenant, "hr")).isTrue();
        assertThat(keel.embedder().storedVectors() - stored).as("hr's own chunk is gone, the shared one stays").isEqualTo(2);
        long computed = keel.embedder().computedCount();
        ingest(tenant, policy("hr", "This policy covers staff records."));
        assertThat(keel.embedder().computedCount() - computed).as("only hr's own chunk is embedded again").isEqualTo(1);
    }

    @Test
    void anUpdateRemovesTheStoredVectorsOfChunksThatAreGone() {
        String tenant = "updated-chunks";
        long stored = keel.embedder().storedVectors();
        ingest(tenant, policy("travel", "This policy covers trains."));
        assertThat(ingest(tenant, policy("travel", "This policy covers planes.")).status()).isEqualTo(DocumentOutcome.Status.UPDATED);
        assertThat(keel.embedder().storedVectors() - stored).isEqualTo(2);
    }

    @Test
    void tenantsNeverShareStoredVectors() {
        long stored = keel.embedder().storedVectors();
        ingest("store-a", policy("same", "This policy covers everything."));
        long computed = keel.embedder().computedCount();
        ingest("store-b", policy("same", "This policy covers everything."));
        assertThat(keel.embedder().computedCount() - computed).as("tenant b's identical chunks are embedded for b").isEqualTo(2);
        assertThat(keel.ingestor().delete("store-a", "same")).isTrue();
        assertThat(keel.embedder().storedVectors() - stored).as("b's vectors outlive a's delete").isEqualTo(2);
    }

    @Test
    void foldersSkipUnsupportedFilesAndSayHowMany(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.md"), "# A\n\nAlpha.\n");
        Files.writeString(dir.resolve("data.csv"), "a,b\n");
        Files.writeString(dir.resolve("more.csv"), "c,d\n");
        IngestReport r = ingest("skips", false, dir);
        assertThat(r.failures()).isEmpty();
        assertThat(r.skipped()).containsEntry(".csv", 2);
    }

    @Test
    void syncDeletesDocumentsWhoseFilesAreGone(@TempDir Path dir) throws Exception {
        String tenant = "sync";
        Path keep = dir.resolve("keep.md"), gone = dir.resolve("gone.md");
        Files.writeString(keep, "# Keep\n\nThis stays.\n");
        Files.writeString(gone, "# Gone\n\nThis goes away.\n");
        ingest(tenant, true, dir);
        Files.delete(gone);
        IngestReport r = ingest(tenant, true, dir);
        assertThat(r.count(DocumentOutcome.Status.DELETED)).isEqualTo(1);
        assertThat(keel.index().document(tenant, Ingestor.fileDocId(gone))).isEmpty();
        assertThat(keel.index().document(tenant, Ingestor.fileDocId(keep))).isPresent();
    }

    @Test
    void failuresAreReportedWithReasonsAndNothingHalfIndexed(@TempDir Path dir) throws Exception {
        String tenant = "failures";
        Path empty = dir.resolve("empty.md"), odd = dir.resolve("tool.exe"), broken = dir.resolve("broken.pdf");
        Files.writeString(empty, "  \n");
        Files.writeString(odd, "MZ");
        Files.writeString(broken, "%PDF-1.4 garbage");
        IngestReport r = ingest(tenant, false, empty, odd, broken);
        assertThat(r.failures()).hasSize(3);
        assertThat(r.failures()).extracting(DocumentOutcome::error).anyMatch(e -> e.contains("empty.md") && e.contains("no text"))
                .anyMatch(e -> e.contains(".exe") && e.contains("unsupported")).anyMatch(e -> e.contains("broken.pdf"));
        assertThat(keel.index().documents(tenant, 0, 10)).isEmpty();
    }

    /** Runs {@code writers} ingests of {@code docFor(i)} in tenant-chosen-by-caller at once (released together by a latch). */
    private List<DocumentOutcome> ingestAtOnce(int writers, java.util.function.IntFunction<String> tenantFor,
                                               java.util.function.IntFunction<SourceDocument> docFor) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<DocumentOutcome>> futures = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                int n = i;
                futures.add(pool.submit(() -> {
                    start.await();
                    return keel.ingestor().ingest(tenantFor.apply(n), docFor.apply(n), keel.traces().start("ingest", tenantFor.apply(n)));
                }));
            }
            start.countDown();
            List<DocumentOutcome> out = new ArrayList<>();
            for (Future<DocumentOutcome> f : futures) out.add(f.get(120, TimeUnit.SECONDS));
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static SourceDocument note(String id, String text) {
        return new SourceDocument(id, "api:" + id, id + ".md", DocumentFormat.MARKDOWN, text.getBytes(StandardCharsets.UTF_8), 0, Map.of(), null);
    }

    @Test
    void concurrentWritesOfOneDocumentAddItOnceAndSeeEachOther() throws Exception {
        List<DocumentOutcome> outcomes = ingestAtOnce(20, i -> "same-id", i -> note("shared", "# Shared\n\nVersion " + (i % 3) + " of the note."));
        assertThat(outcomes).filteredOn(o -> o.status() == DocumentOutcome.Status.ADDED).hasSize(1);
        assertThat(outcomes).extracting(DocumentOutcome::status)
                .isSubsetOf(DocumentOutcome.Status.ADDED, DocumentOutcome.Status.UPDATED, DocumentOutcome.Status.UNCHANGED);
        String version = keel.index().document("same-id", "shared").orElseThrow().version();
        assertThat(keel.index().chunks("same-id", "shared")).singleElement().matches(c -> c.docVersion().equals(version));
    }

    @Test
    void concurrentWritesOfOneIdInDifferentTenantsAreEachAddedOnce() throws Exception {
        List<DocumentOutcome> outcomes = ingestAtOnce(20, i -> "tenant-" + (i % 2), i -> note("same", "# Same\n\nThe same note in tenant " + (i % 2) + "."));
        for (String tenant : List.of("tenant-0", "tenant-1")) {
            assertThat(keel.index().chunks(tenant, "same")).singleElement().matches(c -> c.body().endsWith("tenant " + tenant.charAt(7) + "."));
        }
        assertThat(outcomes).filteredOn(o -> o.status() == DocumentOutcome.Status.ADDED).hasSize(2);
        assertThat(outcomes).filteredOn(o -> o.status() == DocumentOutcome.Status.UNCHANGED).hasSize(18);
    }

    @Test
    void aSecondVersionOfADocumentInOneRunIsWrittenAfterTheFirst() {
        String tenant = "twice-in-one-run";
        IngestReport r = keel.ingestor().ingestDocuments(tenant, List.of(note("n", "# N\n\nFirst."), note("n", "# N\n\nSecond.")),
                keel.traces().start("ingest", tenant), IngestListener.NONE);
        assertThat(r.outcomes()).extracting(DocumentOutcome::status).containsExactly(DocumentOutcome.Status.ADDED, DocumentOutcome.Status.UPDATED);
        assertThat(keel.index().chunks(tenant, "n")).extracting(ChunkRecord::body).containsExactly("Second.");
    }

    @Test
    void concurrentIngestAndSearchesAreSafe(@TempDir Path dir) throws Exception {
        String tenant = "concurrent";
        for (int i = 0; i < 20; i++) Files.writeString(dir.resolve("doc" + i + ".md"), "# Doc " + i + "\n\nPenguin fact number " + i + ".\n");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<IngestReport> writer = pool.submit(() -> ingest(tenant, false, dir));
            List<Future<Integer>> readers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                readers.add(pool.submit(() -> {
                    int seen = 0;
                    while (!writer.isDone()) {
                        seen = Math.max(seen, keel.answers().search(tenant, "penguin fact", SearchMode.HYBRID, 50, SearchConfig.DEFAULTS,
                                SearchFilters.NONE, false, keel.traces().start("s", tenant)).hits().size());
                    }
                    return seen;
                }));
            }
            assertThat(writer.get().failures()).isEmpty();
            for (Future<Integer> r : readers) assertThat(r.get()).isLessThanOrEqualTo(20);
            assertThat(keel.answers().search(tenant, "penguin fact", SearchMode.HYBRID, 50, SearchConfig.DEFAULTS, SearchFilters.NONE, false,
                    keel.traces().start("s", tenant)).hits()).hasSize(20);
        } finally {
            pool.shutdownNow();
        }
    }
}
