package dev.keel.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.apache.poi.xwpf.usermodel.XWPFParagraph;
import org.junit.jupiter.api.Test;

class DocumentParsersTest {
    private final DocumentParsers parsers = new DocumentParsers();

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
    void emptyDocumentFailsNamingTheFile() {
        assertThatThrownBy(() -> parse(DocumentFormat.MARKDOWN, "   \n\n", "empty.md"))
                .isInstanceOf(DocumentParseException.class).hasMessageContaining("empty.md").hasMessageContaining("no text");
    }

    @Test
    void corruptPdfFailsNamingTheFileAndTheReason() {
        assertThatThrownBy(() -> parse(DocumentFormat.PDF, "%PDF-1.7 this is not really a pdf", "broken.pdf"))
                .isInstanceOf(DocumentParseException.class).hasMessageContaining("broken.pdf");
    }

    @Test
    void formatsAreRecognisedByExtensionAndMediaType() {
        assertThat(DocumentFormat.ofFileName("A.MD")).contains(DocumentFormat.MARKDOWN);
        assertThat(DocumentFormat.ofFileName("x.exe")).isEmpty();
        assertThat(DocumentFormat.ofMediaType("application/pdf; charset=binary")).contains(DocumentFormat.PDF);
    }
}
