package dev.keel.guard;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds text hidden in a text by encoding: base64, hex, ROT13, URL percent-encoding, HTML entities and
 * {@code \}{@code uXXXX} escapes, decoded recursively up to a depth. A decoded layer is kept only when it
 * is readable text (valid UTF-8, mostly printable; for ROT13, more English than the original), so
 * image data or hashes yield nothing. Work is bounded whatever the input: candidates, decoded
 * characters and layers are capped. Thread-safe (stateless).
 */
final class EncodedPayloads {
    /** A decoded layer: the chain of encodings that hid it ({@code base64}, {@code base64/rot13}) and its text. */
    record Layer(String encoding, String text) {}

    /** Layers returned at most per text, all depths together: more is an attack on the guard itself. */
    static final int MAX_LAYERS = 16;
    /** Characters of one encoded candidate that are decoded; a longer blob is decoded from its start. */
    static final int MAX_CANDIDATE_CHARS = 16_384;
    /** Decoded characters per text, all layers together: bounds the detector's work on hostile input. */
    static final int MAX_DECODED_CHARS = 65_536;
    /** Candidates examined per text and depth (their decoded characters share {@link #MAX_DECODED_CHARS}). */
    private static final int MAX_CANDIDATES = 512;
    /** Shortest encoded run worth decoding: 16 base64 characters are 12 bytes, a short instruction. */
    private static final int MIN_ENCODED_CHARS = 16;
    /** Share of printable characters a decoded layer needs to count as text. */
    private static final double MIN_PRINTABLE = 0.9;
    /** Percent or entity escapes a text needs before it is decoded as a whole. */
    private static final int MIN_ESCAPES = 3;
    /** Common English words a ROT13 reading needs to be scanned whatever the original reads like. */
    private static final int MIN_ROT13_WORDS = 4;

    /** Padding a base64 candidate may end with. */
    private static final int MAX_PADDING = 2;
    private static final Pattern HEX = Pattern.compile("(?:(?:\\\\x|0x)?[0-9A-Fa-f]{2}[ ,:]?+){8,}+");
    private static final Pattern PERCENT = Pattern.compile("%[0-9A-Fa-f]{2}");
    private static final Pattern ENTITY = Pattern.compile("&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[a-zA-Z]{2,8});");
    private static final Pattern UNICODE_ESCAPE = Pattern.compile("\\\\u([0-9A-Fa-f]{4})");
    /** Frequent English words: ROT13 text has few, its decoding many. */
    private static final Set<String> COMMON = Set.of("the", "and", "you", "your", "all", "to", "of", "is", "are", "a", "in", "for", "this",
            "that", "it", "me", "my", "with", "what", "be", "now", "not", "do", "tell", "say", "how", "instructions", "ignore", "previous",
            "system", "prompt", "password", "secret");
    /** The longest word of {@link #COMMON}: a longer run of letters is not looked up. */
    private static final int LONGEST_COMMON = COMMON.stream().mapToInt(String::length).max().orElseThrow();

    private EncodedPayloads() {}

    /** The readable layers hidden in {@code text}, breadth first, up to {@code maxDepth} nested encodings. */
    static List<Layer> decode(String text, int maxDepth) {
        List<Layer> out = new ArrayList<>();
        List<Layer> frontier = List.of(new Layer("", text));
        int[] budget = {MAX_DECODED_CHARS};
        for (int depth = 0; depth < maxDepth && !frontier.isEmpty(); depth++) {
            List<Layer> next = new ArrayList<>();
            for (Layer parent : frontier) {
                for (Layer child : decodeOnce(parent.text(), budget)) {
                    if (out.size() >= MAX_LAYERS) return out;
                    Layer named = new Layer(parent.encoding().isEmpty() ? child.encoding() : parent.encoding() + "/" + child.encoding(), child.text());
                    out.add(named);
                    next.add(named);
                }
            }
            frontier = next;
        }
        return out;
    }

