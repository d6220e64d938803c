package dev.keel.guard;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pattern layer: phrasings of known attack categories in the languages attackers use, read from
 * {@code guard/injection-patterns.tsv} (category, weight, regex). A text's score per category is its
 * strongest match; the layer's score combines categories as independent evidence. Regexes are
 * written without nested quantifiers and with bounded gaps, so matching is linear in the text.
 * Immutable and thread-safe.
 */
final class InjectionPatterns {
    static final String RESOURCE = "/guard/injection-patterns.tsv";
    /**
     * Shortest literal of ASCII letters or spaces worth a look-up: single letters occur everywhere (a digit, a CJK
     * character or a bracket does not).
     */
    private static final int MIN_LITERAL = 2;
    /** Copies of a quantified character a literal takes at most ("-{3,}" gives "---"): a few already make it rare. */
    private static final int MAX_REPEATED_LITERAL = 8;
    /**
     * Chars before its anchor that a rule may reach and still be tried only near the anchor ({@link #anchor}): further
     * back, the offsets tried near every anchor of a long text would come near a whole scan.
     */
    private static final int MAX_ANCHOR_REACH = 64;
    /** Group openings whose contents start a match as a plain group's do: non-capturing, case flags only. */
    private static final List<String> GROUP_OPENINGS = List.of("(?:", "(?i:", "(?-i:");

    /**
     * One pattern; {@code anyOf} lists the lower-cased literals one of which every match starts with
     * (read off the regex's leading group), or is null when the regex has no such group. A text
     * holding none of them is not matched against the regex: most rules are ruled out by a few
     * literal look-ups instead of a scan with backtracking at every position. {@code near} lists literals one of
     * which every match holds at most {@code reach} chars after its start (those that start every match,
     * {@link #matchStarts}, else an {@link #anchor}); on a text whose lower-casing is exact (see {@link Lowered}) the
     * regex is tried only at the offsets up to {@code reach} before one of them, or not at all. {@code required}
     * holds sets of literals ({@link #requiredLiterals}): on such a text, one of each set must occur before the regex runs.
     */
    private record Rule(String category, double weight, Pattern regex, int[] anyOf, int[] near, int reach, int[][] required) {}

    /**
     * Literals that a lower-cased text is searched for, and how far before one of them a match may start: each is the
     * longest run of a regex literal's chars that {@link #foldsAsLowered} ("tlama" of "kısıtlama"), its offset in
     * that literal added to the reach.
     */
    private record Near(List<String> pieces, int reach) {
        /** The pieces of {@code literals} (null: none), or null when one has no piece worth a look-up or the reach is too far. */
        static Near of(List<String> literals, int reach) {
            if (literals == null) return null;
            List<String> pieces = new ArrayList<>();
            int furthest = reach;
            for (String literal : literals) {
                int from = 0, best = 0, bestLength = 0;
                for (int i = 0; i <= literal.length(); i++) {
                    if (i < literal.length() && foldsAsLowered(literal.charAt(i))) continue;
                    if (i - from > bestLength) {
                        best = from;
                        bestLength = i - from;
                    }
                    from = i + 1;
                }
                String piece = literal.substring(best, best + bestLength);
                if (!rare(piece)) return null;
                pieces.add(piece);
                furthest = Math.max(furthest, reach + best);
            }
            return furthest > MAX_ANCHOR_REACH ? null : new Near(pieces.stream().distinct().toList(), furthest);
        }

        /** The pieces of {@code literals}, which a text must hold one of; null when that cannot be looked up. */
        static List<String> piecesOf(List<String> literals) {
            Near near = of(literals, 0);
            return near == null ? null : near.pieces();
        }
    }

    private final List<Rule> rules;
    private final LiteralAutomaton literals;

    private InjectionPatterns(List<Rule> rules, LiteralAutomaton literals) {
        this.rules = List.copyOf(rules);
        this.literals = literals;
    }

