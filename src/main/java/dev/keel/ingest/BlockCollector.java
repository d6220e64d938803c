package dev.keel.ingest;

import java.util.ArrayList;
import java.util.List;

/** Builds the block list of a document while a parser walks it: tracks the heading path. */
final class BlockCollector {
    private final List<String> headings = new ArrayList<>();
    private final List<Integer> levels = new ArrayList<>();
    private final List<ParsedDocument.Block> blocks = new ArrayList<>();
    private String firstHeading;

    void heading(int level, String rawText) {
        String text = TextNormalizer.inline(rawText);
        if (text.isEmpty()) return;
        while (!levels.isEmpty() && levels.get(levels.size() - 1) >= level) {
            levels.remove(levels.size() - 1);
            headings.remove(headings.size() - 1);
        }
        levels.add(level);
        headings.add(text);
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
        if (!text.isEmpty()) blocks.add(new ParsedDocument.Block(List.copyOf(headings), text));
    }

    /** The document, titled by {@code explicitTitle}, else the first heading, else {@code fallback}. */
    ParsedDocument build(String explicitTitle, String fallback) {
        String title = explicitTitle != null && !explicitTitle.isBlank() ? TextNormalizer.inline(explicitTitle)
                : firstHeading != null ? firstHeading : fallback;
        List<ParsedDocument.Block> out = new ArrayList<>(blocks.size());
        for (ParsedDocument.Block b : blocks) {
            List<String> path = b.headings();
            if (!path.isEmpty() && path.get(0).equals(title)) path = path.subList(1, path.size());
            out.add(new ParsedDocument.Block(List.copyOf(path), b.text()));
        }
        return new ParsedDocument(title, out);
    }
}
