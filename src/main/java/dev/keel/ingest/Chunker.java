package dev.keel.ingest;

import com.knuddels.jtokkit.api.IntArrayList;
import dev.keel.config.ChunkingConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a parsed document into chunks of at most {@code maxTokens} body tokens using the configured
 * strategy (see {@link ChunkingConfig}). Deterministic for a given document and config. Thread-safe.
 */
final class Chunker {
    /** A chunk before embedding: its section path and body text. */
    record Draft(List<String> section, String body) {}

    private record Unit(List<String> section, String text, int tokens) {}

    private final ChunkingConfig config;

    Chunker(ChunkingConfig config) {
        this.config = config;
    }

    List<Draft> chunk(ParsedDocument doc) {
        return switch (config.strategy()) {
            case STRUCTURAL -> structural(doc);
            case RECURSIVE -> pack(units(doc.blocks()), false);
            case FIXED -> fixed(doc);
        };
    }

    private List<Draft> structural(ParsedDocument doc) {
        List<Draft> out = new ArrayList<>();
        List<ParsedDocument.Block> section = new ArrayList<>();
        for (ParsedDocument.Block b : doc.blocks()) {
            if (!section.isEmpty() && !section.get(0).headings().equals(b.headings())) {
                out.addAll(pack(units(section), true));
                section.clear();
            }
            section.add(b);
        }
        if (!section.isEmpty()) out.addAll(pack(units(section), true));
        return out;
    }

    /** Blocks as packable units: paragraphs, or sentences / token windows of paragraphs that are too long. */
    private List<Unit> units(List<ParsedDocument.Block> blocks) {
        List<Unit> units = new ArrayList<>();
        for (ParsedDocument.Block b : blocks) {
            int t = Tokens.count(b.text());
            if (t <= config.maxTokens()) {
                units.add(new Unit(b.headings(), b.text(), t));
                continue;
            }
            for (String s : Sentences.split(b.text())) {
                int st = Tokens.count(s);
                if (st <= config.maxTokens()) {
                    units.add(new Unit(b.headings(), s, st));
                } else {
                    for (String w : windows(s, config.maxTokens(), config.overlapTokens())) units.add(new Unit(b.headings(), w, Tokens.count(w)));
                }
            }
        }
        return units;
    }

    /** Greedy packing; a chunk that continues the previous one starts with its last sentences (overlap). */
    private List<Draft> pack(List<Unit> units, boolean sameSection) {
        List<Draft> out = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        List<String> section = null;
        int tokens = 0;
        for (Unit u : units) {
            int sep = body.isEmpty() ? 0 : 1;
            if (!body.isEmpty() && tokens + sep + u.tokens() > config.maxTokens()) {
                String done = body.toString();
                out.add(new Draft(section, done));
                String overlap = overlapTail(done, config.maxTokens() - u.tokens() - 1);
                body.setLength(0);
                body.append(overlap);
                tokens = overlap.isEmpty() ? 0 : Tokens.count(overlap);
                section = sameSection ? section : u.section();
                sep = body.isEmpty() ? 0 : 1;
            }
            if (section == null) section = u.section();
            if (sep == 1) body.append('\n');
            body.append(u.text());
            tokens += sep + u.tokens();
        }
        if (!body.isEmpty()) out.add(new Draft(section, body.toString()));
        return out;
    }

    /** The last whole sentences of {@code text} within the overlap budget (and within {@code room}). */
    private String overlapTail(String text, int room) {
        int budget = Math.min(config.overlapTokens(), room);
        if (budget <= 0) return "";
        List<String> sentences = Sentences.split(text);
        List<String> tail = new ArrayList<>();
        int used = 0;
        for (int i = sentences.size() - 1; i >= 0; i--) {
            int t = Tokens.count(sentences.get(i)) + 1;
            if (used + t > budget) break;
            tail.add(0, sentences.get(i));
            used += t;
        }
        return String.join(" ", tail);
    }

    private List<Draft> fixed(ParsedDocument doc) {
        List<Draft> out = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        List<Integer> starts = new ArrayList<>();
        List<List<String>> sections = new ArrayList<>();
        int position = 0;
        for (ParsedDocument.Block b : doc.blocks()) {
            if (!all.isEmpty()) all.append("\n\n");
            starts.add(position);
            sections.add(b.headings());
            all.append(b.text());
            position += Tokens.count(b.text()) + 1;
        }
        IntArrayList tokens = Tokens.encode(all.toString());
        int step = config.maxTokens() - config.overlapTokens();
        for (int from = 0; from < tokens.size(); from += step) {
            int to = Math.min(tokens.size(), from + config.maxTokens());
            int block = 0;
            while (block + 1 < starts.size() && starts.get(block + 1) <= from) block++;
            String text = Tokens.decode(tokens, from, to).strip();
            if (!text.isEmpty()) out.add(new Draft(sections.get(block), text));
            if (to == tokens.size()) break;
        }
        return out;
    }

    private static List<String> windows(String text, int size, int overlap) {
        IntArrayList tokens = Tokens.encode(text);
        List<String> out = new ArrayList<>();
        int step = Math.max(1, size - overlap);
        for (int from = 0; from < tokens.size(); from += step) {
            int to = Math.min(tokens.size(), from + size);
            out.add(Tokens.decode(tokens, from, to).strip());
            if (to == tokens.size()) break;
        }
        return out;
    }
}
