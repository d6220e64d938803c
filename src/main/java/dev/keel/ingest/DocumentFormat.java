package dev.keel.ingest;

import java.util.Locale;
import java.util.Optional;

/** The document formats Keel parses, recognised by file extension or media type. */
public enum DocumentFormat {
    MARKDOWN("text/markdown", "md", "markdown"),
    TEXT("text/plain", "txt", "text"),
    HTML("text/html", "html", "htm"),
    PDF("application/pdf", "pdf"),
    DOCX("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx");

    private final String mediaType;
    private final String[] extensions;

    DocumentFormat(String mediaType, String... extensions) {
        this.mediaType = mediaType;
        this.extensions = extensions;
    }

    public String mediaType() {
        return mediaType;
    }

    public static Optional<DocumentFormat> ofFileName(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0) return Optional.empty();
        String ext = name.substring(dot + 1).toLowerCase(Locale.ROOT);
        for (DocumentFormat f : values()) {
            for (String e : f.extensions) if (e.equals(ext)) return Optional.of(f);
        }
        return Optional.empty();
    }

    public static Optional<DocumentFormat> ofMediaType(String type) {
        if (type == null) return Optional.empty();
        String base = type.split(";")[0].trim().toLowerCase(Locale.ROOT);
        for (DocumentFormat f : values()) if (f.mediaType.equals(base)) return Optional.of(f);
        if (base.equals("text/x-markdown")) return Optional.of(MARKDOWN);
        if (base.equals("application/xhtml+xml")) return Optional.of(HTML);
        return Optional.empty();
    }

    public static String supportedList() {
        return ".md, .markdown, .txt, .html, .htm, .pdf, .docx";
    }
}
