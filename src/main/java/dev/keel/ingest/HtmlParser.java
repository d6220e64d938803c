package dev.keel.ingest;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeFilter;
import org.jsoup.select.NodeTraversor;

/**
 * HTML (and the XHTML Tika produces for PDF and DOCX): the main content's text with its headings.
 * Navigation, headers, footers, scripts and forms are dropped; {@code main} or {@code article}
 * is preferred when present.
 */
final class HtmlParser {
    private static final Set<String> DROP = Set.of("script", "style", "noscript", "nav", "footer", "header", "aside", "form",
            "template", "svg", "iframe", "button");
    private static final Set<String> BLOCKS = Set.of("p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd",
            "blockquote", "pre", "table", "tr", "figure", "figcaption", "address", "body", "details", "summary", "br", "hr");

    /** Walks {@code html} into {@code out}. */
    ParsedDocument parse(String html, String fallbackTitle, BlockCollector out) {
        Document doc = Jsoup.parse(html);
        String title = doc.title();
        Element root = doc.selectFirst("main, article, [role=main]");
        if (root == null) root = doc.body();
        root.select(String.join(",", DROP)).remove();
        StringBuilder pending = new StringBuilder();
        walk(root, out, pending);
        flush(out, pending, false);
        return out.build(title, fallbackTitle);
    }

    /** Walks the tree without recursion (deeply nested markup must not exhaust the stack). */
    private static void walk(Element root, BlockCollector out, StringBuilder pending) {
        NodeTraversor.filter(new NodeFilter() {
            @Override
            public FilterResult head(Node node, int depth) {
                if (node instanceof TextNode t) {
                    pending.append(t.getWholeText());
                    return FilterResult.CONTINUE;
                }
                if (!(node instanceof Element e)) return FilterResult.CONTINUE;
                String tag = e.normalName();
                if (tag.length() == 2 && tag.charAt(0) == 'h' && Character.isDigit(tag.charAt(1))) {
                    flush(out, pending, false);
                    out.heading(tag.charAt(1) - '0', e.text());
                    return FilterResult.SKIP_ENTIRELY;
                } else if (tag.equals("pre")) {
                    flush(out, pending, false);
                    out.lines(e.wholeText());
                    return FilterResult.SKIP_ENTIRELY;
                } else if (tag.equals("table")) {
                    flush(out, pending, false);
                    table(e, out);
                    return FilterResult.SKIP_ENTIRELY;
                } else if (tag.equals("li")) {
                    flush(out, pending, false);
                    pending.append("- ");
                } else if (BLOCKS.contains(tag)) {
                    flush(out, pending, false);
                }
                return FilterResult.CONTINUE;
            }

            @Override
            public FilterResult tail(Node node, int depth) {
                if (node instanceof Element e && (e.normalName().equals("li") || BLOCKS.contains(e.normalName()))) flush(out, pending, false);
                return FilterResult.CONTINUE;
            }
        }, root);
    }

    private static void table(Element table, BlockCollector out) {
        List<String> header = new ArrayList<>();
        for (Element row : table.select("tr")) {
            List<String> cells = new ArrayList<>();
            boolean allTh = true;
            for (Element cell : row.children()) {
                if (!cell.normalName().equals("td") && !cell.normalName().equals("th")) continue;
                cells.add(cell.text());
                allTh &= cell.normalName().equals("th");
            }
            if (cells.isEmpty()) continue;
            if (allTh && header.isEmpty()) header = cells;
            else out.tableRow(header, cells);
        }
    }

    private static void flush(BlockCollector out, StringBuilder pending, boolean keepLines) {
        if (pending.isEmpty()) return;
        String text = pending.toString();
        pending.setLength(0);
        if (text.isBlank() || text.strip().equals("-")) return;
        if (keepLines) out.lines(text);
        else out.paragraph(text);
    }
}
