package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.config.ChunkingConfig;
import dev.keel.config.IngestConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.apache.poi.xwpf.usermodel.XWPFParagraph;
import org.junit.jupiter.api.Test;

class DocumentParsersTest {
    private final DocumentParsers parsers = new DocumentParsers(IngestConfig.DEFAULTS);

    /** Limits small enough to reach in a test: {@code maxChunks} chunks of 16 tokens, {@code maxSections} headings. */
    private static DocumentParsers limitedTo(int maxSections, int maxChunks) {
        return new DocumentParsers(new IngestConfig(new ChunkingConfig(ChunkingConfig.Strategy.STRUCTURAL, 16, 0, 0), 1 << 20, 64,
                maxSections, maxChunks));
    }

    private ParsedDocument parse(DocumentFormat f, String text, String name) {
        return parsers.parse(f, text.getBytes(StandardCharsets.UTF_8), name);
    }

    @Test
    void markdownKeepsHeadingPathsTablesAndTitle() {
        ParsedDocument doc = parse(DocumentFormat.MARKDOWN, """
                # Pricing

                ## Plans

                ### Team

                | Plan | Price |
                |---|---|
                | Team | $299 |

                - one
                - two
                """, "pricing.md");
        assertThat(doc.title()).isEqualTo("Pricing");
        assertThat(doc.blocks()).extracting(ParsedDocument.Block::headings).allMatch(h -> h.equals(List.of("Plans", "Team")));
        assertThat(doc.blocks()).extracting(ParsedDocument.Block::text).contains("Plan: Team; Price: $299", "- one\n- two");
    }

    @Test
    void markdownFrontMatterTitleWins() {
        ParsedDocument doc = parse(DocumentFormat.MARKDOWN, "---\ntitle: \"Real title\"\n---\n# Heading\n\nBody.\n", "x.md");
        assertThat(doc.title()).isEqualTo("Real title");
    }

    @Test
    void htmlDropsNavigationAndKeepsMainContentWithHeadings() throws Exception {
        byte[] html = Files.readAllBytes(Path.of("samples/docs/integrations-hubspot.html"));
        ParsedDocument doc = parsers.parse(DocumentFormat.HTML, html, "integrations-hubspot.html");
        assertThat(doc.title()).isEqualTo("HubSpot integration · Orbitly Docs");
        String all = String.join("\n", doc.blocks().stream().map(ParsedDocument.Block::text).toList());
        assertThat(all).contains("Sync interval").doesNotContain("Search the docs").doesNotContain("Privacy").doesNotContain("window.analytics");
        assertThat(doc.blocks()).anyMatch(b -> b.headings().contains("Syncing cohorts") && b.text().contains("every hour"));
    }

    @Test
    void pdfTextAndTitleComeThroughTika() throws Exception {
        byte[] pdf = Files.readAllBytes(Path.of("samples/docs/security-whitepaper.pdf"));
        ParsedDocument doc = parsers.parse(DocumentFormat.PDF, pdf, "security-whitepaper.pdf");
        assertThat(doc.title()).isEqualTo("Orbitly Enterprise Security Whitepaper");
        String all = String.join(" ", doc.blocks().stream().map(ParsedDocument.Block::text).toList());
        assertThat(all).contains("recovery time objective (RTO) is 4 hours");
    }

