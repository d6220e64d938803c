package dev.keel.gateway;

import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What two questions must share before the semantic cache may answer one with the other's reply: their numbers, in
 * order, with a sign, a currency symbol, a percent or a unit written onto them or after them ("-5", "$10", "10%", "10k",
 * "10 GB"), number words counting as their digits (English; two to ten in five more languages); their negations, each
 * with the word it negates (English, German, French, Spanish, Italian, Portuguese, Dutch, Swedish, Polish, Turkish,
 * Russian, and the negating characters and endings of Chinese and Japanese); the words of {@link #CONTRASTS} they hold,
 * in order (before / after, upload / download, out, down, worse, optional, uninstall, time zones…), what each "from"
 * moves away from ("from the Free plan"), and whether a verb stands in the passive with its agent ("be invited by"); and whatever the embedding model does not
 * read ({@code Embedder#unseen}: characters outside its vocabulary, such as emoji or full-width digits, which it reads
 * all alike). Embeddings barely see these ("…100 requests per minute?" / "…1000 requests per minute?" 0.97, "How do I
 * cancel" / "How do I not cancel" 0.95, "Is 🍕 vegetarian?" / "Is 🥩 vegetarian?" 1.0), yet each changes the answer. The
 * signature goes into the semantic scope, so questions that differ in it are never compared. Numbers are read after
 * Unicode compatibility normalisation (full-width and other scripts' digits count as 0-9) with thousands separators
 * dropped ("1,000" = "1000"). What it does not see: opposites outside its list ("cheap" / "expensive"), number words
 * in other languages, negation in other languages than those above. Swapped words ("Is Python faster than Java?") are
 * {@link WordOrder}'s.
 */
final class QuestionSignature {
    /** Units a number may be written apart from ("10 GB"): only those, so that "10 of" or "5 or more" stay plain numbers. */
    private static final String UNITS = "b|kb|mb|gb|tb|pb|kib|mib|gib|tib|bytes?|k|m|bn|ms|us|\u00b5s|ns|s|sec|secs|min|mins|h|hr|hrs"
            + "|usd|eur|gbp|jpy|cny|inr|chf|cad|aud|px|pt|mm|cm|km|kg|mg|g|lbs?|oz|ft|mi|miles?|am|pm|mph|kph|rpm|rps|qps|tps|x|percent|per\\s?cent";
    /** English number words, read as the digits they stand for, so "two seats" and "2 seats" share a signature. */
    private static final java.util.Map<String, String> NUMBER_WORDS = numberWords();
    /**
     * A number: an optional sign where it cannot be a hyphen between words or numbers, an optional currency symbol,
     * digits with separators, and a percent or a unit of up to 3 letters written onto it or one of {@link #UNITS} after
     * a space; or an English number word.
     */
    private static final Pattern NUMBER = Pattern.compile("(?:(?:(?<=^|[\\s(\\[{:=/])[-+\u2212])?\\p{Sc}?\\p{Nd}+(?:[.,]\\p{Nd}+)*"
            + "(?:%|\\p{L}{1,3}(?!\\p{L})|\\s(?:" + UNITS + ")(?![\\p{L}\\p{Nd}]))?)"
            + "|(?<![\\p{L}\\p{Nd}])(?:" + String.join("|", NUMBER_WORDS.keySet()) + ")(?![\\p{L}\\p{Nd}])", Pattern.CASE_INSENSITIVE);
    private static final Pattern WORD = Pattern.compile("[\\p{L}']+");
    private static final Set<String> NEGATIONS = Set.of("not", "no", "non", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor",
            "without", "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "wouldnt", "shouldnt", "couldnt",
            "hasnt", "havent", "hadnt", "mustnt", "neednt", "aint",
            // German, French, Spanish, Italian, Portuguese, Dutch, Swedish, Polish, Turkish and Russian, accents dropped.
            "nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals", "ohne", "pas", "jamais", "aucun", "aucune", "sans", "nunca",
            "jamas", "ningun", "ninguno", "ninguna", "sin", "mai", "nessun", "nessuno", "nessuna", "niente", "nulla", "senza", "nao", "nem",
            "nenhum", "nenhuma", "sem", "niet", "geen", "nooit", "zonder", "niets", "niemand", "inte", "ej", "aldrig", "ingen", "inget", "utan",
            "bez", "nigdy", "zaden", "zadna", "zadne", "degil", "yok", "asla", "\u043d\u0435", "\u043d\u0435\u0442", "\u0431\u0435\u0437",
            "\u043d\u0438\u043a\u043e\u0433\u0434\u0430", "\u043d\u0438");
    /** Chinese negating characters and Japanese negative endings: those scripts write no spaces, so they are found inside words. */
    private static final Pattern CJK_NEGATION = Pattern.compile("[\u4e0d\u6ca1\u6c92\u65e0\u7121\u975e\u672a\u522b\u5225\u83ab\u52ff]\\p{L}?"
            + "|\\p{L}?(?:\u306a\u3044|\u306a\u304b\u3063|\u307e\u305b\u3093|\u306a\u304f)");
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
            // Directions ("zoom in / out", "scale up / down"), opposites users ask about.
            "out", "down", "under", "left", "lose", "lost", "worse", "smaller", "shorter", "optional", "forbidden", "prohibited", "disallowed",
            "unavailable", "invisible", "hidden", "inactive", "invalid", "incorrect", "unsupported", "uninstall", "unsubscribe", "unpublish",
            "undo", "unassign", "unshare", "unfollow", "unpin", "unmute", "unarchive", "deactivate", "disconnect", "different", "outside", "end",
            "middle",
            // Time zones: "2am UTC" is not "2am PST".
            "utc", "gmt", "pst", "pdt", "est", "edt", "cst", "cdt", "mst", "mdt", "cet", "cest", "eet", "bst", "ist", "jst", "kst", "aest", "aedt",
            // The same turns in German, French and Spanish, accents dropped as the model drops them.
            "vor", "nach", "vorher", "nachher", "avant", "apres", "antes", "despues", "desactiver", "desactivar", "desactivo", "desactivado",
            "deaktivieren", "deaktiviert", "disattivare");
    /** A verb in the passive with its agent ("be invited by", "is notified by"): who does what to whom turns around. */
    private static final Pattern PASSIVE_AGENT = Pattern.compile("\\b\\p{L}+(?:ed|en|wn|ne)\\s+by\\b");
    /** Words skipped when looking for what a negation negates ("not in the EU": "eu"). */
    private static final Set<String> FILLERS = Set.of("a", "an", "the", "to", "be", "been", "in", "on", "at", "of", "for", "by", "with", "from", "my",
            "your", "our", "their", "its", "it", "this", "that", "these", "those", "any", "all", "so", "very", "yet", "even", "i", "you", "we", "they");

    private QuestionSignature() {}

    /** The signature of {@code question}, whose parts the embedding model does not read are {@code unseen}. */
    static String of(String question, List<String> unseen) {
        String text = Normalizer.normalize(question, Normalizer.Form.NFKC);
        StringBuilder out = new StringBuilder("numbers:");
        Matcher n = NUMBER.matcher(unmarked(text));
        while (n.find()) out.append(numberAsWritten(n.group())).append(' ');
        out.append(";negations:");
        String read = asTheModelReads(text);
        List<String> words = WORD.matcher(read).results().map(java.util.regex.MatchResult::group).toList();
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            if (!word.endsWith("n't") && !NEGATIONS.contains(word.replace("'", ""))) continue;
            out.append(governed(words, i)).append(' ');
        }
        Matcher cjk = CJK_NEGATION.matcher(text);
        while (cjk.find()) out.append(cjk.group()).append(' ');
        // What a question moves away from ("downgrade from the Free plan", "migrate from Postgres into MySQL") is its source.
        out.append(";from:");
        for (int i = 0; i < words.size(); i++) {
            if (words.get(i).equals("from")) out.append(governed(words, i)).append(' ');
        }
        out.append(";contrasts:");
        words.stream().filter(CONTRASTS::contains).forEach(w -> out.append(w).append(' '));
        if (PASSIVE_AGENT.matcher(read).find()) out.append("passive ");
        out.append(";unseen:");
        for (String part : unseen) out.append(part.length()).append(':').append(part);
        return out.toString();
    }

    /** The first word after {@code words[i]} that is not a filler ("not in the EU": "eu"), or "" at the end. */
    private static String governed(List<String> words, int i) {
        int next = i + 1;
        while (next < words.size() && FILLERS.contains(words.get(next))) next++;
        return next < words.size() ? words.get(next) : "";
    }

    /**
     * The words as BERT's uncased tokenizer reads them: lower case, accents and invisible format characters (zero-width
     * spaces, soft hyphens) gone, any apostrophe as {@code '}. So "be\u200Bfore" or "béfore" is "before" here as it is
     * to the embedding, and cannot slip a contrast word or a negation past the signature.
     */
    static String asTheModelReads(String text) {
        return unmarked(text.toLowerCase(Locale.ROOT));
    }

    /** {@code text} with accents, invisible format characters (zero-width spaces, soft hyphens) and curly apostrophes undone, its case kept. */
    static String unmarked(String text) {
        String decomposed = Normalizer.normalize(text, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(decomposed.length());
        decomposed.codePoints().forEach(c -> {
            int type = Character.getType(c);
            if (type == Character.NON_SPACING_MARK || type == Character.FORMAT) return;
            out.appendCodePoint(c == '\u2019' || c == '\u02BC' || c == '\u2018' ? '\'' : c);
        });
        return out.toString();
    }

    /** A number as the signature holds it: digits 0-9 without thousands separators, a unit after a space joined on, a number word as digits. */
    private static String numberAsWritten(String number) {
        String word = NUMBER_WORDS.get(number.toLowerCase(Locale.ROOT));
        if (word != null) return word;
        String unitJoined = number.replaceAll("\\s+", "").toLowerCase(Locale.ROOT);
        if (unitJoined.endsWith("percent")) unitJoined = unitJoined.substring(0, unitJoined.length() - "percent".length()) + "%";
        return asciiDigits(thousandsDropped(unitJoined));
    }

    private static java.util.Map<String, String> numberWords() {
        String[] small = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
            "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
        String[] tens = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
        String[] ordinals = {"third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"};
        java.util.Map<String, String> words = new java.util.LinkedHashMap<>();
        for (int i = 0; i < small.length; i++) words.put(small[i], Integer.toString(i));
        for (int i = 0; i < tens.length; i++) words.put(tens[i], Integer.toString(20 + 10 * i));
        for (int i = 0; i < ordinals.length; i++) words.put(ordinals[i], (i + 3) + (i == 0 ? "rd" : "th"));
        // Two to ten in Spanish, French, German, Italian and Portuguese (accents dropped; not Italian "due", an English word).
        String[][] european = {{"dos", "deux", "zwei", "dois"}, {"tres", "trois", "drei", "tre"}, {"cuatro", "quatre", "vier", "quattro", "quatro"},
            {"cinco", "cinq", "funf", "cinque"}, {"seis", "sechs", "sei"}, {"siete", "sept", "sieben", "sette", "sete"}, {"ocho", "huit", "acht", "otto", "oito"},
            {"nueve", "neuf", "neun", "nove"}, {"diez", "dix", "zehn", "dieci", "dez"}};
        for (int i = 0; i < european.length; i++) for (String w : european[i]) words.putIfAbsent(w, Integer.toString(i + 2));
        words.put("dozen", "12");
        words.put("hundred", "100");
        words.put("thousand", "1000");
        words.put("million", "1000000");
        words.put("billion", "1000000000");
        words.put("trillion", "1000000000000");
        words.put("half", "0.5");
        words.put("twice", "2x");
        return java.util.Map.copyOf(words);
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
