package dev.keel.gateway;

import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What two questions must share before the semantic cache may answer one with the other's reply: their numbers, in
 * order, with a sign, a percent or a short unit written onto them ("-5", "10%", "10k"); their negations, each with the
 * word it negates; the words of {@link #CONTRASTS} they hold, in order (before / after, last / next, upload / download,
 * hours / minutes…); and whatever the embedding model does not read ({@code Embedder#unseen}: characters outside its
 * vocabulary, such as emoji or full-width digits, which it reads all alike). Embeddings barely see these ("…100 requests
 * per minute?" / "…1000 requests per minute?" 0.97, "How do I cancel" / "How do I not cancel" 0.95, "Is 🍕 vegetarian?" /
 * "Is 🥩 vegetarian?" 1.0), yet each changes the answer. The signature goes into the semantic scope, so questions that
 * differ in it are never compared. Numbers are read after Unicode compatibility normalisation (full-width and other
 * scripts' digits count as 0-9) with thousands separators dropped ("1,000" = "1000"). What it does not see: numbers
 * written as words, negation in other languages, opposites outside its list ("cheap" / "expensive"), swapped words
 * ("Is Python faster than Java?"), units apart from their number other than times ("10 GB" / "10 MB").
 */
final class QuestionSignature {
    /** A number: an optional sign where it cannot be a hyphen between words or numbers, digits with separators, a percent or a unit of up to 3 letters. */
    private static final Pattern NUMBER = Pattern.compile("(?:(?<=^|[\\s(\\[{:=/])[-+\u2212])?\\p{Nd}+(?:[.,]\\p{Nd}+)*(?:%|\\p{L}{1,3}(?!\\p{L}))?");
    private static final Pattern WORD = Pattern.compile("[\\p{L}']+");
    private static final Set<String> NEGATIONS = Set.of("not", "no", "non", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor",
            "without", "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "wouldnt", "shouldnt", "couldnt",
            "hasnt", "havent", "hadnt", "mustnt", "neednt", "aint",
            // German, French and Spanish, accents dropped.
            "nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals", "ohne", "pas", "jamais", "aucun", "aucune", "sans", "nunca",
            "jamas", "ningun", "ninguno", "ninguna", "sin");
    /**
     * Words whose swap for their counterpart turns a question around while its embedding barely moves ("Can I downgrade
     * before / after the renewal?", "charged this / last month", "safe / unsafe"): the ones a question holds must be the same.
     */
    private static final Set<String> CONTRASTS = Set.of(
            // Of a pair whose common member turns up in honest rewordings ("turn on", "first", "add", "include"), only the marked one.
            "before", "after", "above", "below", "less", "fewer", "least", "last", "next", "previous", "earlier", "later", "higher", "lower",
            "increase", "decrease", "maximum", "minimum", "max", "min", "downgrade", "import", "export", "upload", "download", "inbound", "outbound",
            "incoming", "outgoing", "receive", "sell", "remove", "disable", "disabled", "off", "close", "stop", "lock", "unlock", "deny", "block",
            "unblock", "reject", "exclude", "unsafe", "false", "faster", "slower", "cheaper", "existing", "yesterday", "today", "tomorrow", "daily",
            "weekly", "monthly", "yearly", "annual", "annually", "hour", "hours", "hr", "hrs", "minute", "minutes", "mins", "second", "seconds",
            "secs", "day", "days", "week", "weeks", "month", "months", "year", "years",
            // The same turns in German, French and Spanish, accents dropped as the model drops them.
            "vor", "nach", "vorher", "nachher", "avant", "apres", "antes", "despues");
    /** Words skipped when looking for what a negation negates ("not in the EU": "eu"). */
    private static final Set<String> FILLERS = Set.of("a", "an", "the", "to", "be", "been", "in", "on", "at", "of", "for", "by", "with", "from", "my",
            "your", "our", "their", "its", "it", "this", "that", "these", "those", "any", "all", "so", "very", "yet", "even", "i", "you", "we", "they");

    private QuestionSignature() {}

    /** The signature of {@code question}, whose parts the embedding model does not read are {@code unseen}. */
    static String of(String question, List<String> unseen) {
        String text = Normalizer.normalize(question, Normalizer.Form.NFKC);
        StringBuilder out = new StringBuilder("numbers:");
        Matcher n = NUMBER.matcher(text);
        while (n.find()) out.append(asciiDigits(thousandsDropped(n.group()))).append(' ');
        out.append(";negations:");
        List<String> words = WORD.matcher(asTheModelReads(text)).results().map(java.util.regex.MatchResult::group).toList();
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            if (!word.endsWith("n't") && !NEGATIONS.contains(word.replace("'", ""))) continue;
            int next = i + 1;
            while (next < words.size() && FILLERS.contains(words.get(next))) next++;
            out.append(next < words.size() ? words.get(next) : "").append(' ');
        }
        out.append(";contrasts:");
        words.stream().filter(CONTRASTS::contains).forEach(w -> out.append(w).append(' '));
        out.append(";unseen:");
        for (String part : unseen) out.append(part.length()).append(':').append(part);
        return out.toString();
    }

    /**
     * The words as BERT's uncased tokenizer reads them: lower case, accents and invisible format characters (zero-width
     * spaces, soft hyphens) gone, any apostrophe as {@code '}. So "be\u200Bfore" or "béfore" is "before" here as it is
     * to the embedding, and cannot slip a contrast word or a negation past the signature.
     */
    private static String asTheModelReads(String text) {
        String decomposed = Normalizer.normalize(text.toLowerCase(Locale.ROOT), Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(decomposed.length());
        decomposed.codePoints().forEach(c -> {
            int type = Character.getType(c);
            if (type == Character.NON_SPACING_MARK || type == Character.FORMAT) return;
            out.appendCodePoint(c == '\u2019' || c == '\u02BC' || c == '\u2018' ? '\'' : c);
        });
        return out.toString();
    }

    /** "1,000,000" → "1000000"; a comma before other than three digits ("1,5") is a decimal mark and becomes a point. */
    private static String thousandsDropped(String number) {
        StringBuilder out = new StringBuilder(number.length());
        for (int i = 0; i < number.length(); i++) {
            char c = number.charAt(i);
            if (c != ',') out.append(c);
            else if (!groupOfThree(number, i + 1)) out.append('.');
        }
        return out.toString();
    }

    private static boolean groupOfThree(String number, int from) {
        int digits = 0;
        while (from + digits < number.length() && Character.isDigit(number.charAt(from + digits))) digits++;
        return digits == 3;
    }

    /** Digits of any script as 0-9, the minus sign as '-', letters in lower case. */
    private static String asciiDigits(String number) {
        StringBuilder out = new StringBuilder(number.length());
        number.codePoints().forEach(c -> {
            if (Character.isDigit(c)) out.append((char) ('0' + Character.digit(c, 10)));
            else if (c == '\u2212') out.append('-');
            else out.appendCodePoint(Character.toLowerCase(c));
        });
        return out.toString();
    }
}
