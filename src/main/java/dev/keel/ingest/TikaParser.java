package dev.keel.ingest;

import java.io.ByteArrayInputStream;
import org.apache.tika.exception.EncryptedDocumentException;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.metadata.TikaCoreProperties;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.parser.Parser;
import org.apache.tika.parser.microsoft.ooxml.OOXMLParser;
import org.apache.tika.parser.pdf.PDFParser;
import org.apache.tika.sax.ToXMLContentHandler;

/**
 * PDF and DOCX through Apache Tika's format parsers (chosen by the declared format, not guessed from
 * the bytes, so a file that is not what its name says fails); Tika's XHTML keeps DOCX heading
 * styles as h1..h6. Thread-safe.
 */
final class TikaParser {
    private final Parser pdf = new PDFParser();
    private final Parser docx = new OOXMLParser();
    private final HtmlParser html;

    TikaParser(HtmlParser html) {
        this.html = html;
    }

    ParsedDocument parse(DocumentFormat format, byte[] content, String fileName) {
        Parser tika = format == DocumentFormat.PDF ? pdf : docx;
        Metadata meta = new Metadata();
        meta.set(TikaCoreProperties.RESOURCE_NAME_KEY, fileName);
        ToXMLContentHandler handler = new ToXMLContentHandler();
        try {
            tika.parse(new ByteArrayInputStream(content), handler, meta, new ParseContext());
        } catch (EncryptedDocumentException e) {
            throw new DocumentParseException(fileName + ": the document is encrypted or password-protected", e);
        } catch (Exception e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (e.getCause() != null && e.getCause().getMessage() != null) reason += " (" + e.getCause().getMessage() + ")";
            throw new DocumentParseException(fileName + ": cannot parse: " + reason, e);
        }
        ParsedDocument doc = html.parse(handler.toString(), fallback(fileName));
        String title = meta.get(TikaCoreProperties.TITLE);
        return title == null || title.isBlank() ? doc : new ParsedDocument(TextNormalizer.inline(title), doc.blocks());
    }

    private static String fallback(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot > 0 ? fileName.substring(0, dot) : fileName;
    }
}