    /** The shipped patterns. */
    static InjectionPatterns shipped() {
        try (InputStream in = InjectionPatterns.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + RESOURCE);
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static InjectionPatterns parse(List<String> lines) {
        List<Rule> rules = new ArrayList<>();
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t", 3);
            if (f.length != 3) throw new IllegalArgumentException("pattern line " + (i + 1) + ": expected category, weight and regex separated by tabs");
            Near near = Near.of(matchStarts(f[2]), 0);
            if (near == null) {
                Anchor anchor = anchor(f[2]);
                near = anchor == null ? null : Near.of(anchor.literals(), anchor.reach());
            }
            rules.add(new Rule(f[0], Double.parseDouble(f[1]),
                    Pattern.compile(f[2], Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS | Pattern.MULTILINE),
                    ids(Near.piecesOf(leadingLiterals(f[2])), ids), near == null ? null : ids(near.pieces(), ids), near == null ? 0 : near.reach(),
                    requiredLiterals(f[2]).stream().map(Near::piecesOf).filter(Objects::nonNull).map(l -> ids(l, ids)).toArray(int[][]::new)));
        }
        return new InjectionPatterns(rules, new LiteralAutomaton(List.copyOf(ids.keySet())));
    }


    private static int[] ids(List<String> literals, Map<String, Integer> ids) {
        return literals == null ? null : literals.stream().mapToInt(l -> ids.computeIfAbsent(l, k -> ids.size())).distinct().toArray();
    }

    /** The strongest match per category in {@code text}; categories without a match are absent. */
    Map<String, Double> match(String text) {
        return match(text, category -> true);
    }

    /** As {@link #match(String)}, over the rules of the categories {@code wanted} accepts only. */
    Map<String, Double> match(String text, Predicate<String> wanted) {
        Map<String, Double> found = new TreeMap<>();
        Lowered lower = Lowered.of(text);
        int[][] at = literals.occurrences(lower.text());
        for (Rule r : rules) {
            if (!wanted.test(r.category)) continue;
            Double best = found.get(r.category);
            if (best != null && best >= r.weight) continue;
            // Literal prefilters hold only where lower case is the regex engine's case folding (not for "ı" or "ſ").
            if (lower.exact() && r.anyOf != null && noneOccurs(r.anyOf, at)) continue;
            if (lower.exact() && Arrays.stream(r.required).anyMatch(required -> noneOccurs(required, at))) continue;
            boolean hit = lower.exact() && r.near != null ? matchesAtAny(r.regex.matcher(text), r.near, r.reach, at) : r.regex.matcher(text).find();
            if (hit) found.put(r.category, r.weight);
        }
        return found;
    }

    private static boolean noneOccurs(int[] ids, int[][] at) {
        for (int id : ids) if (at[id] != null) return false;
        return true;
    }

    /**
     * Whether a match of {@code m}'s regex starts at an offset where one of the literals {@code ids} occurs, or up to
     * {@code reach} chars before one.
     */
    private static boolean matchesAtAny(Matcher m, int[] ids, int reach, int[][] at) {
        // Transparent, non-anchoring bounds: \b, ^ and look-behind see the text before the start, as find() would.
        m.useTransparentBounds(true).useAnchoringBounds(false);
        int end = m.regionEnd();
        for (int id : ids) {
            if (at[id] == null) continue;
            int tried = -1;
            for (int occurrence : at[id]) {
                for (int start = Math.max(tried + 1, occurrence - reach); start <= occurrence; start++) {
                    m.region(start, end);
                    if (m.lookingAt()) return true;
                }
                tried = Math.max(tried, occurrence);
            }
        }
        return false;
    }

    /**
     * A text lower-cased code point by code point, as the case-insensitive regexes compare, with offsets unchanged.
     * {@code exact} when every code point lower-cases to what the regex engine's case folding compares
     * ({@code toLowerCase(toUpperCase(c))}) and keeps its length: then a regex match starting with a literal starts
     * where the lower-cased literal occurs in {@code text}. Otherwise ("ı", "ſ", final sigma) only the leading-group
     * prefilter applies, as it always has.
     */
    record Lowered(String text, boolean exact) {
        static Lowered of(String text) {
            int n = text.length();
            int i = 0;
            while (i < n && text.charAt(i) < 128) i++;
            if (i == n) return new Lowered(asciiLower(text), true);
            StringBuilder out = new StringBuilder(n);
            boolean exact = true;
            for (int j = 0; j < n; ) {
                int cp = text.codePointAt(j);
                int lower = Character.toLowerCase(cp);
                j += Character.charCount(cp);
                out.appendCodePoint(lower);
                if (exact && (lower != Character.toLowerCase(Character.toUpperCase(cp)) || Character.charCount(lower) != Character.charCount(cp))) exact = false;
            }
            return new Lowered(out.toString(), exact);
        }

