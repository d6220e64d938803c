package dev.keel.gateway;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The order of a question's content words, which the semantic cache checks before it answers one question with
 * another's reply: the words both questions hold must come in the same order. Embeddings barely see word order ("How do
 * I migrate from Postgres to MySQL?" / "…from MySQL to Postgres?", "Is Python faster than Java?" / "Is Java faster than
 * Python?" score 0.97–0.99), while rewordings rarely move the nouns they share. A reworded question that does move them
 * ("What does the Pro plan cost per month?" / "How much per month is the Pro plan?") is a miss, which costs a model call
 * and never a wrong answer. Words are read as the embedding model reads them (lower case, accents dropped), function
 * words and one-letter words left out unless they name something (a capital: "plan A", "C to F"), each kept once (its
 * first place) as a 32-bit hash: an entry stores hashes, not the question's text.
 */
final class WordOrder {
    /** No words: agrees with every question (entries stored before word orders were kept). */
    static final int[] NONE = new int[0];
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{Nd}']+");
    /** English function words, question words and auxiliaries: rewordings add, drop and move these freely. */
    private static final Set<String> FUNCTION_WORDS = Set.of("a", "an", "the", "and", "or", "but", "if", "then", "so", "than", "as", "of", "to",
            "in", "on", "at", "by", "for", "with", "from", "into", "onto", "about", "over", "under", "between", "through", "per", "via", "up",
            "out", "i", "me", "my", "mine", "you", "your", "yours", "we", "us", "our", "they", "them", "their", "he", "she", "him", "her", "his",
            "it", "its", "this", "that", "these", "those", "there", "here", "what", "which", "who", "whom", "whose", "when", "where", "why", "how",
            "do", "does", "did", "done", "doing", "is", "are", "was", "were", "be", "been", "being", "am", "have", "has", "had", "having", "can",
            "could", "will", "would", "shall", "should", "may", "might", "must", "need", "get", "got", "any", "some", "all", "each", "every",
            "much", "many", "more", "most", "other", "such", "own", "same", "just", "also", "too", "very", "really", "please", "thanks", "thank",
            "hi", "hello", "ok", "okay", "way", "possible", "able", "want", "like", "know", "tell", "help");

    private WordOrder() {}

    /** The hashes of {@code question}'s content words, each once, in the order they first appear. */
    static int[] of(String question) {
        Matcher m = WORD.matcher(QuestionSignature.unmarked(question));
        Set<Integer> words = new LinkedHashSet<>();
        while (m.find()) {
            String written = possessiveDropped(m.group()), word = written.toLowerCase(Locale.ROOT);
            if (word.isEmpty()) continue;
            if (word.length() > 1 ? !FUNCTION_WORDS.contains(word) : name(written)) words.add(word.hashCode());
        }
        return words.stream().mapToInt(Integer::intValue).toArray();
    }

    /** "member's" and "users'" as "member" and "users": whose something is does not make it another noun. */
    private static String possessiveDropped(String word) {
        String w = word.endsWith("'s") || word.endsWith("'S") ? word.substring(0, word.length() - 2) : word;
        int end = w.length();
        while (end > 0 && w.charAt(end - 1) == '\'') end--;
        int start = 0;
        while (start < end && w.charAt(start) == '\'') start++;
        return w.substring(start, end);
    }

    /** A one-character word that names something ("plan A", "convert C to F"): a capital other than "I". */
    private static boolean name(String word) {
        int c = word.codePointAt(0);
        return Character.isUpperCase(c) && c != 'I' || Character.isDigit(c);
    }

    /** Whether the words {@code a} and {@code b} both hold come in the same order in each (true when they share none or one). Linear in their lengths. */
    static boolean agree(int[] a, int[] b) {
        Set<Integer> inA = set(a), inB = set(b);
        int i = 0, j = 0;
        while (true) {
            while (i < a.length && !inB.contains(a[i])) i++;
            while (j < b.length && !inA.contains(b[j])) j++;
            if (i == a.length || j == b.length) return true;
            if (a[i++] != b[j++]) return false;
        }
    }

    private static Set<Integer> set(int[] words) {
        Set<Integer> set = new java.util.HashSet<>(words.length * 2);
        for (int w : words) set.add(w);
        return set;
    }
}
