package dev.keel.guard;

import com.ibm.icu.text.SpoofChecker;
import java.text.Normalizer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Undoes the cheap disguises attackers put on text before detection. {@link #normalize} is the view
 * every layer reads: Unicode NFKC (full-width and mathematical letters become plain ones), invisible
 * format characters (zero-width, bidi controls, variation selectors) removed, Unicode tag characters
 * turned back into the ASCII they smuggle, horizontal whitespace collapsed. {@link #fold} is a second,
 * lossy view for the pattern layer: look-alike letters from other scripts folded to Latin (UTS #39
 * confusable skeletons, only inside words that also hold ASCII letters, so Russian or Greek text stays
 * Russian or Greek), leetspeak inside words folded to letters, and spaced-out letters joined. Both run
 * in time linear in the text; thread-safe.
 */
final class InputNormalizer {
    /** Unicode tag characters (U+E0020..U+E007E) mirror printable ASCII; invisible, used to smuggle instructions. */
    private static final int TAG_BASE = 0xE0000;
    private static final int TAG_FIRST = 0xE0020;
    private static final int TAG_LAST = 0xE007E;
    /** Single letters in a row before they count as a spaced-out word ("i g n o r e"); two is too common ("a b"). */
    private static final int SPACED_MIN_LETTERS = 3;

    private static final SpoofChecker SPOOF = new SpoofChecker.Builder().build();
    /** Skeletons of single code points; bounded by the number of distinct code points Unicode has. */
    private static final ConcurrentHashMap<Integer, String> SKELETONS = new ConcurrentHashMap<>();

    private InputNormalizer() {}

    /** NFKC, invisible characters removed, tag characters decoded, spaces and tabs collapsed. */
    static String normalize(String text) {
        String nfkc = Normalizer.normalize(text, Normalizer.Form.NFKC);
        StringBuilder out = new StringBuilder(nfkc.length());
        boolean space = false;
        for (int i = 0; i < nfkc.length(); ) {
            int cp = nfkc.codePointAt(i);
            i += Character.charCount(cp);
            if (cp >= TAG_FIRST && cp <= TAG_LAST) cp -= TAG_BASE;
            else if (invisible(cp)) continue;
            if (cp == ' ' || cp == '\t' || cp == '\u00A0' || Character.getType(cp) == Character.SPACE_SEPARATOR) {
                if (!space) out.append(' ');
                space = true;
                continue;
            }
            space = false;
            out.appendCodePoint(cp);
        }
        return out.toString();
    }

    /**
     * The lossy view of a normalised text: confusables, leetspeak and spaced-out letters folded. Equal
     * to the input when none of them occurs.
     */
    static String fold(String normalized) {
        return joinSpacedLetters(foldWords(normalized, mostlyAscii(normalized)));
    }

    /** Whether most letters of a text are ASCII: then a word made only of look-alikes is a disguise, not another language. */
    private static boolean mostlyAscii(String text) {
        int ascii = 0, other = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isLetter(c)) {
                if (c < 128) ascii++;
                else other++;
            }
        }
        return ascii > other;
    }

    private static boolean invisible(int cp) {
        int type = Character.getType(cp);
        return type == Character.FORMAT                       // zero-width, bidi controls, soft hyphen, BOM
                || (cp >= 0xFE00 && cp <= 0xFE0F)             // variation selectors
                || (cp >= 0xE0100 && cp <= 0xE01EF)
                || cp == 0x034F                               // combining grapheme joiner
                || cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0; // Hangul fillers render as nothing
    }

    /** Folds confusables and leetspeak word by word; a word is a run of non-whitespace. */
    private static String foldWords(String text, boolean latinText) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            if (Character.isWhitespace(text.charAt(i))) {
                out.append(text.charAt(i++));
                continue;
            }
            int end = i;
            while (end < text.length() && !Character.isWhitespace(text.charAt(end))) end++;
            out.append(foldWord(text, i, end, latinText));
            i = end;
        }
        return out.toString();
    }

    private static CharSequence foldWord(String text, int start, int end, boolean latinText) {
        boolean asciiLetter = latinText && allLookAlikes(text, start, end), otherLetter = false, leet = false;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < 128 && Character.isLetter(c)) asciiLetter = true;
            else if (c >= 128 && Character.isLetter(c)) otherLetter = true;
            else if (leetLetter(c) != 0) leet = true;
        }
        if (!asciiLetter || !(otherLetter || leet)) return text.subSequence(start, end);
        StringBuilder w = new StringBuilder(end - start);
        for (int i = start; i < end; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp >= 128 && Character.isLetter(cp)) {
                w.append(skeleton(cp));
            } else {
                char l = cp < 128 && leet && inside(text, i - 1, start, end) ? leetLetter((char) cp) : 0;
                if (l != 0) w.append(l);
                else w.appendCodePoint(cp);
            }
        }
        return w;
    }

    /** Whether every non-ASCII letter of the word has a Latin look-alike (and there is at least one). */
    private static boolean allLookAlikes(String text, int start, int end) {
        boolean any = false;
        for (int i = start; i < end; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < 128 || !Character.isLetter(cp)) continue;
            if (skeleton(cp).codePointAt(0) >= 128) return false;
            any = true;
        }
        return any;
    }

    /** Whether position {@code at} has a letter or digit on either side within the word: "4ll" yes, "hi!" no. */
    private static boolean inside(String text, int at, int start, int end) {
        boolean before = at > start && Character.isLetterOrDigit(text.charAt(at - 1));
        boolean after = at + 1 < end && Character.isLetterOrDigit(text.charAt(at + 1));
        return Character.isDigit(text.charAt(at)) ? before || after : before && after;
    }

    /** The ASCII letter a leetspeak character stands for, or 0. */
    private static char leetLetter(char c) {
        return switch (c) {
            case '0' -> 'o';
            case '1', '!', '|' -> 'i';
            case '3' -> 'e';
            case '4', '@' -> 'a';
            case '5', '$' -> 's';
            case '7', '+' -> 't';
            case '8' -> 'b';
            case '9' -> 'g';
            default -> 0;
        };
    }

    /** The Latin look-alike of a non-ASCII letter, or the letter itself when it has none. */
    private static String skeleton(int cp) {
        return SKELETONS.computeIfAbsent(cp, c -> {
            String s = SPOOF.getSkeleton(new String(Character.toChars(c)));
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) >= 128 || !Character.isLetter(s.charAt(i))) return new String(Character.toChars(c));
            }
            return s;
        });
    }

    /**
     * Joins runs of single letters separated by spaces or punctuation ("i g n o r e", "i.g.n.o.r.e",
     * "i-g-n-o-r-e a-l-l") into words. A word break is kept where the gap differs from the one between
     * letters: a space when letters are joined by punctuation, two spaces or a slash when by one space.
     */
    private static String joinSpacedLetters(String text) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0, n = text.length();
        while (i < n) {
            int runEnd = spacedRunEnd(text, i);
            if (runEnd < 0) {
                out.append(text.charAt(i++));
                continue;
            }
            boolean punctuationJoins = text.charAt(i + 1) != ' ';
            int j = i;
            while (j < runEnd) {
                char c = text.charAt(j);
                if (Character.isLetter(c)) {
                    out.append(c);
                    j++;
                    continue;
                }
                int gapStart = j;
                while (j < runEnd && !Character.isLetter(text.charAt(j))) j++;
                String gap = text.substring(gapStart, j);
                boolean wordBreak = punctuationJoins ? gap.indexOf(' ') >= 0 : gap.length() >= 2 || gap.indexOf('/') >= 0;
                if (wordBreak) out.append(' ');
            }
            i = runEnd;
        }
        return out.toString();
    }

    /**
     * The letters of every spaced-out run in a normalised text, lower-cased and without any break
     * ("i g n o r e a l l" → "ignoreall"), runs separated by a space; empty when there is none. Word
     * breaks are lost when every gap is the same, so phrases are looked for in this form too.
     */
    static String spacedOutLetters(String normalized) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < normalized.length()) {
            int runEnd = spacedRunEnd(normalized, i);
            if (runEnd < 0) {
                i++;
                continue;
            }
            if (!out.isEmpty()) out.append(' ');
            for (int j = i; j < runEnd; j++) if (Character.isLetter(normalized.charAt(j))) out.append(Character.toLowerCase(normalized.charAt(j)));
            i = runEnd;
        }
        return out.toString();
    }

    /** The end of a spaced-out run starting at {@code i}, or -1 when none starts there. */
    private static int spacedRunEnd(String text, int i) {
        int n = text.length();
        if (!Character.isLetter(text.charAt(i)) || (i > 0 && Character.isLetterOrDigit(text.charAt(i - 1)))) return -1;
        int letters = 1, at = i + 1, lastLetterEnd = i + 1;
        while (at < n) {
            int gap = at;
            while (gap < n && gap - at < 3 && separator(text.charAt(gap))) gap++;
            if (gap == at || gap >= n || !Character.isLetter(text.charAt(gap))) break;
            if (gap + 1 < n && Character.isLetterOrDigit(text.charAt(gap + 1))) break;
            letters++;
            lastLetterEnd = gap + 1;
            at = gap + 1;
        }
        return letters >= SPACED_MIN_LETTERS ? lastLetterEnd : -1;
    }

    private static boolean separator(char c) {
        return c == ' ' || c == '.' || c == '-' || c == '_' || c == '*' || c == '/';
    }
}
