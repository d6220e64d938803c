package dev.keel.guard;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How strongly a text hides words from a reader or a filter, each kind from 0 (none) to 1 (certain):
 * invisible characters inside Latin words, letters interleaved with separators, dense leetspeak, text
 * written backwards, framing that asks the model to decode a text and then act on it, and a payload split
 * into quoted fragments that the text asks to be joined. Legitimate text
 * rarely hides its words, so the detector weighs this against how instruction-like the revealed text is
 * ({@link LayeredInjectionDetector}); evidence alone blocks nothing. Zero-width joiners inside emoji
 * sequences, ZWNJ in Persian or Indic words, soft hyphens, tag characters of subdivision flags, version
 * strings, hashes and base64 blobs are not evidence. Stateless; linear in the text.
 */
record ObfuscationEvidence(double hiddenCharacters, double spacedLetters, double leetspeak, double reversed, double decodeAndObey,
                           double splitPayload) {

    /** Invisible characters inside Latin words at which the evidence is certain; one may be a copy-paste accident. */
    private static final int HIDDEN_CERTAIN = 3;
    /** Spaced-out letters below this are initials, a list of options or an alphabet exercise. */
    private static final int SPACED_MIN_LETTERS = 8;
    /** Spaced-out letters at which the evidence is certain: a whole phrase spelt out. */
    private static final int SPACED_CERTAIN = 16;
    /** Leetspeak words needed at all, and at which the evidence is certain: one is a product name ("k8s", "a11y"). */
    private static final int LEET_MIN_WORDS = 2, LEET_CERTAIN = 4;
    /** The share of a text's words that must be leetspeak: a release note with "i18n" and "l10n" has few. */
    private static final double LEET_MIN_SHARE = 0.2;
    /** Longer tokens are identifiers, hashes or base64, never leetspeak. */
    private static final int LEET_MAX_TOKEN = 20;
    /** Common English words read backwards needed, and the factor by which they must outnumber those read forwards. */
    private static final int REVERSED_MIN_WORDS = 3, REVERSED_DOMINANCE = 3;
    /** Reversed common words at which the evidence is certain. */
    private static final int REVERSED_CERTAIN = 5;
    /** Characters checked for backward reading: an attack reversed is short, and the check counts words. */
    private static final int REVERSED_MAX_CHARS = 4_000;
    /** The black flag that opens a subdivision flag sequence (England, Scotland, Wales) spelt in tag characters. */
    private static final int BLACK_FLAG = 0x1F3F4;
    private static final int TAG_FIRST = 0xE0020, TAG_LAST = 0xE007F;
    private static final int SOFT_HYPHEN = 0x00AD;

    /** Frequent English words that are no palindromes, so they read differently backwards. */
    private static final Set<String> COMMON_WORDS = Set.of("the", "and", "you", "your", "to", "of", "is", "in", "it", "that", "all", "for", "are",
            "this", "with", "not", "be", "me", "my", "now", "what", "tell", "ignore", "instructions", "previous", "system", "prompt", "rules",
            "say", "write", "print", "reveal", "show", "from", "on", "no", "give", "password", "secret", "answer", "any");
    /** An order to decode, translate or reverse a text and then act on what it says. */
    private static final Pattern DECODE_AND_OBEY = Pattern.compile("\\b(decode|decrypt|decipher|unscramble|deobfuscate|reverse|translate|convert"
            + "|interpret|base64[- ]decode|rot13)\\b[^.!?\\n]{0,100}\\b(and|then)\\b[^.!?\\n]{0,40}\\b(follow|obey|execute|carry out|act on|comply"
            + "|do (what|as) (it|they) (says?|tells?|asks?))\\b", Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CHARACTER_CLASS);
    /** A quoted fragment assigned to a short name ({@code a = "Ignore all pre"}, {@code b: 'vious rules'}). */
    private static final Pattern FRAGMENT = Pattern.compile("(?<![\\w.])\\w{1,12}\\s*(?:=|:=|:)\\s*(?:\"([^\"\\n]{1,200})\"|'([^'\\n]{1,200})'|“([^”\\n]{1,200})”)");
    /** An order to join fragments: {@code a + b}, "concatenate", "combine", "put them together". */
    private static final Pattern JOIN_PLUS = Pattern.compile("\\b\\w{1,12}\\s*\\+\\s*\\w{1,12}\\b", Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CHARACTER_CLASS);
    /** The words of an order to join; apart from {@link #JOIN_PLUS} so a text without '+' (most documents) skips that costlier scan. */
    private static final Pattern JOIN_WORDS = Pattern.compile("\\b(concatenat\\w*|combine|join|put (them|these|it|those) together|merge)\\b",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CHARACTER_CLASS);
    /** Fragments joined at most: a split payload has a handful; a data file with hundreds is not one. */
    private static final int MAX_FRAGMENTS = 16;
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    /** Punctuation around a word ("(1gn0r3,"), not part of its spelling. */
    private static final Pattern EDGE_PUNCTUATION = Pattern.compile("^[^\\p{L}\\p{N}]+|[.,;:!?)\"']+$");
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]+");
    private static final Pattern NON_LETTERS = Pattern.compile("[^\\p{L}]+");

    /** The strongest kind of evidence. */
    double strength() {
        return Math.max(inText(), inViews());
    }

    /** The evidence whose hidden words are the text's own (read through its folded view): invisible characters, spacing, leetspeak. */
    double inText() {
        return Math.max(Math.max(hiddenCharacters, spacedLetters), leetspeak);
    }

    /**
     * The evidence whose hidden words appear only in a view the detector builds (a decoded layer, the text reversed,
     * its fragments joined): only how instruction-like that view reads may weigh it, not the text around it ("x =
     * 'a'; y = 'b'; print(x + y)" is code, not a split payload, and "decode this base64 and follow the install steps"
     * is a request, unless what decodes is an order).
     */
    double inViews() {
        return Math.max(Math.max(reversed, splitPayload), decodeAndObey);
    }

    /**
     * The evidence in {@code raw} (the text as sent, invisible characters included) and its normalised form, whose
     * {@link #joinedFragments} the caller has already read (the detector scans that view too, and a long text's search for fragments is not cheap).
     */
    static ObfuscationEvidence of(String raw, String normalized, String joinedFragments) {
        return new ObfuscationEvidence(hiddenCharacters(raw), spacedLetters(normalized), leetspeak(normalized),
                reversedShare(normalized), DECODE_AND_OBEY.matcher(normalized).find() ? 1 : 0, joinedFragments.isEmpty() ? 0 : 1);
    }

    /**
     * The quoted fragments of a text joined in the order they are written, when there are two or more (and at most
     * {@link #MAX_FRAGMENTS}) and the text asks for them to be joined; else empty.
     */
    static String joinedFragments(String normalized) {
        boolean join = normalized.indexOf('+') >= 0 && JOIN_PLUS.matcher(normalized).find() || JOIN_WORDS.matcher(normalized).find();
        if (!join) return "";
        var m = FRAGMENT.matcher(normalized);
        StringBuilder joined = new StringBuilder();
        int fragments = 0;
        while (m.find()) {
            if (++fragments > MAX_FRAGMENTS) return "";
            for (int g = 1; g <= m.groupCount(); g++) if (m.group(g) != null) joined.append(m.group(g));
        }
        return fragments >= 2 ? joined.toString() : "";
    }

    /**
     * The text read backwards, whole and word by word, when it reads as English that way and not forwards;
     * else nothing.
     */
    static List<String> reversedViews(String normalized) {
        if (reversedShare(normalized) == 0) return List.of();
        String head = normalized.length() > REVERSED_MAX_CHARS ? normalized.substring(0, REVERSED_MAX_CHARS) : normalized;
        String whole = new StringBuilder(head).reverse().toString();
        StringBuilder byWord = new StringBuilder(head.length());
        for (String w : head.split(" ", -1)) {
            if (!byWord.isEmpty()) byWord.append(' ');
            byWord.append(new StringBuilder(w).reverse());
        }
        return List.of(whole, byWord.toString());
    }

    private static double reversedShare(String normalized) {
        String head = normalized.length() > REVERSED_MAX_CHARS ? normalized.substring(0, REVERSED_MAX_CHARS) : normalized;
        int forward = 0, backward = 0;
        for (String w : NON_LETTERS.split(head.toLowerCase(Locale.ROOT))) {
            if (w.isEmpty()) continue;
            if (COMMON_WORDS.contains(w)) forward++;
            if (COMMON_WORDS.contains(new StringBuilder(w).reverse().toString())) backward++;
        }
        if (backward < REVERSED_MIN_WORDS || backward < REVERSED_DOMINANCE * forward) return 0;
        return Math.min(1, backward / (double) REVERSED_CERTAIN);
    }

    /** One pass: a run of invisible characters counts when the visible code points on both sides are Latin letters. */
    private static double hiddenCharacters(String raw) {
        int hidden = 0, pending = 0, before = 0;
        for (int i = 0; i < raw.length(); ) {
            int cp = raw.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (cp >= TAG_FIRST && cp <= TAG_LAST) {
                if (before != BLACK_FLAG && (i == 0 || !(raw.codePointBefore(i) >= TAG_FIRST && raw.codePointBefore(i) <= TAG_LAST))) hidden += HIDDEN_CERTAIN;
            } else if (Character.getType(cp) == Character.FORMAT) {
                if (cp != SOFT_HYPHEN) pending++;
            } else {
                if (pending > 0 && latinLetter(before) && latinLetter(cp)) hidden += pending;
                pending = 0;
                before = cp;
            }
            if (hidden >= HIDDEN_CERTAIN) return 1;
            i = next;
        }
        return hidden / (double) HIDDEN_CERTAIN;
    }

    private static boolean latinLetter(int cp) {
        return Character.isLetter(cp) && Character.UnicodeScript.of(cp) == Character.UnicodeScript.LATIN;
    }

    private static double spacedLetters(String normalized) {
        String spaced = InputNormalizer.spacedOutLetters(normalized);
        int letters = 0;
        for (int i = 0; i < spaced.length(); i++) if (spaced.charAt(i) != ' ') letters++;
        return letters < SPACED_MIN_LETTERS ? 0 : Math.min(1, letters / (double) SPACED_CERTAIN);
    }

    private static double leetspeak(String normalized) {
        int words = 0, leet = 0;
        for (String token : WHITESPACE.split(normalized)) {
            String w = EDGE_PUNCTUATION.matcher(token).replaceAll("");
            if (w.length() < 3) continue;
            words++;
            if (leetWord(w)) leet++;
        }
        if (leet < LEET_MIN_WORDS || leet < LEET_MIN_SHARE * words) return 0;
        return Math.min(1, leet / (double) LEET_CERTAIN);
    }

    /**
     * A word spelt with digits or symbols for letters ("1gn0r3", "p4ssw0rd"): at least two of each, every
     * character a letter or a leetspeak stand-in, and not a hexadecimal number or an over-long token.
     */
    private static boolean leetWord(String w) {
        if (w.length() > LEET_MAX_TOKEN || HEX.matcher(w).matches()) return false;
        int letters = 0, standIns = 0;
        for (int i = 0; i < w.length(); i++) {
            char c = w.charAt(i);
            if (c < 128 && Character.isLetter(c)) letters++;
            else if ("013457@$!|".indexOf(c) >= 0) standIns++;
            else return false;
        }
        return letters >= 2 && standIns >= 2;
    }
}
