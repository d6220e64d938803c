package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.ChunkingConfig;
import dev.keel.config.IngestConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkerTest {
    private static final DocumentParsers PARSERS = new DocumentParsers(IngestConfig.DEFAULTS);

    private static ParsedDocument md(String markdown) {
        return PARSERS.parse(DocumentFormat.MARKDOWN, markdown.getBytes(StandardCharsets.UTF_8), "doc.md");
    }

    private static String sentences(int n, String topic) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append("The ").append(topic).append(" rule number ").append(i).append(" says something specific about limits. ");
        return sb.toString();
    }

    @Test
    void structuralKeepsSectionsApartAndRecordsTheirPath() {
        ParsedDocument doc = md("# Guide\n\n## Billing\n\nPay by card.\n\n## Refunds\n\nAsk within 30 days.\n");
        List<Chunker.Draft> chunks = new Chunker(new ChunkingConfig(ChunkingConfig.Strategy.STRUCTURAL, 400, 50, 0)).chunk(doc);
        assertThat(chunks).extracting(Chunker.Draft::section).containsExactly(List.of("Billing"), List.of("Refunds"));
        assertThat(chunks).extracting(Chunker.Draft::body).containsExactly("Pay by card.", "Ask within 30 days.");
    }

    @Test
    void consecutiveSmallSectionsArePackedUnderTheirSharedPathWithTheirHeadings() {
        ParsedDocument doc = md("# Guide\n\n## Payments\n\n### Cards\n\nPay by card.\n\n### Invoices\n\nAsk for an invoice.\n\n"
                + "## Refunds\n\nAsk within 30 days.\n");
        List<Chunker.Draft> chunks = new Chunker(ChunkingConfig.DEFAULTS).chunk(doc);
        assertThat(chunks).hasSize(1);
        assertThat(chunks.get(0).section()).isEmpty();
        assertThat(chunks.get(0).body()).isEqualTo("Cards\nPay by card.\nInvoices\nAsk for an invoice.\nRefunds\nAsk within 30 days.");
    }

    @Test
    void smallSectionsKeepTheDeepestPathTheyShare() {
        ParsedDocument doc = md("# Guide\n\n## Payments\n\n### Cards\n\nPay by card.\n\n### Invoices\n\nAsk for an invoice.\n");
        List<Chunker.Draft> chunks = new Chunker(ChunkingConfig.DEFAULTS).chunk(doc);
        assertThat(chunks).singleElement().extracting(Chunker.Draft::section).isEqualTo(List.of("Payments"));
    }

    @Test
    void aSectionOfAtLeastMinTokensStaysItsOwnChunkBetweenSmallOnes() {
        ParsedDocument doc = md("# T\n\n## A\n\nTiny.\n\n## B\n\n" + sentences(4, "billing") + "\n\n## C\n\nAlso tiny.\n");
        List<Chunker.Draft> chunks = new Chunker(ChunkingConfig.DEFAULTS).chunk(doc);
        assertThat(chunks).extracting(Chunker.Draft::section).containsExactly(List.of("A"), List.of("B"), List.of("C"));
    }

    @Test
    void thousandsOfTinySectionsBecomeChunksNearTheTargetSize() {
        StringBuilder catalogue = new StringBuilder("# Catalogue\n\n");
        for (int i = 0; i < 5_000; i++) catalogue.append("## Item ").append(i).append("\n\nValue ").append(i).append(".\n\n");
        List<Chunker.Draft> chunks = new Chunker(ChunkingConfig.DEFAULTS).chunk(md(catalogue.toString()));
        assertThat(chunks.size()).as("about 10 tokens a section, 400 a chunk; not one chunk per section").isLessThan(150);
        for (Chunker.Draft c : chunks) assertThat(Tokens.count(c.body())).isLessThanOrEqualTo(ChunkingConfig.DEFAULTS.maxTokens());
        assertThat(chunks.get(0).body()).startsWith("Item 0\nValue 0.\nItem 1\nValue 1.");
    }

    @Test
    void longSectionsSplitUnderTheTokenLimitWithSentenceOverlap() {
        ChunkingConfig cfg = new ChunkingConfig(ChunkingConfig.Strategy.STRUCTURAL, 60, 20, 0);
        ParsedDocument doc = md("# T\n\n## Limits\n\n" + sentences(30, "limit") + "\n");
        List<Chunker.Draft> chunks = new Chunker(cfg).chunk(doc);
        assertThat(chunks.size()).isGreaterThan(3);
        for (Chunker.Draft c : chunks) assertThat(Tokens.count(c.body())).isLessThanOrEqualTo(60);
        for (int i = 1; i < chunks.size(); i++) {
            List<String> previous = Sentences.split(chunks.get(i - 1).body());
            String lastOfPrevious = previous.get(previous.size() - 1);
            assertThat(chunks.get(i).body()).as("chunk %d starts with the overlap", i).startsWith(lastOfPrevious);
        }
    }

    @Test
    void aSentenceLongerThanTheLimitIsCutIntoTokenWindows() {
        ChunkingConfig cfg = new ChunkingConfig(ChunkingConfig.Strategy.STRUCTURAL, 32, 4, 0);
        String giant = "word ".repeat(300).trim();
        List<Chunker.Draft> chunks = new Chunker(cfg).chunk(md(giant));
        assertThat(chunks.size()).isGreaterThan(8);
        for (Chunker.Draft c : chunks) assertThat(Tokens.count(c.body())).isLessThanOrEqualTo(32);
    }

    @Test
    void fixedWindowsOverlapByTheConfiguredTokens() {
        ChunkingConfig cfg = new ChunkingConfig(ChunkingConfig.Strategy.FIXED, 50, 10, 0);
        List<Chunker.Draft> chunks = new Chunker(cfg).chunk(md(sentences(20, "fixed")));
        assertThat(chunks.size()).isGreaterThan(2);
        int total = Tokens.count(md(sentences(20, "fixed")).blocks().get(0).text());
        assertThat(chunks.size()).isEqualTo((int) Math.ceil((total - 10) / 40.0));
    }

    @Test
    void recursivePacksAcrossSectionsUpToTheLimit() {
        ChunkingConfig cfg = new ChunkingConfig(ChunkingConfig.Strategy.RECURSIVE, 400, 50, 0);
        ParsedDocument doc = md("# T\n\n## A\n\nFirst part.\n\n## B\n\nSecond part.\n");
        List<Chunker.Draft> chunks = new Chunker(cfg).chunk(doc);
        assertThat(chunks).hasSize(1);
        assertThat(chunks.get(0).body()).isEqualTo("First part.\nSecond part.");
        assertThat(chunks.get(0).section()).isEqualTo(List.of("A"));
    }

    @Test
    void chunkingIsDeterministic() {
        ParsedDocument doc = md("# T\n\n" + sentences(80, "det"));
        Chunker chunker = new Chunker(new ChunkingConfig(ChunkingConfig.Strategy.STRUCTURAL, 100, 20, 32));
        assertThat(chunker.chunk(doc)).isEqualTo(new ArrayList<>(chunker.chunk(doc)));
    }

    @Test
    void sentenceSplitterKeepsAbbreviationsTogether() {
        assertThat(Sentences.split("Use a key, e.g. a write key. Then send it.")).containsExactly("Use a key, e.g. a write key.", "Then send it.");
    }
}