    @Test
    void docxParagraphsAndHeadingStylesAreRead() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (XWPFDocument docx = new XWPFDocument()) {
            XWPFParagraph p = docx.createParagraph();
            p.createRun().setText("Travel policy");
            XWPFParagraph body = docx.createParagraph();
            body.createRun().setText("Employees book economy class for flights under six hours.");
            docx.write(out);
        }
        ParsedDocument doc = parsers.parse(DocumentFormat.DOCX, out.toByteArray(), "policy.docx");
        String all = String.join(" ", doc.blocks().stream().map(ParsedDocument.Block::text).toList());
        assertThat(all).contains("Travel policy").contains("economy class for flights under six hours");
    }

    @Test
    void aDocxOfThousandsOfTinySectionsBecomesChunksNearTheTargetSize() {
        byte[] docx = Docx.tinySections(10_000);
        ParsedDocument doc = parsers.parse(DocumentFormat.DOCX, docx, "catalogue.docx");
        assertThat(doc.blocks()).hasSize(10_000);
        List<Chunker.Draft> chunks = new Chunker(ChunkingConfig.DEFAULTS).chunk(doc);
        assertThat(chunks.size()).as("%d-byte docx; about 10 tokens a section, 400 a chunk", docx.length).isLessThan(300);
    }

    @Test
    void aHeadingLongerThanTheTitleLimitIsReadAsBodyText() {
        String giant = "Quarterly report ".repeat(40).strip();
        ParsedDocument doc = parse(DocumentFormat.MARKDOWN, "# " + giant + "\n\nRevenue grew.\n", "report.md");
        assertThat(doc.title()).isEqualTo("report");
        assertThat(doc.blocks()).extracting(ParsedDocument.Block::text).containsExactly(giant, "Revenue grew.");
        assertThat(doc.blocks()).extracting(ParsedDocument.Block::headings).containsOnly(List.of());
    }

    @Test
    void moreHeadingsThanTheSectionLimitFailNamingTheLimitAndItsKey() {
        String md = "## Part\n\nText.\n\n".repeat(101);
        assertThatThrownBy(() -> limitedTo(100, 1_000).parse(DocumentFormat.MARKDOWN, md.getBytes(StandardCharsets.UTF_8), "parts.md"))
                .isInstanceOf(DocumentTooLargeException.class).hasMessageContaining("100 sections").hasMessageContaining("ingest.max_sections_per_document");
    }

    @Test
    void textThatOutgrowsTheChunkLimitFailsWhileParsingNotAfter() {
        StringBuilder table = new StringBuilder("|" + "A very long column header that every row repeats|".repeat(20) + "\n|" + "-|".repeat(20) + "\n");
        for (int row = 0; row < 1_000; row++) table.append("|").append("x|".repeat(20)).append("\n");
        assertThatThrownBy(() -> limitedTo(100, 10).parse(DocumentFormat.MARKDOWN, table.toString().getBytes(StandardCharsets.UTF_8), "t.md"))
                .isInstanceOf(DocumentTooLargeException.class).hasMessageContaining("more than 10 chunks").hasMessageContaining("ingest.max_chunks_per_document");
    }

    @Test
    void deeplyNestedHtmlIsReadWithoutRecursion() {
        String html = "<html><body>" + "<div>".repeat(100_000) + "deep text" + "</div>".repeat(100_000) + "</body></html>";
        assertThat(parse(DocumentFormat.HTML, html, "deep.html").blocks()).extracting(ParsedDocument.Block::text).containsExactly("deep text");
    }

    @Test
    void markdownNestedTooDeeplyToParseIsUnparsableNotACrash() {
        assertThatThrownBy(() -> parse(DocumentFormat.MARKDOWN, ">".repeat(100_000) + " deep\n", "deep.md"))
                .isInstanceOf(DocumentParseException.class).hasMessageContaining("deep.md").hasMessageContaining("100000 levels deep");
    }

    @Test
    void deeplyNestedListsAreRefusedBeforeTheParserSpendsQuadraticTimeOnThem() {
        assertThatThrownBy(() -> parse(DocumentFormat.MARKDOWN, "- ".repeat(500_000) + "x\n", "lists.md"))
                .isInstanceOf(DocumentParseException.class).hasMessageContaining("lists.md").hasMessageContaining("at most 64");
        assertThatThrownBy(() -> parse(DocumentFormat.MARKDOWN, "1. ".repeat(100) + "x\n", "ordered.md")).isInstanceOf(DocumentParseException.class);
    }

    @Test
    void listsNestedAsDocumentsNestThemAreRead() {
        String nested = "# Steps\n\n- one\n  - two\n    - three: the deepest step\n> quoted\n> > twice quoted\n1. first\n2. second\n";
        assertThat(MarkdownParser.deepestNesting(nested)).isEqualTo(2);
        assertThat(parse(DocumentFormat.MARKDOWN, nested, "steps.md").isEmpty()).isFalse();
    }

    @Test
    void aDocxDecompressionBombIsRefusedAsTooLarge() {
        byte[] bomb = Docx.repeatedBody("<w:p><w:r><w:t>aaaaaaaa bbbbbbbbb</w:t></w:r></w:p>", 200_000);
        assertThatThrownBy(() -> parsers.parse(DocumentFormat.DOCX, bomb, "bomb.docx"))
                .isInstanceOf(DocumentTooLargeException.class).hasMessageContaining("decompression bomb");
    }

    @Test
    void aDocxPartTooLargeToReadIsRefusedAsTooLarge() {
        byte[] bomb = Docx.repeatedBody("<w:p><w:r><w:t>aaaaaaaa bbbbbbbbb</w:t></w:r></w:p>", 2_500_000);
        assertThatThrownBy(() -> parsers.parse(DocumentFormat.DOCX, bomb, "bomb.docx"))
                .isInstanceOf(DocumentTooLargeException.class).hasMessageContaining("too large once decompressed").hasMessageNotContaining("IOUtils");
    }

    @Test
    void aDocxWhoseTextOutgrowsTheChunkLimitIsRefusedWhileExtracting() {
        Random random = new Random(7);
        StringBuilder words = new StringBuilder();
        for (int i = 0; i < 2_000; i++) words.append(Integer.toString(random.nextInt(1 << 30), 36)).append(' ');
        byte[] docx = Docx.repeatedBody("<w:p><w:r><w:t>" + words + "</w:t></w:r></w:p>", 1);
        assertThatThrownBy(() -> limitedTo(100, 10).parse(DocumentFormat.DOCX, docx, "words.docx"))
                .isInstanceOf(DocumentTooLargeException.class).hasMessageContaining("characters").hasMessageContaining("ingest.max_chunks_per_document");
    }

    @Test
    void aPdfOfManySingleCharacterPagesPacksIntoFewChunks() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PDDocument pdf = new PDDocument()) {
            PDType1Font font = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
            for (int i = 0; i < 2_000; i++) {
                PDPage page = new PDPage();
                pdf.addPage(page);
                try (PDPageContentStream text = new PDPageContentStream(pdf, page)) {
                    text.beginText();
                    text.setFont(font, 12);
                    text.newLineAtOffset(100, 700);
                    text.showText("a");
                    text.endText();
                }
            }
            pdf.save(out);
        }
        ParsedDocument doc = parsers.parse(DocumentFormat.PDF, out.toByteArray(), "pages.pdf");
        assertThat(new Chunker(ChunkingConfig.DEFAULTS).chunk(doc).size()).isLessThan(20);
    }

    @Test
    void emptyDocumentFailsNamingTheFile() {
        assertThatThrownBy(() -> parse(DocumentFormat.MARKDOWN, "   \n\n", "empty.md"))
                .isInstanceOf(DocumentParseException.class).hasMessageContaining("empty.md").hasMessageContaining("no text");
    }

    @Test
    void corruptPdfFailsNamingTheFileAndTheReason() {
        assertThatThrownBy(() -> parse(DocumentFormat.PDF, "%PDF-1.7 this is not really a pdf", "broken.pdf"))
                .isInstanceOf(DocumentParseException.class).hasMessageContaining("broken.pdf").hasMessageContaining("not a valid PDF")
                .message().doesNotContain("org.").doesNotContain("Exception").doesNotContain("pdfbox");
        assertThatThrownBy(() -> parse(DocumentFormat.DOCX, "PK this is not really a docx", "broken.docx"))
                .isInstanceOf(DocumentParseException.class).message().doesNotContain("org.").doesNotContain("Exception").doesNotContain("poi");
    }

    @Test
    void formatsAreRecognisedByExtensionAndMediaType() {
        assertThat(DocumentFormat.ofFileName("A.MD")).contains(DocumentFormat.MARKDOWN);
        assertThat(DocumentFormat.ofFileName("x.exe")).isEmpty();
        assertThat(DocumentFormat.ofMediaType("application/pdf; charset=binary")).contains(DocumentFormat.PDF);
    }
}
