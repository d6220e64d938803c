package dev.keel.ingest;

import dev.keel.config.IngestConfig;
import org.apache.poi.util.RecordFormatException;
import org.apache.tika.exception.EncryptedDocumentException;
import org.apache.tika.exception.TikaException;
import org.apache.tika.exception.WriteLimitReachedException;
import org.apache.tika.io.TikaInputStream;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.metadata.TikaCoreProperties;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.parser.Parser;
import org.apache.tika.parser.microsoft.OfficeParserConfig;
import org.apache.tika.parser.microsoft.ooxml.OOXMLParser;
import org.apache.tika.parser.pdf.PDFParser;
import org.apache.tika.sax.SecureContentHandler;
import org.apache.tika.sax.ToXMLContentHandler;
import org.apache.tika.sax.WriteOutContentHandler;
import org.xml.sax.SAXException;

/**
 * PDF and DOCX through Apache Tika's format parsers (chosen by the declared format, not guessed from
 * the bytes, so a file that is not what its name says fails); Tika's XHTML keeps DOCX heading
 * styles as h1..h6. DOCX is read as a stream, not a DOM. Extraction stops, and the document is
 * refused as too large, when its text outgrows what {@code ingest.max_chunks_per_document} chunks
 * hold, when it expands more than {@value #MAX_CHARS_PER_INPUT_BYTE} characters per input byte, or
 * when its XML nests more than {@value #MAX_DEPTH} levels (decompression bombs). Thread-safe.
 */
final class TikaParser {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TikaParser.class);
    /** cl100k averages about 4 characters a token in English; text with more characters a token than this is rare. */
    private static final int MAX_CHARS_PER_TOKEN = 8;
    /** Tika's own default for a decompression bomb. */
    private static final int MAX_CHARS_PER_INPUT_BYTE = 100;
    private static final int MAX_DEPTH = 100;

    private final Parser pdf = new PDFParser();
    private final Parser docx = new OOXMLParser();
    private final HtmlParser html;
    private final IngestConfig limits;
    private final int maxChars;

    TikaParser(HtmlParser html, IngestConfig limits) {
        this.html = html;
        this.limits = limits;
        this.maxChars = (int) Math.min(Integer.MAX_VALUE,
                (long) limits.maxChunksPerDocument() * limits.chunking().maxTokens() * MAX_CHARS_PER_TOKEN);
    }

    /** Parses {@code content} into {@code out}. */
    ParsedDocument parse(DocumentFormat format, byte[] content, String fileName, BlockCollector out) {
        Parser tika = format == DocumentFormat.PDF ? pdf : docx;
        Metadata meta = new Metadata();
        meta.set(TikaCoreProperties.RESOURCE_NAME_KEY, fileName);
        ParseContext context = new ParseContext();
        OfficeParserConfig office = new OfficeParserConfig();
        office.setUseSAXDocxExtractor(true);
        context.set(OfficeParserConfig.class, office);
        ToXMLContentHandler xhtml = new ToXMLContentHandler();
        try (TikaInputStream in = TikaInputStream.get(content)) {
            SecureContentHandler secure = new SecureContentHandler(new WriteOutContentHandler(xhtml, maxChars), in);
            secure.setMaximumCompressionRatio(MAX_CHARS_PER_INPUT_BYTE);
            secure.setMaximumDepth(MAX_DEPTH);
            try {
                tika.parse(in, secure, meta, context);
            } catch (SAXException e) {
                try {
                    secure.throwIfCauseOf(e);
                } catch (TikaException bomb) {
                    throw DocumentTooLargeException.bomb(e.getMessage());
                }
                throw e;
            }
        } catch (EncryptedDocumentException e) {
            throw new DocumentParseException(fileName + ": the document is encrypted or password-protected", e);
        } catch (DocumentTooLargeException e) {
            throw e;
        } catch (Exception e) {
            if (WriteLimitReachedException.isWriteLimitReached(e)) throw DocumentTooLargeException.text(maxChars, limits.maxChunksPerDocument());
            if (causedBy(e, RecordFormatException.class)) throw DocumentTooLargeException.part();
            // The parsers' own messages name their classes and settings; the user gets the kind of failure, the log the detail.
            LOG.debug("{}: the {} parser failed", fileName, format, e);
            boolean tooDeep = java.util.stream.Stream.iterate((Throwable) e, t -> t != null, Throwable::getCause)
                    .anyMatch(t -> t.getMessage() != null && t.getMessage().contains("maxElementDepth"));
            throw new DocumentParseException(fileName + ": cannot parse: " + (tooDeep ? "its XML nests too deeply"
                    : "the file is damaged or not a valid " + format.name()), e);
        }
        ParsedDocument doc = html.parse(xhtml.toString(), fallback(fileName), out);
        String title = meta.get(TikaCoreProperties.TITLE);
        return title == null || title.isBlank() ? doc : new ParsedDocument(TextNormalizer.inline(title), doc.blocks());
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) return true;
        }
        return false;
    }

    private static String fallback(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot > 0 ? fileName.substring(0, dot) : fileName;
    }
}
