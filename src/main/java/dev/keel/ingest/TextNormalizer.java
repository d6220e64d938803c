package dev.keel.ingest;

import java.text.Normalizer;
import java.util.regex.Pattern;

/** Unicode NFKC, no control characters or zero-width marks, words re-joined across PDF line-end hyphens. */
final class TextNormalizer {
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}&&[^\\n\\t]]|[\\u200B-\\u200D\\uFEFF\\u00AD]");
    private static final Pattern HYPHEN_BREAK = Pattern.compile("(\\p{Ll})-\\n(\\p{Ll})");
    private static final Pattern SPACES = Pattern.compile("[ \\t\\u00A0\\u2000-\\u200A\\u202F\\u205F\\u3000]+");
    private static final Pattern NEWLINES = Pattern.compile("\\s*\\n\\s*");

    private TextNormalizer() {}

    /** Normalises one block: all whitespace runs become single spaces. */
    static String inline(String s) {
        String t = Normalizer.normalize(s, Normalizer.Form.NFKC);
        t = CONTROL.matcher(t).replaceAll("");
        t = HYPHEN_BREAK.matcher(t).replaceAll("$1$2");
        t = NEWLINES.matcher(t).replaceAll(" ");
        return SPACES.matcher(t).replaceAll(" ").trim();
    }

    /** Normalises a block whose line breaks matter (code, lists): spaces collapse, newlines stay. */
    static String keepLines(String s) {
        String t = Normalizer.normalize(s, Normalizer.Form.NFKC);
        t = CONTROL.matcher(t).replaceAll("");
        StringBuilder out = new StringBuilder();
        for (String line : t.split("\n")) {
            String l = SPACES.matcher(line).replaceAll(" ").strip();
            if (!l.isEmpty()) out.append(out.isEmpty() ? "" : "\n").append(l);
        }
        return out.toString();
    }
}
