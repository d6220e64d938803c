package dev.keel.ingest;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Parses a document of any supported {@link DocumentFormat}; fails with a reason naming the file. Thread-safe. */
final class DocumentParsers {
    private final MarkdownParser markdown = new MarkdownParser();
    private final HtmlParser html = new HtmlParser();
    private final TikaParser tika = new TikaParser(html);

    ParsedDocument parse(DocumentFormat format, byte[] content, String fileName) {
        String fallbackTitle = baseName(fileName);
        ParsedDocument doc = switch (format) {
            case MARKDOWN -> markdown.parse(decode(content, fileName), fallbackTitle);
            case HTML -> html.parse(decode(content, fileName), fallbackTitle);
            case TEXT -> text(decode(content, fileName), fallbackTitle);
            case PDF, DOCX -> tika.parse(format, content, fileName);
        };
        if (doc.isEmpty()) throw new DocumentParseException(fileName + ": the document contains no text");
        return doc;
    }

    private static ParsedDocument text(String text, String title) {
        BlockCollector out = new BlockCollector();
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
