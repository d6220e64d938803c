package dev.keel.ingest;

import java.util.List;

/** A parsed document: its title and its text blocks in reading order, each under a heading path. */
record ParsedDocument(String title, List<Block> blocks) {
    /** A paragraph-like unit of text under {@code headings} (outermost first), with its cl100k token count. */
    record Block(List<String> headings, String text, int tokens) {}

    boolean isEmpty() {
        return blocks.stream().allMatch(b -> b.text().isBlank());
    }
}
