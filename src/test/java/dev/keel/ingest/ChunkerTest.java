package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.config.ChunkingConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkerTest {
    private static final MarkdownParser MD = new MarkdownParser();

    private static String sentences(int n, String topic) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append("The ").append(topic).append(" rule number ").append(i).append(" says something specific about limits. ");
        return sb.toString();
    }

    @Test
    void structuralKeepsSectionsApartAndRecordsTheirPath() {
        ParsedDocument doc = MD.parse("# Guide\n\n## Billing\n\nPay by card.\n\n## Refunds\n\nAsk within 30 days.\n", "guide");
        List<Chunker.Draft> chunks = new Chunker(ChunkingConfig.DEFAULTS).chunk(doc);
        assertThat(chunks).extracting(Chunker.Draft::section).containsExactly(List.of("Billing"), List.of("Refunds"));
        assertThat(chunks).extracting(Chunker.Draft::body).containsExactly("Pay by card.", "Ask within 30 days.");
    }

    @Test
    void longSectionsSplitUnderTheTokenLimitWithSentenceOverlap() {
        ChunkingConfig cfg = new ChunkingConfig(ChunkingConfig.Strategy.STRUCTURAL, 60, 20);
        ParsedDocument doc = MD.parse("# T\n\n## Limits\n\n" + sentences(30, "limit") + "\n", "t");
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
        ChunkingConfig cfg = new ChunkingConfig(ChunkingConfig.Strategy.STRUCTURAL, 32, 4);
        String giant = "word ".repeat(300).trim();
        List<Chunker.Draft> chunks = new Chunker(cfg).chunk(MD.parse(giant, "g"));
        assertThat(chunks.size()).isGreaterThan(8);
        for (Chunker.Draft c : chunks) assertThat(Tokens.count(c.body())).isLessThanOrEqualTo(32);
    }

    @Test
    void fixedWindowsOverlapByTheConfiguredTokens() {
        ChunkingConfig cfg = new ChunkingConfig(ChunkingConfig.Strategy.FIXED, 50, 10);
        List<Chunker.Draft> chunks = new Chunker(cfg).chunk(MD.parse(sentences(20, "fixed"), "f"));
        assertThat(chunks.size()).isGreaterThan(2);
        int total = Tokens.count(MD.parse(sentences(20, "fixed"), "f").blocks().get(0).text());
        assertThat(chunks.size()).isEqualTo((int) Math.ceil((total - 10) / 40.0));
    }

    @Test
    void recursivePacksAcrossSectionsUpToTheLimit() {
        ChunkingConfig cfg = new ChunkingConfig(ChunkingConfig.Strategy.RECURSIVE, 400, 50);
        ParsedDocument doc = MD.parse("# T\n\n## A\n\nFirst part.\n\n## B\n\nSecond part.\n", "t");
        List<Chunker.Draft> chunks = new Chunker(cfg).chunk(doc);
        assertThat(chunks).hasSize(1);
        assertThat(chunks.get(0).body()).isEqualTo("First part.\nSecond part.");
        assertThat(chunks.get(0).section()).isEqualTo(List.of("A"));
    }

    @Test
    void chunkingIsDeterministic() {
        ParsedDocument doc = MD.parse("# T\n\n" + sentences(80, "det"), "t");
        Chunker chunker = new Chunker(new ChunkingConfig(ChunkingConfig.Strategy.STRUCTURAL, 100, 20));
        assertThat(chunker.chunk(doc)).isEqualTo(new ArrayList<>(chunker.chunk(doc)));
    }

    @Test
    void sentenceSplitterKeepsAbbreviationsTogether() {
        assertThat(Sentences.split("Use a key, e.g. a write key. Then send it.")).containsExactly("Use a key, e.g. a write key.", "Then send it.");
    }
}
