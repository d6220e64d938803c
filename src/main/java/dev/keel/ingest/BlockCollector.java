package dev.keel.ingest;

import dev.keel.config.IngestConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the block list of a document while a parser walks it: tracks the heading path and holds the
 * document to the ingest limits as it grows, so a document over them fails before it is all in
 * memory. A heading longer than {@code max_title_chars} is kept as body text (it would otherwise be
 * repeated in every chunk under it); more than {@code max_sections_per_document} headings, or more
 * text than {@code max_chunks_per_document} full chunks hold, throws {@link DocumentTooLargeException}.
 */
final class BlockCollector {
    private final IngestConfig limits;
    private final long maxTokens;
    private final List<String> headings = new ArrayList<>();
    private final List<Integer> levels = new ArrayList<>();
    private final List<ParsedDocument.Block> blocks = new ArrayList<>();
    private List<String> path = List.of();
    private String firstHeading;
    private int sections;
    private long tokens;

    BlockCollector(IngestConfig limits) {
        this.limits = limits;
        this.maxTokens = (long) limits.maxChunksPerDocument() * limits.chunking().maxTokens();
    }

    void heading(int level, String rawText) {
        String text = TextNormalizer.inline(rawText);
        if (text.isEmpty()) return;
        if (text.length() > limits.maxTitleChars()) {
            add(text);
            return;
        }
        if (++sections > limits.maxSectionsPerDocument()) throw DocumentTooLargeException.sections(limits.maxSectionsPerDocument());
        while (!levels.isEmpty() && levels.get(levels.size() - 1) >= level) {
            levels.remove(levels.size() - 1);
            headings.remove(headings.size() - 1);
        }
        levels.add(level);
        headings.add(text);
        path = List.copyOf(headings);
        if (firstHeading == null) firstHeading = text;
    }

    void paragraph(String rawText) {
        add(TextNormalizer.inline(rawText));
    }

    void lines(String rawText) {
        add(TextNormalizer.keepLines(rawText));
    }

    /** A table row rendered as "Header: value; Header: value" so each row reads on its own. */
    void tableRow(List<String> header, List<String> cells) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String cell = TextNormalizer.inline(cells.get(i));
            if (cell.isEmpty()) continue;
            String name = i < header.size() ? TextNormalizer.inline(header.get(i)) : "";
            if (!sb.isEmpty()) sb.append("; ");
            sb.append(name.isEmpty() || name.equals(cell) ? cell : name + ": " + cell);
        }
        add(sb.toString());
    }

    private void add(String text) {
        if (text.isEmpty()) return;
        int t = Tokens.count(text);
        tokens += t;
        if (tokens > maxTokens) throw DocumentTooLargeException.chunks(limits.maxChunksPerDocument());
        blocks.add(new ParsedDocument.Block(path, text, t));
    }

    /** The document, titled by {@code explicitTitle}, else the first heading, else {@code fallback}. */
    ParsedDocument build(String explicitTitle, String fallback) {
        String title = explicitTitle != null && !explicitTitle.isBlank() ? TextNormalizer.inline(explicitTitle)
                : firstHeading != null ? firstHeading : fallback;
        List<ParsedDocument.Block> out = new ArrayList<>(blocks.size());
        for (ParsedDocument.Block b : blocks) {
            List<String> path = b.headings();
            if (!path.isEmpty() && path.get(0).equals(title)) path = path.subList(1, path.size());
            out.add(new ParsedDocument.Block(List.copyOf(path), b.text(), b.tokens()));
        }
        return new ParsedDocument(title, out);
    }
}
