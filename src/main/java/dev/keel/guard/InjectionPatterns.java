package dev.keel.guard;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
     * One pattern; {@code anyOf} lists the lower-cased literals one of which every match starts with
     * (read off the regex's leading group), or is null when the regex has no such group. A text
     * holding none of them is not matched against the regex: most rules are ruled out by a few
     * {@code indexOf} calls instead of a scan with backtracking at every position.
     */
    private record Rule(String category, double weight, Pattern regex, List<String> anyOf) {}

    private final List<Rule> rules;

    private InjectionPatterns(List<Rule> rules) {
        this.rules = List.copyOf(rules);
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
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t", 3);
            if (f.length != 3) throw new IllegalArgumentException("pattern line " + (i + 1) + ": expected category, weight and regex separated by tabs");
            rules.add(new Rule(f[0], Double.parseDouble(f[1]),
                    Pattern.compile(f[2], Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS | Pattern.MULTILINE),
                    leadingLiterals(f[2])));
        }
        return new InjectionPatterns(rules);
    }

    /** The strongest match per category in {@code text}; categories without a match are absent. */
    Map<String, Double> match(String text) {
        Map<String, Double> found = new TreeMap<>();
        String lower = lowerCase(text);
        for (Rule r : rules) {
            if (found.getOrDefault(r.category, 0.0) >= r.weight) continue;
            if (r.anyOf != null && r.anyOf.stream().noneMatch(lower::contains)) continue;
            if (r.regex.matcher(text).find()) found.put(r.category, r.weight);
        }
        return found;
    }

    /** Lower case code point by code point, as the case-insensitive regexes compare (lengths unchanged). */
    private static String lowerCase(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> out.appendCodePoint(Character.toLowerCase(cp)));
        return out.toString();
    }

    /** The alternatives of a regex's leading group when they are plain literals, lower-cased; otherwise null. */
    static List<String> leadingLiterals(String regex) {
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
