package dev.keel.gateway;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What two questions must share before the semantic cache may answer one with the other's reply: the same numbers and
 * the same number of negations. Embeddings barely see either ("…100 requests per minute?" and "…1000 requests per
 * minute?" are 0.96 apart, "How do I cancel" and "How do I not cancel" 0.95), yet either changes the answer. The
 * signature goes into the semantic scope, so questions that differ in them are never compared. Numbers are digit runs
 * with thousands separators dropped ("1,000" = "1000"); negations are English cue words and the {@code n't} suffix.
 * What it does not see: numbers written as words, negation in other languages, swapped roles ("is A faster than B").
 */
final class QuestionSignature {
    private static final Pattern NUMBER = Pattern.compile("\\d+(?:[.,]\\d+)*");
    private static final Pattern WORD = Pattern.compile("[\\p{L}']+");
    private static final Set<String> NEGATIONS = Set.of("not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor", "without",
            "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "wouldnt", "shouldnt", "couldnt", "hasnt",
            "havent", "hadnt", "mustnt", "neednt", "aint");

    private QuestionSignature() {}

    /** The question's numbers (sorted, as a multiset) and its count of negations, as a short string. */
    static String of(String question) {
        List<String> numbers = new ArrayList<>();
        Matcher n = NUMBER.matcher(question);
        while (n.find()) numbers.add(thousandsDropped(n.group()));
        Collections.sort(numbers);
        int negations = 0;
        Matcher w = WORD.matcher(question.toLowerCase(Locale.ROOT).replace('\u2019', '\''));
        while (w.find()) {
            String word = w.group();
            if (word.endsWith("n't") || NEGATIONS.contains(word.replace("'", ""))) negations++;
        }
        return "numbers:" + String.join(",", numbers) + ";negations:" + negations;
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
}
