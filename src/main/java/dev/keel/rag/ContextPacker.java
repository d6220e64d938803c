package dev.keel.rag;

import dev.keel.index.ChunkIndex;
import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchHit;
import dev.keel.ingest.Tokens;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Packs retrieved chunks into numbered context blocks within a token budget: the most relevant
 * first, a chunk that does not fit is skipped for smaller ones after it, and the packed blocks are
 * placed most relevant first and last, least relevant in the middle (where long-context models
 * attend least). A chunk shorter than {@code expandBelowTokens} is joined by its neighbours of the
 * same section (same tenant and document). Block text is untrusted: anything shaped like a markup
 * bracket is defused so that a document cannot close its block or open another. A chunk the ingest
 * scan flagged as carrying instructions is shown inside an {@code <untrusted-data>} wrapper that the
 * template's system rule tells the model never to obey, and is never joined to a neighbour's block.
 * Only chunks of the asking tenant ever enter a block. Thread-safe.
 */
final class ContextPacker {
    /**
     * Every {@code <} and its look-alikes (fullwidth, small, CJK and mathematical angle brackets): a
     * tag can hide invisible or combining characters after its bracket, so no bracket is left to open one.
     */
    private static final Pattern TAG_OPENER = Pattern.compile("[<\uFF1C\uFE64\u3008\u2329\u27E8\u276C\u2770\u29FC]");
    /** What a defused {@code <} becomes: it reads the same to a person, not as markup. */
    private static final String DEFUSED = "\u2039";
    /** The wrapper of a flagged chunk's text; the template's system rule names it. Defused text cannot close it. */
    static final String UNTRUSTED_OPEN = "<untrusted-data reason=\"possible prompt injection\">\n", UNTRUSTED_CLOSE = "\n</untrusted-data>";

    /** One numbered block of the prompt's context: the hit it came from and the text shown. */
    record Block(int n, SearchHit hit, String text) {
        ChunkRecord chunk() {
            return hit.chunk();
        }

        /** The block as the prompt shows it, tagged with its citation id; a flagged chunk's text wrapped as untrusted data. */
        String render() {
            ChunkRecord c = hit.chunk();
            String body = c.injection().flagged() ? UNTRUSTED_OPEN + defuse(text) + UNTRUSTED_CLOSE : defuse(text);
            return "<context id=\"" + n + "\" title=\"" + attribute(c.title()) + "\" section=\"" + attribute(c.section()) + "\" source=\""
                    + attribute(c.source()) + "\">\n" + body + "\n</context>";
        }
    }

    private final ChunkIndex index;
    private final int expandBelowTokens;

    ContextPacker(ChunkIndex index, int expandBelowTokens) {
        this.index = index;
        this.expandBelowTokens = expandBelowTokens;
    }

    /** The blocks for {@code tenant}'s hits (in relevance order) within {@code budgetTokens}, numbered in prompt order from 1. */
    List<Block> pack(String tenant, List<SearchHit> hits, int budgetTokens) {
        Set<String> retrieved = new HashSet<>();
        for (SearchHit h : hits) retrieved.add(h.chunk().chunkId());
        List<Block> chosen = new ArrayList<>();
        int used = 0;
        for (SearchHit h : hits) {
            if (!h.chunk().tenant().equals(tenant)) continue;
            String body = h.chunk().body();
            String expanded = expandBelowTokens > 0 && Tokens.count(body) < expandBelowTokens ? withNeighbours(tenant, h.chunk(), retrieved) : body;
            for (String text : expanded.equals(body) ? List.of(body) : List.of(expanded, body)) {
                int tokens = Tokens.count(new Block(0, h, text).render()) + 1;
                if (used + tokens <= budgetTokens) {
                    chosen.add(new Block(0, h, text));
                    used += tokens;
                    break;
                }
            }
        }
        List<Block> placed = new ArrayList<>(chosen.size());
        for (int i = 0; i < chosen.size(); i += 2) placed.add(chosen.get(i));
        for (int i = chosen.size() % 2 == 0 ? chosen.size() - 1 : chosen.size() - 2; i > 0; i -= 2) placed.add(chosen.get(i));
        List<Block> numbered = new ArrayList<>(placed.size());
        for (int i = 0; i < placed.size(); i++) numbered.add(new Block(i + 1, placed.get(i).hit(), placed.get(i).text()));
        return numbered;
    }

    /** The chunk's text with the adjacent chunks of its section that retrieval did not return itself. */
    private String withNeighbours(String tenant, ChunkRecord chunk, Set<String> retrieved) {
        StringBuilder text = new StringBuilder();
        String after = "";
        for (ChunkRecord c : index.chunks(tenant, chunk.docId())) {
            boolean adjacent = Math.abs(c.ordinal() - chunk.ordinal()) == 1 && c.tenant().equals(tenant) && c.sectionPath().equals(chunk.sectionPath())
                    && !retrieved.contains(c.chunkId()) && !c.injection().flagged() && !chunk.injection().flagged();
            if (adjacent && c.ordinal() < chunk.ordinal()) text.append(c.body()).append('\n');
            if (adjacent && c.ordinal() > chunk.ordinal()) after = "\n" + c.body();
        }
        return text.append(chunk.body()).append(after).toString();
    }

    static String defuse(String text) {
        return TAG_OPENER.matcher(text).replaceAll(DEFUSED);
    }

    private static String attribute(String value) {
        return defuse(value).replace("\"", "'").replace('\n', ' ').replace(">", "\u203A");
    }
}