        private static String asciiLower(String text) {
            byte[] b = new byte[text.length()];
            for (int i = 0; i < b.length; i++) {
                char c = text.charAt(i);
                b[i] = (byte) (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            }
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    }

    /** Whether a literal's char lower-cases to its case folding, so {@link Lowered#exact} reasoning holds for it. */
    private static boolean foldsAsLowered(char c) {
        return !Character.isSurrogate(c) && c == Character.toLowerCase(Character.toUpperCase(c));
    }

    /** Whether a literal is worth a look-up: single letters occur everywhere (a digit, a sign or a CJK character does not). */
    private static boolean rare(CharSequence literal) {
        return literal.length() >= MIN_LITERAL || literal.chars().anyMatch(c -> c >= 128 || !(Character.isLetter(c) || Character.isWhitespace(c)));
    }

    /**
     * The lower-cased literals one of which starts every match of a regex, or null when that cannot be read off it:
     * each alternative must open with plain characters ({@code \\b} and escaped punctuation allowed, a character
     * followed by a quantifier left out) or with a group whose alternatives do (when the group is optional, what
     * follows it must too), and each literal must be at least {@link #MIN_LITERAL} long unless it holds a sign or a
     * non-ASCII character.
     */
    static List<String> matchStarts(String regex) {
        List<String> out = new ArrayList<>();
        for (String alternative : alternatives(regex)) {
            List<String> starts = alternativeStarts(alternative.startsWith("\\b") ? alternative.substring(2) : alternative);
            if (starts == null) return null;
            out.addAll(starts);
        }
        return out.stream().distinct().toList();
    }

    /** The literals that start every match of one alternative (an opening {@code \\b} already taken off), or null. */
    private static List<String> alternativeStarts(String r) {
        if (r.startsWith("(")) {
            int open = GROUP_OPENINGS.stream().filter(r::startsWith).mapToInt(String::length).findFirst().orElse(r.startsWith("(?") ? -1 : 1);
            if (open < 0) return null;
            int close = closing(r, depths(r), 0);
            if (close < 0) return null;
            List<String> group = matchStarts(r.substring(open, close));
            char after = close + 1 < r.length() ? r.charAt(close + 1) : 0;
            if (after == '{') return null;
            if (after != '?' && after != '*') return group;
            // An optional group: a match starts with it or with what follows it.
            List<String> rest = matchStarts(r.substring(close + 2));
            return group == null || rest == null ? null : java.util.stream.Stream.concat(group.stream(), rest.stream()).distinct().toList();
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < r.length(); i++) {
            char c = r.charAt(i);
            if (c == '\\' && i + 1 < r.length() && !Character.isLetterOrDigit(r.charAt(i + 1))) c = r.charAt(++i);
            else if ("()[]{}?*+.\\^$|".indexOf(c) >= 0) {
                if ("?*{".indexOf(c) >= 0 && !out.isEmpty()) {
                    // "-{3,}": a match starts with the character as often as the least count says ("---").
                    int least = c == '{' ? leastCount(r, i) : 0;
                    char repeated = out.charAt(out.length() - 1);
                    out.setLength(out.length() - 1);
                    out.append(String.valueOf(repeated).repeat(least));
                }
                break;
            }
            out.append(c);
        }
        return !out.isEmpty() && rare(out) ? List.of(lowerCase(out.toString())) : null;
    }

    /** The least count of the bounded quantifier {@code {n}}, {@code {n,}} or {@code {n,m}} opening at {@code open}; 0 when it is none. */
    private static int leastCount(String regex, int open) {
        int at = open + 1, n = 0;
        while (at < regex.length() && Character.isDigit(regex.charAt(at))) n = Math.min(MAX_REPEATED_LITERAL, n * 10 + (regex.charAt(at++) - '0'));
        return at > open + 1 && at < regex.length() && (regex.charAt(at) == ',' || regex.charAt(at) == '}') ? n : 0;
    }

    /** Lower-cased literals one of which every match of a regex holds, at most {@code reach} chars after the match's start. */
    record Anchor(List<String> literals, int reach) {}

    /**
     * The anchor of a regex: a top-level group or character that is not optional and starts with literals
     * ({@link #alternativeStarts}), after top-level parts whose longest match is bounded, reaching at most
     * {@link #MAX_ANCHOR_REACH} (the one whose shortest literal is longest, the nearest among equals). Null when there
     * is none, or the regex has top-level alternatives.
     */
    static Anchor anchor(String regex) {
        if (alternatives(regex).size() > 1) return null;
        Anchor best = null;
        int reach = 0;
        for (int i = 0; i < regex.length(); ) {
            Part part = Part.at(regex, i);
            if (part == null) return best;
            List<String> starts = part.least() >= 1 ? alternativeStarts(regex.substring(i, part.atomEnd())) : null;
            if (starts != null && reach <= MAX_ANCHOR_REACH && (best == null || shortest(starts) > shortest(best.literals()))) best = new Anchor(starts, reach);
            if (part.longest() < 0) return best;
            reach += part.longest();
            i = part.end();
        }
        return best;
    }

    /**
     * The most chars a match of {@code regex} spans, or -1 when that is unbounded or not read off it: every char
     * class, {@code .} or class escape counts as two chars (a supplementary code point), a literal char beyond ASCII
     * too, look-arounds and boundaries as none.
     */
    static int longestMatch(String regex) {
        int most = 0;
        for (String alternative : alternatives(regex)) {
            int length = 0;
            for (int i = 0; i < alternative.length(); ) {
                Part part = Part.at(alternative, i);
                if (part == null || part.longest() < 0) return -1;
                length += part.longest();
                i = part.end();
            }
            most = Math.max(most, length);
        }
        return most;
    }

    /**
     * One top-level part of a regex: an atom (char, escape, class, group) ending at {@code atomEnd}, its quantifier
     * ending at {@code end}, the least number of times it repeats and the most chars it spans (-1: unbounded).
     */
    private record Part(int atomEnd, int end, int least, int longest) {
        private static final String CLASS_ESCAPES = "sSwWdDhHvV";
        private static final String ZERO_WIDTH_ESCAPES = "bBAzZG";
        private static final String CONTROL_ESCAPES = "ntrfae";
        private static final List<String> LOOK_AROUNDS = List.of("(?=", "(?!", "(?<=", "(?<!");

        /** The part starting at {@code i}, or null when its syntax is not one this reads. */
        static Part at(String r, int i) {
            char c = r.charAt(i);
            int atomEnd, width;
            if (c == '(') {
                String rest = r.substring(i);
                int close = closing(rest, depths(rest), 0);
                if (close < 0) return null;
                String group = rest.substring(0, close + 1);
                atomEnd = i + close + 1;
                int open = GROUP_OPENINGS.stream().filter(group::startsWith).mapToInt(String::length).findFirst().orElse(group.startsWith("(?") ? -1 : 1);
                if (LOOK_AROUNDS.stream().anyMatch(group::startsWith)) width = 0;
                else if (open < 0) return null;
                else width = longestMatch(group.substring(open, group.length() - 1));
            } else if (c == '[') {
                atomEnd = classEnd(r, i);
                if (atomEnd < 0) return null;
                width = 2;
            } else if (c == '\\') {
                if (i + 1 >= r.length()) return null;
                char e = r.charAt(i + 1);
                atomEnd = i + 2;
                if (ZERO_WIDTH_ESCAPES.indexOf(e) >= 0) width = 0;
                else if (CLASS_ESCAPES.indexOf(e) >= 0) width = 2;
                else if (CONTROL_ESCAPES.indexOf(e) >= 0 || !Character.isLetterOrDigit(e)) width = 1;
                else if (e == 'p' || e == 'P') {
                    width = 2;
                    if (atomEnd < r.length() && r.charAt(atomEnd) == '{') atomEnd = r.indexOf('}', atomEnd) + 1;
                    else atomEnd++;
                    if (atomEnd <= 0 || atomEnd > r.length()) return null;
                } else return null;
            } else if (c == '^' || c == '$') {
                atomEnd = i + 1;
                width = 0;
            } else if (c == ')' || c == '|' || c == '?' || c == '*' || c == '+' || c == '{') {
                return null;
            } else {
                atomEnd = i + 1;
                width = c == '.' || c >= 128 ? 2 : 1;
            }
            return quantified(r, atomEnd, width);
        }

        /** The part of an atom of {@code width} chars (-1: unbounded) followed by whatever quantifier stands at {@code at}. */
        private static Part quantified(String r, int at, int width) {
            if (at >= r.length() || "?*+{".indexOf(r.charAt(at)) < 0) return new Part(at, at, 1, width);
            char q = r.charAt(at);
            int least, most, end;
            if (q == '{') {
                int close = r.indexOf('}', at);
                if (close < 0) return null;
                String[] bounds = r.substring(at + 1, close).split(",", -1);
                try {
                    least = Integer.parseInt(bounds[0]);
                    most = bounds.length == 1 ? least : bounds[1].isEmpty() ? -1 : Integer.parseInt(bounds[1]);
                } catch (NumberFormatException e) {
                    return null;
                }
                end = close + 1;
            } else {
                least = q == '+' ? 1 : 0;
                most = q == '?' ? 1 : -1;
                end = at + 1;
            }
            // A lazy or possessive quantifier matches what the greedy one would, as far as length goes.
            if (end < r.length() && (r.charAt(end) == '?' || r.charAt(end) == '+')) end++;
            int longest = width < 0 || most < 0 ? -1 : width * most;
            return new Part(at, end, least, longest);
        }

        /** The offset after the character class opening at {@code open} (nested classes included), or -1. */
        private static int classEnd(String r, int open) {
            int depth = 0;
            for (int i = open; i < r.length(); i++) {
                char c = r.charAt(i);
                if (c == '\\') i++;
                else if (c == '[') depth++;
                else if (c == ']' && i > open + 1 && !(i == open + 2 && r.charAt(open + 1) == '^') && --depth == 0) return i + 1;
            }
            return -1;
        }
    }

    /**
     * For each top-level group of a regex without top-level alternatives that is not optional, the lower-cased
     * literals one of which occurs in every match ({@link #matchStarts} of the group); groups whose starts cannot be
     * read off are left out, and a regex with top-level alternatives has none.
     */
    static List<List<String>> requiredLiterals(String regex) {
        if (alternatives(regex).size() > 1) return List.of();
        int[] depth = depths(regex);
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < regex.length(); i++) {
            if (regex.charAt(i) != '(' || depth[i] != 0) continue;
            int close = closing(regex, depth, i);
            if (close < 0) break;
            boolean optional = close + 1 < regex.length() && "?*{".indexOf(regex.charAt(close + 1)) >= 0;
            List<String> group = optional ? null : alternativeStarts(regex.substring(i, close + 1));
            if (group != null) out.add(group);
            i = close;
        }
        return out;
    }

