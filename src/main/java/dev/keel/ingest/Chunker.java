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
    /** A chunk before embedding: its section path, body text and (estimated) body tokens. */
    record Draft(List<String> section, String body, int tokens) {}

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

    /** Sections one by one; a run of consecutive sections shorter than {@code minTokens} is packed together. */
    private List<Draft> structural(ParsedDocument doc) {
        List<Draft> out = new ArrayList<>();
        List<Draft> small = new ArrayList<>();
        List<ParsedDocument.Block> section = new ArrayList<>();
        for (int i = 0; i <= doc.blocks().size(); i++) {
            ParsedDocument.Block b = i < doc.blocks().size() ? doc.blocks().get(i) : null;
            if (!section.isEmpty() && (b == null || !section.get(0).headings().equals(b.headings()))) {
                List<Draft> parts = pack(units(section), true);
                section.clear();
                if (parts.size() == 1 && parts.get(0).tokens() < config.minTokens()) {
                    small.add(parts.get(0));
                } else {
                    out.addAll(packSections(small));
                    small.clear();
                    out.addAll(parts);
                }
            }
            if (b != null) section.add(b);
        }
        out.addAll(packSections(small));
        return out;
    }

    /**
     * Packs whole small sections greedily up to {@code maxTokens}. A packed chunk's section is the
     * path the sections share; each section deeper than that is introduced by its own heading line.
     */
    private List<Draft> packSections(List<Draft> sections) {
        List<Draft> out = new ArrayList<>();
        List<Draft> group = new ArrayList<>();
        int tokens = 0;
        for (Draft d : sections) {
            int t = d.tokens() + (d.section().isEmpty() ? 0 : Tokens.count(d.section().getLast()) + 1);
            if (!group.isEmpty() && tokens + 1 + t > config.maxTokens()) {
                out.add(joined(group, tokens));
                group.clear();
                tokens = 0;
            }
            tokens += (group.isEmpty() ? 0 : 1) + t;
            group.add(d);
        }
        if (!group.isEmpty()) out.add(joined(group, tokens));
        return out;
    }

    private static Draft joined(List<Draft> group, int tokens) {
        if (group.size() == 1) return group.get(0);
        List<String> shared = group.get(0).section();
        for (Draft d : group) {
            int n = 0;
            while (n < shared.size() && n < d.section().size() && shared.get(n).equals(d.section().get(n))) n++;
            shared = shared.subList(0, n);
        }
        StringBuilder body = new StringBuilder();
        for (Draft d : group) {
            if (!body.isEmpty()) body.append('\n');
            if (d.section().size() > shared.size()) body.append(d.section().getLast()).append('\n');
            body.append(d.body());
        }
        return new Draft(List.copyOf(shared), body.toString(), tokens);
    }

    /** Blocks as packable units: paragraphs, or sentences / token windows of paragraphs that are too long. */
    private List<Unit> units(List<ParsedDocument.Block> blocks) {
        List<Unit> units = new ArrayList<>();
        for (ParsedDocument.Block b : blocks) {
            int t = b.tokens();
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
                out.add(new Draft(section, done, tokens));
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
        if (!body.isEmpty()) out.add(new Draft(section, body.toString(), tokens));
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
            position += b.tokens() + 1;
        }
        IntArrayList tokens = Tokens.encode(all.toString());
        int step = config.maxTokens() - config.overlapTokens();
        for (int from = 0; from < tokens.size(); from += step) {
            int to = Math.min(tokens.size(), from + config.maxTokens());
            int block = 0;
            while (block + 1 < starts.size() && starts.get(block + 1) <= from) block++;
            String text = Tokens.decode(tokens, from, to).strip();
            if (!text.isEmpty()) out.add(new Draft(sections.get(block), text, to - from));
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
