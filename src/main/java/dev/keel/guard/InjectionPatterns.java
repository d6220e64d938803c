package dev.keel.guard;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
     * Shortest literal of ASCII letters, digits or spaces worth a look-up: single letters occur everywhere (a
     * CJK character or a bracket does not).
     */
    private static final int MIN_LITERAL = 2;
    /** Group openings whose contents start a match as a plain group's do: non-capturing, case flags only. */
    private static final List<String> GROUP_OPENINGS = List.of("(?:", "(?i:", "(?-i:");

    /**
     * One pattern; {@code anyOf} lists the lower-cased literals one of which every match starts with
     * (read off the regex's leading group), or is null when the regex has no such group. A text
     * holding none of them is not matched against the regex: most rules are ruled out by a few
     * literal look-ups instead of a scan with backtracking at every position. {@code lead} lists the
     * literals one of which starts every match ({@link #matchStarts}); on a text whose lower-casing
     * is exact (see {@link Lowered}) the regex is tried only at the offsets where one occurs. A rule
     * without them may have {@code required} literals ({@link #requiredLiterals}): on such a text, one must
     * occur before the regex runs.
     */
    private record Rule(String category, double weight, Pattern regex, int[] anyOf, int[] lead, int[] required) {}

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
            List<String> anyOf = leadingLiterals(f[2]);
            List<String> lead = foldable(matchStarts(f[2]));
            rules.add(new Rule(f[0], Double.parseDouble(f[1]),
                    Pattern.compile(f[2], Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS | Pattern.MULTILINE),
                    ids(foldable(anyOf), ids), ids(lead, ids), ids(lead == null ? foldable(requiredLiterals(f[2])) : null, ids)));
        }
        return new InjectionPatterns(rules, new LiteralAutomaton(List.copyOf(ids.keySet())));
    }

    /** The literals when the lower-casing argument of {@link Lowered} holds for each of them; otherwise null. */
    private static List<String> foldable(List<String> literals) {
        return literals != null && literals.stream().allMatch(InjectionPatterns::foldsAsLowered) ? literals : null;
    }

    private static int[] ids(List<String> literals, Map<String, Integer> ids) {
        return literals == null ? null : literals.stream().mapToInt(l -> ids.computeIfAbsent(l, k -> ids.size())).distinct().toArray();
    }

    /** The strongest match per category in {@code text}; categories without a match are absent. */
    Map<String, Double> match(String text) {
        Map<String, Double> found = new TreeMap<>();
        Lowered lower = Lowered.of(text);
        int[][] at = literals.occurrences(lower.text());
        for (Rule r : rules) {
            Double best = found.get(r.category);
            if (best != null && best >= r.weight) continue;
            // Literal prefilters hold only where lower case is the regex engine's case folding (not for "ı" or "ſ").
            if (lower.exact() && r.anyOf != null && noneOccurs(r.anyOf, at)) continue;
            if (lower.exact() && r.required != null && noneOccurs(r.required, at)) continue;
            boolean hit = lower.exact() && r.lead != null ? matchesAtAny(r.regex.matcher(text), r.lead, at) : r.regex.matcher(text).find();
            if (hit) found.put(r.category, r.weight);
        }
        return found;
    }

    private static boolean noneOccurs(int[] ids, int[][] at) {
        for (int id : ids) if (at[id] != null) return false;
        return true;
    }

    /** Whether a match of {@code m}'s regex starts at an offset where one of the literals {@code ids} occurs. */
    private static boolean matchesAtAny(Matcher m, int[] ids, int[][] at) {
        // Transparent, non-anchoring bounds: \b, ^ and look-behind see the text before the start, as find() would.
        m.useTransparentBounds(true).useAnchoringBounds(false);
        int end = m.regionEnd();
        for (int id : ids) {
            if (at[id] == null) continue;
            for (int start : at[id]) {
                m.region(start, end);
                if (m.lookingAt()) return true;
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

    /** Whether every char of a literal lower-cases to its case folding, so {@link Lowered#exact} reasoning holds for it. */
    private static boolean foldsAsLowered(String literal) {
        return literal.chars().allMatch(c -> !Character.isSurrogate((char) c) && c == Character.toLowerCase(Character.toUpperCase(c)));
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
                if ("?*{".indexOf(c) >= 0 && !out.isEmpty()) out.setLength(out.length() - 1);
                break;
            }
            out.append(c);
        }
        boolean rare = out.length() >= MIN_LITERAL || out.chars().anyMatch(c -> c >= 128 || !(Character.isLetterOrDigit(c) || Character.isWhitespace(c)));
        return !out.isEmpty() && rare ? List.of(lowerCase(out.toString())) : null;
    }

    /**
     * Lower-cased literals one of which occurs in every match of a regex without top-level alternatives: the
     * {@link #matchStarts} of one of its top-level groups that is not optional (the one whose shortest literal is
     * longest), or null when there is none.
     */
    static List<String> requiredLiterals(String regex) {
        if (alternatives(regex).size() > 1) return null;
        int[] depth = depths(regex);
        List<String> best = null;
        for (int i = 0; i < regex.length(); i++) {
            if (regex.charAt(i) != '(' || depth[i] != 0) continue;
            int close = closing(regex, depth, i);
            if (close < 0) return best;
            boolean optional = close + 1 < regex.length() && "?*{".indexOf(regex.charAt(close + 1)) >= 0;
            List<String> group = optional ? null : alternativeStarts(regex.substring(i, close + 1));
            if (group != null && (best == null || shortest(group) > shortest(best))) best = group;
            i = close;
        }
        return best;
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
