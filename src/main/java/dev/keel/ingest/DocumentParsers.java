package dev.keel.ingest;

import dev.keel.config.IngestConfig;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Parses a document of any supported {@link DocumentFormat} within the ingest limits; fails with a
 * reason naming the file ({@link DocumentParseException}), or with {@link DocumentTooLargeException}
 * naming the limit. Thread-safe.
 */
final class DocumentParsers {
    private final IngestConfig limits;
    private final MarkdownParser markdown = new MarkdownParser();
    private final HtmlParser html = new HtmlParser();
    private final TikaParser tika;

    DocumentParsers(IngestConfig limits) {
        this.limits = limits;
        this.tika = new TikaParser(html, limits);
    }

    ParsedDocument parse(DocumentFormat format, byte[] content, String fileName) {
        String fallbackTitle = baseName(fileName);
        BlockCollector out = new BlockCollector(limits);
        ParsedDocument doc;
        try {
            doc = switch (format) {
                case MARKDOWN -> markdown.parse(shallow(decode(content, fileName), fileName), fallbackTitle, out);
                case HTML -> html.parse(decode(content, fileName), fallbackTitle, out);
                case TEXT -> text(decode(content, fileName), fallbackTitle, out);
                case PDF, DOCX -> tika.parse(format, content, fileName, out);
            };
        } catch (StackOverflowError e) {
            throw new DocumentParseException(fileName + ": the document nests too deeply to parse");
        }
        if (doc.isEmpty()) throw new DocumentParseException(fileName + ": the document contains no text");
        return doc;
    }

    private static String shallow(String markdown, String fileName) {
        int depth = MarkdownParser.deepestNesting(markdown);
        if (depth > MarkdownParser.MAX_CONTAINER_DEPTH) {
            throw new DocumentParseException(fileName + ": lists or quotes nest " + depth + " levels deep; at most "
                    + MarkdownParser.MAX_CONTAINER_DEPTH + " are read");
        }
        return markdown;
    }

    private static ParsedDocument text(String text, String title, BlockCollector out) {
        Arrays.stream(text.replace("\r\n", "\n").split("\n\\s*\n")).forEach(out::paragraph);
        return out.build(title, title);
    }

    private static String decode(byte[] content, String fileName) {
        int skip = content.length >= 3 && (content[0] & 0xFF) == 0xEF && (content[1] & 0xFF) == 0xBB && (content[2] & 0xFF) == 0xBF ? 3 : 0;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(content, skip, content.length - skip)).toString();
        } catch (CharacterCodingException e) {
            for (byte b : content) {
                if (b == 0) throw new DocumentParseException(fileName + ": binary content, not text");
            }
            return new String(content, StandardCharsets.ISO_8859_1);
        }
    }

    private static String baseName(String fileName) {
        String name = fileName.substring(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
        int dot = name.lastIndexOf('.');
        return (dot > 0 ? name.substring(0, dot) : name).replace('-', ' ').replace('_', ' ');
    }
}