    private static List<Layer> decodeOnce(String text, int[] budget) {
        List<Layer> out = new ArrayList<>();
        int[] candidates = {0};
        // Every candidate of one encoding joins one layer, so harmless blobs before a payload cannot use up the layers.
        add(out, "base64", joined(base64Runs(text), EncodedPayloads::base64, candidates, budget), budget);
        Matcher hex = HEX.matcher(text);
        add(out, "hex", joined(() -> hex.find() ? hex.group() : null, EncodedPayloads::hex, candidates, budget), budget);
        if (budget[0] > 0 && count(PERCENT, '%', text) >= MIN_ESCAPES) add(out, "url", percent(clip(text)), budget);
        if (budget[0] > 0 && count(ENTITY, '&', text) >= MIN_ESCAPES) add(out, "html", entities(clip(text)), budget);
        if (budget[0] > 0 && count(UNICODE_ESCAPE, '\\', text) >= MIN_ESCAPES) add(out, "unicode", unicodeEscapes(clip(text)), budget);
        if (budget[0] > 0) {
            String rot = rot13(clip(text));
            int rotWords = englishWords(rot);
            // Plain sentences around a ROT13 payload make the original read as more English than its ROT13: keep a reading with a few words anyway.
            if (rotWords >= MIN_ROT13_WORDS || rotWords > Math.max(1, englishWords(clip(text)))) add(out, "rot13", rot, budget);
        }
        return out;
    }

    /** Candidates in text order from {@code next} (null when there are no more), decoded and joined by line breaks. */
    private static String joined(Supplier<String> next, UnaryOperator<String> decoder, int[] candidates, int[] budget) {
        StringBuilder out = new StringBuilder();
        String candidate;
        while (out.length() < budget[0] && candidates[0]++ < MAX_CANDIDATES && (candidate = next.get()) != null) {
            String decoded = decoder.apply(clip(candidate));
            if (decoded != null && !decoded.isBlank()) out.append(out.isEmpty() ? "" : "\n").append(decoded);
        }
        return out.isEmpty() ? null : out.toString();
    }

    /**
     * The base64 candidates of a text, one at a time: every maximal run of at least {@link #MIN_ENCODED_CHARS} base64
     * characters (either alphabet) with up to {@link #MAX_PADDING} {@code =} after it. What the regex
     * {@code [A-Za-z0-9+/_-]{16,}+={0,2}} finds, in one pass over the text.
     */
    static Supplier<String> base64Runs(String text) {
        int[] at = {0};
        return () -> {
            int n = text.length();
            while (at[0] < n) {
                int start = at[0];
                while (start < n && !base64Char(text.charAt(start))) start++;
                int end = start;
                while (end < n && base64Char(text.charAt(end))) end++;
                at[0] = end;
                if (end - start < MIN_ENCODED_CHARS) continue;
                while (at[0] < n && at[0] - end < MAX_PADDING && text.charAt(at[0]) == '=') at[0]++;
                return text.substring(start, at[0]);
            }
            return null;
        };
    }

