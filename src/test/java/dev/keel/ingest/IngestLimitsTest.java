package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.Keel;
import dev.keel.SampleCorpus;
import dev.keel.config.ChunkingConfig;
import dev.keel.config.IngestConfig;
import dev.keel.index.DocumentRecord;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A document over an ingest limit is refused whole, naming the limit; a long title is cut, not refused. */
class IngestLimitsTest {
    private static final int MAX_SECTIONS = 20, MAX_CHUNKS = 3;
    private final Keel keel = SampleCorpus.keel();
    private final Ingestor ingestor = new Ingestor(keel.index(), keel.embedder(),
            new IngestConfig(ChunkingConfig.DEFAULTS, 1 << 20, 512, MAX_SECTIONS, MAX_CHUNKS), 32, keel.guard());

    private static SourceDocument markdown(String id, String text, String title) {
        return new SourceDocument(id, "api:" + id, id + ".md", DocumentFormat.MARKDOWN, text.getBytes(StandardCharsets.UTF_8), 0, Map.of(), title);
    }

    private DocumentOutcome ingest(String tenant, SourceDocument doc) {
        return ingestor.ingest(tenant, doc, keel.traces().start("ingest", tenant));
    }

    private static String sections(int n) {
        StringBuilder md = new StringBuilder("# Handbook\n\n");
        for (int i = 0; i < n; i++) {
            md.append("## Rule ").append(i).append("\n\n");
            md.append("Rule ").append(i).append(" says that every request must carry a key, a tenant and a budget that the gateway checks first. ")
                    .append("A request without them is refused before any provider is called, and the refusal names what is missing.\n\n");
        }
        return md.toString();
    }

    @Test
    void aDocumentWithMoreSectionsThanTheLimitIsRefusedAndItsPreviousVersionStays() {
        String tenant = "limits-sections";
        assertThat(ingest(tenant, markdown("handbook", sections(2), null)).status()).isEqualTo(DocumentOutcome.Status.ADDED);
        DocumentRecord before = keel.index().document(tenant, "handbook").orElseThrow();

        DocumentOutcome refused = ingest(tenant, markdown("handbook", sections(MAX_SECTIONS + 1), null));
        assertThat(refused.status()).isEqualTo(DocumentOutcome.Status.FAILED);
        assertThat(refused.errorKind()).isEqualTo(DocumentOutcome.ErrorKind.TOO_LARGE);
        assertThat(refused.error()).contains("handbook.md").contains(MAX_SECTIONS + " sections").contains("ingest.max_sections_per_document");
        assertThat(keel.index().document(tenant, "handbook")).contains(before);
        assertThat(keel.index().chunks(tenant, "handbook")).hasSize(before.chunkCount());
    }

    @Test
    void aDocumentNeedingMoreChunksThanTheLimitIsRefusedBeforeAnythingIsEmbedded() {
        String tenant = "limits-chunks";
        long embedded = keel.embedder().computedCount();
        DocumentOutcome refused = ingest(tenant, markdown("rules", sections(MAX_CHUNKS + 1), null));
        assertThat(refused.errorKind()).isEqualTo(DocumentOutcome.ErrorKind.TOO_LARGE);
        assertThat(refused.error()).contains("more than " + MAX_CHUNKS + " chunks").contains("ingest.max_chunks_per_document");
        assertThat(keel.embedder().computedCount()).isEqualTo(embedded);
        assertThat(keel.index().document(tenant, "rules")).isEmpty();
    }

    @Test
    void aTitleLongerThanTheLimitIsCutToItWithAnEllipsis() {
        String tenant = "limits-title";
        String giant = "Annual report ".repeat(12_000);
        DocumentOutcome added = ingest(tenant, markdown("report", "# Report\n\nRevenue grew by a tenth.\n", giant));
        assertThat(added.status()).isEqualTo(DocumentOutcome.Status.ADDED);
        String title = keel.index().document(tenant, "report").orElseThrow().title();
        assertThat(title).hasSizeBetween(500, 512).endsWith("…").startsWith("Annual report Annual report");
        assertThat(keel.index().chunks(tenant, "report")).allMatch(c -> c.title().equals(title));
    }
}