    private static int shortest(List<String> literals) {
        return literals.stream().mapToInt(String::length).min().orElse(0);
    }

    /** The alternatives of a regex at its top level (split at each {@code |} outside groups and classes). */
    private static List<String> alternatives(String regex) {
        int[] depth = depths(regex);
        List<String> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < regex.length(); i++) {
            if (regex.charAt(i) == '|' && depth[i] == 0) {
                out.add(regex.substring(from, i));
                from = i + 1;
            }
        }
        out.add(regex.substring(from));
        return out;
    }

    /** The offset of the parenthesis closing the group that opens at {@code open}, or -1. */
    private static int closing(String regex, int[] depth, int open) {
        for (int i = open + 1; i < regex.length(); i++) if (regex.charAt(i) == ')' && depth[i] == depth[open] + 1) return i;
        return -1;
    }

    /**
     * For each char of a regex, the number of groups open before it; -1 for a char that is no syntax (escaped, or
     * inside a character class).
     */
    private static int[] depths(String regex) {
        int[] out = new int[regex.length()];
        int depth = 0;
        boolean inClass = false, escaped = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            out[i] = escaped || inClass ? -1 : depth;
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (inClass) inClass = c != ']';
            else if (c == '[') inClass = true;
            else if (c == '(') depth++;
            else if (c == ')') depth--;
        }
        return out;
    }

    /** Lower case code point by code point, as the case-insensitive regexes compare (lengths unchanged). */
    private static String lowerCase(String text) {
        return Lowered.of(text).text();
    }

    /** The alternatives of a regex's leading group when they are plain literals, lower-cased; otherwise null. */
    static List<String> leadingLiterals(String regex) {
        // A later top-level alternative need not open with the group: "(a|b) c|d e" matches "d e".
        if (alternatives(regex).size() > 1) return null;
        String r = regex.startsWith("\\b") ? regex.substring(2) : regex;
        if (!r.startsWith("(") || r.startsWith("(?")) return null;
        int close = r.indexOf(')');
        if (close < 0 || (close + 1 < r.length() && "?*{".indexOf(r.charAt(close + 1)) >= 0)) return null;
        String inner = r.substring(1, close);
        for (char c : inner.toCharArray()) {
            if ("()[]{}?*+.\\^$".indexOf(c) >= 0) return null;
        }
        List<String> out = new ArrayList<>();
        for (String alt : inner.split("\\|", -1)) {
            if (alt.isEmpty()) return null;
            out.add(lowerCase(alt));
        }
        return List.copyOf(out);
    }

    /** Categories combined as independent evidence: 1 − Π(1 − score). */
    static double combine(Map<String, Double> categories) {
        double miss = 1;
        for (double s : categories.values()) miss *= 1 - s;
        return 1 - miss;
    }
}
