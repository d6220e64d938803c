package dev.keel.guard;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The output guard over one streamed reply. Text deltas go in as the model wrote them (with the
 * request's placeholders); what comes out is the text the client may see so far: placeholders put
 * back even when a delta splits one, and, with output checks on, entities redacted by policy and
 * the stream stopped on a block. It holds back the text that may still grow into an entity or the
 * canary: the last word, and before it the words that look like groups of a spaced number (digits,
 * '@', short upper-case groups such as an IBAN's), at most the last {@value #WINDOW} characters; so
 * an entity or the canary up to that length is caught before any of it is shown, and a longer one
 * may be partly shown before it is recognised. A secret that is longer or needs its cue is held
 * whole: a PEM block up to its END line, a word that may be a token ({@code eyJ…}, a URL that may
 * carry a password) or a long word right after a secret's label, each up to {@value #SECRET_HOLD}
 * characters. Every check also reads the last {@value #CONTEXT} characters already shown, so a
 * label released before its value ({@code pwd: }, {@code Bearer }, {@code SSN: }) still marks the
 * value: the stream redacts as the whole text would be redacted. Not thread-safe: one stream owns
 * it. Holds raw PII (restored text), so it is never logged.
 */
public final class StreamGuard {
    /**
     * The most characters held back: longer than the canary (28) and the structured entities (an
     * IBAN with spaces is 42, most email addresses fit); a word or run of number groups longer than
     * this is released from its start while it still grows.
     */
    public static final int WINDOW = 64;
    /** An upper-case group up to this length may be part of a spaced IBAN ({@code GB82 WEST 1234}). */
    private static final int MAX_LETTER_GROUP = 4;
    /** The longest placeholder a request hands out ({@code <CREDIT_CARD_99999>}); a longer run after '<' is plain text. */
    private static final int MAX_PLACEHOLDER = 24;
    /**
     * The most characters held for one secret: a 4096-bit RSA private key in PEM is about 3,300; a
     * longer run is released (the detector still redacts an unterminated PEM body or a token it sees whole).
     */
    public static final int SECRET_HOLD = 8192;
    /** Shown text re-read by each check: the labels a context-dependent entity keys on sit within a few words of it. */
    static final int CONTEXT = 256;
    /** How far before a long word a secret's label is looked for ({@code aws_secret_access_key = }). */
    private static final int LABEL_REACH = 48;
    /** Lower-case words that label a secret's value (those the secret detector keys on). */
    private static final List<String> SECRET_LABELS = List.of("pass", "pwd", "secret", "token", "key", "credential", "bearer", "basic", "aws",
            "auth");
    private static final java.util.regex.Pattern PEM_END = java.util.regex.Pattern.compile("-----END [A-Z0-9 ]{1,64}-----");

    private final Guard guard;
    private final Redaction placeholders;
    private final Redaction outputPlaceholders = new Redaction();
    private final Predicate<String> supplied;
    private final boolean checks;
    private final StringBuilder unrestored = new StringBuilder();
    private final StringBuilder held = new StringBuilder();
    /** The last {@value #CONTEXT} characters shown, as shown (placeholders in place of what was redacted). */
    private final StringBuilder context = new StringBuilder();
    private final TreeSet<String> categories = new TreeSet<>();
    private final Map<String, Integer> acted = new TreeMap<>();
    private GuardVerdict.Block blocked;
    private boolean redacted;

    /**
     * A guard over one stream: {@code placeholders} are the request's, {@code supplied} accepts
     * values that are no leak (see {@link Guard#checkOutput}); without {@code checks} it only
     * restores placeholders.
     */
    public StreamGuard(Guard guard, Redaction placeholders, Predicate<String> supplied, boolean checks) {
        this.guard = guard;
        this.placeholders = placeholders;
        this.supplied = supplied;
        this.checks = checks;
    }

    /** The text the client may see after {@code delta}; "" while it is held back or once the stream is blocked. */
    public String accept(String delta) {
        if (blocked != null) return "";
        unrestored.append(delta);
        int keep = openPlaceholder();
        held.append(placeholders.restore(unrestored.substring(0, keep)));
        unrestored.delete(0, keep);
        return release(false);
    }

    /** The rest of the text at the stream's end, checked; "" when the stream is blocked. */
    public String finish() {
        if (blocked != null) return "";
        held.append(placeholders.restore(unrestored.toString()));
        unrestored.setLength(0);
        return release(true);
    }

    /** The block that stopped the stream, or null while it flows. */
    public GuardVerdict.Block blocked() {
        return blocked;
    }

    /** allow, redact or block: what the guard did to the stream so far. */
    public String verdict() {
        return blocked != null ? "block" : redacted ? "redact" : "allow";
    }

    /** The categories the guard acted on (entity types, {@code system_prompt_leak}). */
    public List<String> categories() {
        return List.copyOf(categories);
    }

    /** Entity type → how many the guard acted on. */
    public Map<String, Integer> redactedEntities() {
        return Map.copyOf(acted);
    }

    /** Where a placeholder that may still be arriving starts in the unrestored text (its length when none). */
    private int openPlaceholder() {
        int open = unrestored.lastIndexOf("<");
        if (open < 0 || unrestored.indexOf(">", open) >= 0 || unrestored.length() - open > MAX_PLACEHOLDER) return unrestored.length();
        return open;
    }

    private String release(boolean all) {
        if (!checks) {
            String out = held.toString();
            held.setLength(0);
            return out;
        }
        String text = held.toString();
        int offset = context.length();
        String read = context + text;
        int cut = all ? text.length() : Math.min(growing(text), Math.max(0, openSecret(read) - offset));
        if (cut == 0 && !all) return "";
        // A look-ahead over text that may still grow: its placeholders are not the ones the client gets.
        GuardResult whole = guard.checkOutput(read, new Redaction(), supplied);
        if (whole.verdict() instanceof GuardVerdict.Block) return shown(whole, "");
        for (PiiEntity e : whole.entities()) if (e.start() < cut + offset && e.end() > cut + offset) cut = Math.max(0, e.start() - offset);
        if (cut > 0 && Character.isHighSurrogate(text.charAt(cut - 1))) cut--;
        if (cut == 0) return "";
        String shown = text.substring(0, cut);
        held.delete(0, cut);
        String out = shownAfter(shown);
        context.append(out);
        if (context.length() > CONTEXT) context.delete(0, context.length() - CONTEXT);
        return out;
    }

    /** What the client sees of {@code shown}, checked after the context it follows; alone when an entity straddles the two. */
    private String shownAfter(String shown) {
        String before = context.toString();
        GuardResult r = guard.checkOutput(before + shown, outputPlaceholders, supplied);
        if (r.verdict() instanceof GuardVerdict.Redact red && !red.text().startsWith(before)) return shown(guard.checkOutput(shown, outputPlaceholders, supplied), shown);
        if (r.verdict() instanceof GuardVerdict.Redact red) {
            categories.addAll(r.categories());
            for (PiiEntity e : r.entities()) if (e.start() >= before.length() && r.categories().contains(e.type())) acted.merge(e.type(), 1, Integer::sum);
            redacted = true;
            return red.text().substring(before.length());
        }
        return shown(r, shown);
    }

    /**
     * Where a secret that is still arriving starts in {@code text} (its length when none): an open
     * PEM block, or a last word that may be a token, a URL with a password, or the value after a
     * secret's label; none once it has grown past {@value #SECRET_HOLD} characters.
     */
    static int openSecret(String text) {
        int floor = Math.max(0, text.length() - SECRET_HOLD);
        int pem = text.lastIndexOf("-----BEGIN");
        if (pem >= floor && !PEM_END.matcher(text).region(pem, text.length()).find()) return pem;
        int word = wordStart(text, text.length(), floor);
        if (word == floor && floor > 0 || word == text.length()) return text.length();
        String last = text.substring(word);
        if (last.contains("eyJ") || last.contains("://") || last.length() > WINDOW && labelled(text, word)) return word;
        return text.length();
    }

    /** Whether a secret's label ends within {@value #LABEL_REACH} characters before {@code at}. */
    private static boolean labelled(String text, int at) {
        String before = text.substring(Math.max(0, at - LABEL_REACH), at).toLowerCase(java.util.Locale.ROOT);
        return SECRET_LABELS.stream().anyMatch(before::contains);
    }

    /** Where the text that may still grow into an entity starts: the last word and the number-like groups before it. */
    private static int growing(String text) {
        int floor = Math.max(0, text.length() - WINDOW);
        int start = wordStart(text, text.length(), floor);
        while (start - 1 > floor && text.charAt(start - 1) == ' ' && !Character.isWhitespace(text.charAt(start - 2))) {
            int previous = wordStart(text, start - 1, floor);
            if (!groupLike(text, previous, start - 1)) break;
            start = previous;
        }
        return start;
    }

    private static int wordStart(String text, int end, int floor) {
        int i = end;
        while (i > floor && !Character.isWhitespace(text.charAt(i - 1))) i--;
        return i;
    }

    /** Whether {@code text[from, to)} may be a group of a spaced entity: it has a digit or '@', or is a short upper-case group. */
    private static boolean groupLike(String text, int from, int to) {
        boolean upper = to - from <= MAX_LETTER_GROUP;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (Character.isDigit(c) || c == '@' || c == '+') return true;
            upper &= Character.isUpperCase(c);
        }
        return upper && to > from;
    }

    /** What the client sees of {@code text} under {@code result}, recording what the guard did. */
    private String shown(GuardResult result, String text) {
        categories.addAll(result.categories());
        for (PiiEntity e : result.entities()) if (result.categories().contains(e.type())) acted.merge(e.type(), 1, Integer::sum);
        return switch (result.verdict()) {
            case GuardVerdict.Block b -> {
                blocked = b;
                held.setLength(0);
                yield "";
            }
            case GuardVerdict.Redact r -> {
                redacted = true;
                yield r.text();
            }
            case GuardVerdict.Allow a -> text;
        };
    }
}
