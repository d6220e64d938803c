package dev.keel.ingest;

import java.util.ArrayList;
import java.util.List;
import org.commonmark.ext.gfm.tables.TableBlock;
import org.commonmark.ext.gfm.tables.TableBody;
import org.commonmark.ext.gfm.tables.TableCell;
import org.commonmark.ext.gfm.tables.TableHead;
import org.commonmark.ext.gfm.tables.TableRow;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.node.BlockQuote;
import org.commonmark.node.BulletList;
import org.commonmark.node.Code;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.HardLineBreak;
import org.commonmark.node.Heading;
import org.commonmark.node.HtmlBlock;
import org.commonmark.node.IndentedCodeBlock;
import org.commonmark.node.ListItem;
import org.commonmark.node.Node;
import org.commonmark.node.OrderedList;
import org.commonmark.node.Paragraph;
import org.commonmark.node.SoftLineBreak;
import org.commonmark.node.Text;
import org.commonmark.parser.Parser;
import org.jsoup.Jsoup;

/** Markdown (CommonMark + GFM tables) with its heading structure; YAML front matter may give the title. */
final class MarkdownParser {
    private static final Parser PARSER = Parser.builder().extensions(List.of(TablesExtension.create())).build();
    /**
     * Lists and quotes nested deeper than this are refused before parsing: CommonMark's block parser
     * takes time quadratic in the depth (a megabyte of "- - - …" took minutes), and no document needs them.
     */
    static final int MAX_CONTAINER_DEPTH = 64;

    /** The deepest run of list markers and quote marks that opens a line of {@code markdown}. */
    static int deepestNesting(String markdown) {
        int deepest = 0, depth = 0, i = 0, n = markdown.length();
        boolean lineStart = true;
        while (i < n) {
            char c = markdown.charAt(i);
            if (c == '\n') {
                lineStart = true;
                depth = 0;
                i++;
            } else if (!lineStart) {
                i++;
            } else if (c == ' ' || c == '\t') {
                i++;
            } else if (c == '>' || ((c == '-' || c == '*' || c == '+') && (i + 1 == n || markdown.charAt(i + 1) == ' '))) {
                deepest = Math.max(deepest, ++depth);
                i++;
            } else if (Character.isDigit(c)) {
                int j = i;
                while (j < n && Character.isDigit(markdown.charAt(j))) j++;
                if (j < n && (markdown.charAt(j) == '.' || markdown.charAt(j) == ')') && (j + 1 == n || markdown.charAt(j + 1) == ' ')) {
                    deepest = Math.max(deepest, ++depth);
                    i = j + 1;
                } else {
                    lineStart = false;
                }
            } else {
                lineStart = false;
            }
        }
        return deepest;
    }

    /** Walks {@code markdown} into {@code out}. */
    ParsedDocument parse(String markdown, String fallbackTitle, BlockCollector out) {
        String title = null;
        String body = markdown.replace("\r\n", "\n");
        if (body.startsWith("---\n")) {
            int end = body.indexOf("\n---", 4);
            if (end > 0) {
                for (String line : body.substring(4, end).split("\n")) {
                    if (line.startsWith("title:")) title = line.substring(6).trim().replaceAll("^[\"']|[\"']$", "");
                }
                int next = body.indexOf('\n', end + 4);
                body = next < 0 ? "" : body.substring(next + 1);
            }
        }
        for (Node n = PARSER.parse(body).getFirstChild(); n != null; n = n.getNext()) block(n, out);
        return out.build(title, fallbackTitle);
    }

    private void block(Node n, BlockCollector out) {
        switch (n) {
            case Heading h -> out.heading(h.getLevel(), inline(h));
            case Paragraph p -> out.paragraph(inline(p));
            case BulletList l -> out.lines(list(l, 0));
            case OrderedList l -> out.lines(list(l, 0));
            case FencedCodeBlock c -> out.lines(c.getLiteral());
            case IndentedCodeBlock c -> out.lines(c.getLiteral());
            case BlockQuote q -> {
                for (Node c = q.getFirstChild(); c != null; c = c.getNext()) block(c, out);
            }
            case HtmlBlock h -> out.paragraph(Jsoup.parse(h.getLiteral()).text());
            case TableBlock t -> table(t, out);
            default -> { }
        }
    }

    private void table(TableBlock t, BlockCollector out) {
        List<String> header = new ArrayList<>();
        for (Node section = t.getFirstChild(); section != null; section = section.getNext()) {
            for (Node row = section.getFirstChild(); row != null; row = row.getNext()) {
                if (!(row instanceof TableRow)) continue;
                List<String> cells = new ArrayList<>();
                for (Node cell = row.getFirstChild(); cell != null; cell = cell.getNext()) {
                    if (cell instanceof TableCell) cells.add(inline(cell));
                }
                if (section instanceof TableHead) header = cells;
                else if (section instanceof TableBody) out.tableRow(header, cells);
            }
        }
    }

    private String list(Node list, int depth) {
        StringBuilder sb = new StringBuilder();
        int number = list instanceof OrderedList o && o.getMarkerStartNumber() != null ? o.getMarkerStartNumber() : 1;
        for (Node item = list.getFirstChild(); item != null; item = item.getNext()) {
            if (!(item instanceof ListItem)) continue;
            for (Node c = item.getFirstChild(); c != null; c = c.getNext()) {
                if (c instanceof BulletList || c instanceof OrderedList) {
                    sb.append(list(c, depth + 1));
                } else {
                    String marker = list instanceof OrderedList ? (number++) + ". " : "- ";
                    sb.append("  ".repeat(depth)).append(marker).append(inline(c).replace('\n', ' ')).append('\n');
                }
            }
        }
        return sb.toString();
    }

    private static String inline(Node n) {
        StringBuilder sb = new StringBuilder();
        collect(n, sb);
        return sb.toString();
    }

    private static void collect(Node n, StringBuilder sb) {
        for (Node c = n.getFirstChild(); c != null; c = c.getNext()) {
            switch (c) {
                case Text t -> sb.append(t.getLiteral());
                case Code code -> sb.append(code.getLiteral());
                case SoftLineBreak b -> sb.append(' ');
                case HardLineBreak b -> sb.append('\n');
                case FencedCodeBlock f -> sb.append(f.getLiteral());
                default -> {
                    if (c instanceof Paragraph && !sb.isEmpty()) sb.append(' ');
                    collect(c, sb);
                }
            }
        }
    }
}