    private static boolean base64Char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '_' || c == '-';
    }

    private static void add(List<Layer> out, String encoding, String decoded, int[] budget) {
        if (decoded == null || decoded.isBlank()) return;
        String kept = decoded.length() > budget[0] ? decoded.substring(0, budget[0]) : decoded;
        budget[0] -= kept.length();
        out.add(new Layer(encoding, kept));
    }

    private static String clip(String s) {
        return s.length() > MAX_CANDIDATE_CHARS ? s.substring(0, MAX_CANDIDATE_CHARS) : s;
    }

    /**
     * Matches of {@code p}, up to {@link #MIN_ESCAPES}; {@code marker} is a character every match holds, so a text
     * without it (most long documents) is not scanned by the regex at all.
     */
    private static int count(Pattern p, char marker, String text) {
        if (text.indexOf(marker) < 0) return 0;
        Matcher m = p.matcher(text);
        int n = 0;
        while (n < MIN_ESCAPES && m.find()) n++;
        return n;
    }

    private static String base64(String token) {
        String s = token.replace('-', '+').replace('_', '/').replace("=", "");
        s = s.substring(0, s.length() - (s.length() % 4 == 1 ? 1 : 0));
        try {
            return readable(Base64.getDecoder().decode(s + "==".substring(0, (4 - s.length() % 4) % 4)));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String hex(String run) {
        String digits = run.replaceAll("\\\\x|0x|[ ,:]", "");
        if (digits.length() % 2 == 1) digits = digits.substring(0, digits.length() - 1);
        byte[] bytes = new byte[digits.length() / 2];
        for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) Integer.parseInt(digits, 2 * i, 2 * i + 2, 16);
        return readable(bytes);
    }

    private static String percent(String text) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%' && i + 2 < text.length() && hexDigit(text.charAt(i + 1)) && hexDigit(text.charAt(i + 2))) {
                bytes.write(Integer.parseInt(text, i + 1, i + 3, 16));
                i += 2;
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return readable(bytes.toByteArray());
    }

    private static String entities(String text) {
        Matcher m = ENTITY.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            String e = m.group();
            String rep = switch (e.toLowerCase(java.util.Locale.ROOT)) {
                case "&lt;" -> "<";
                case "&gt;" -> ">";
                case "&amp;" -> "&";
                case "&quot;" -> "\"";
                case "&apos;" -> "'";
                case "&nbsp;" -> " ";
                default -> e.startsWith("&#") ? codePoint(e.charAt(2) == 'x' || e.charAt(2) == 'X'
                        ? Integer.parseInt(e, 3, e.length() - 1, 16) : Integer.parseInt(e, 2, e.length() - 1, 10), e) : e;
            };
            m.appendReplacement(out, Matcher.quoteReplacement(rep));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String unicodeEscapes(String text) {
        return UNICODE_ESCAPE.matcher(text).replaceAll(r -> Matcher.quoteReplacement(String.valueOf((char) Integer.parseInt(r.group(1), 16))));
    }

    private static String codePoint(int cp, String fallback) {
        return Character.isValidCodePoint(cp) ? new String(Character.toChars(cp)) : fallback;
    }

    static String rot13(String text) {
        char[] out = text.toCharArray();
        for (int i = 0; i < out.length; i++) {
            char c = out[i];
            if (c >= 'a' && c <= 'z') out[i] = (char) ('a' + (c - 'a' + 13) % 26);
            else if (c >= 'A' && c <= 'Z') out[i] = (char) ('A' + (c - 'A' + 13) % 26);
        }
        return new String(out);
    }

    /** Words of {@link #COMMON} among the runs of ASCII letters a–z of the lower-cased text (a hand-rolled {@code [a-z]+} scan). */
    private static int englishWords(String text) {
        String t = text.toLowerCase(java.util.Locale.ROOT);
        int n = 0;
        for (int i = 0; i < t.length(); ) {
            if (!asciiLower(t.charAt(i))) {
                i++;
                continue;
            }
            int start = i;
            while (i < t.length() && asciiLower(t.charAt(i))) i++;
            if (i - start <= LONGEST_COMMON && COMMON.contains(t.substring(start, i))) n++;
        }
        return n;
    }

    private static boolean asciiLower(char c) {
        return c >= 'a' && c <= 'z';
    }

    private static boolean hexDigit(char c) {
        return Character.digit(c, 16) >= 0;
    }

    /** The bytes as text when they are valid UTF-8 and mostly printable; otherwise null. */
    private static String readable(byte[] bytes) {
        if (bytes.length < MIN_ENCODED_CHARS / 2) return null;
        String s;
        try {
            // A few stray bytes (a hex-looking word after the payload) must not hide the readable rest.
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        int printable = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\uFFFD' && (!Character.isISOControl(c) || c == '\n' || c == '\r' || c == '\t')) printable++;
        }
        return printable >= MIN_PRINTABLE * s.length() ? s : null;
    }
}
