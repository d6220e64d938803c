package dev.keel.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Answer metrics that need no judge: SQuAD's token F1 against a reference answer, and the share of required fact
 * phrases an answer contains. Pure functions.
 */
final class AnswerMetrics {
    /** Citation markers as answers write them: {@code [1]}, {@code [2, 3]}. They are not words of the answer. */
    private static final Pattern CITATION = Pattern.compile("\\[\\d+(?:\\s*,\\s*\\d+)*]");
    private static final Pattern PUNCTUATION = Pattern.compile("\\p{P}|\\p{S}");
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b");

    private AnswerMetrics() {}

    /** The text without its citation markers. */
    static String withoutCitations(String text) {
        return CITATION.matcher(text).replaceAll("");
    }

    /** SQuAD's answer normalisation: lower case, punctuation removed, articles removed, whitespace collapsed. */
    static List<String> tokens(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        String noPunctuation = PUNCTUATION.matcher(lower).replaceAll("");
        String noArticles = ARTICLES.matcher(noPunctuation).replaceAll(" ");
        String trimmed = noArticles.trim();
        return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("\\s+"));
    }

    /**
     * SQuAD token F1 of {@code answer} (citation markers removed) against {@code reference}: the harmonic mean of the
     * shares of shared tokens (counted with multiplicity) in each; 1 when both are empty, 0 when only one is.
     */
    static double tokenF1(String answer, String reference) {
        List<String> a = tokens(withoutCitations(answer)), r = tokens(reference);
        if (a.isEmpty() || r.isEmpty()) return a.isEmpty() && r.isEmpty() ? 1 : 0;
        Map<String, Integer> counts = new HashMap<>();
        for (String t : r) counts.merge(t, 1, Integer::sum);
        int common = 0;
        for (String t : a) {
            Integer left = counts.get(t);
            if (left != null && left > 0) {
                common++;
                counts.put(t, left - 1);
            }
        }
        if (common == 0) return 0;
        double precision = (double) common / a.size(), recall = (double) common / r.size();
        return 2 * precision * recall / (precision + recall);
    }

    /** The share of {@code facts} that {@code answer} contains, case-insensitively. */
    static double facts(String answer, List<String> facts) {
        String lower = answer.toLowerCase(Locale.ROOT);
        long present = facts.stream().filter(f -> lower.contains(f.toLowerCase(Locale.ROOT))).count();
        return (double) present / facts.size();
    }
}
