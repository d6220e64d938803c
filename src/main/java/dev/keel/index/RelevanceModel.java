package dev.keel.index;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * RM3's relevance model (Lavrenko and Croft; as Anserini runs it): each feedback chunk's term
 * distribution (term frequency over length), weighted by the chunk's first-pass score, summed; then
 * multiplied by each term's IDF, so words that nearly every chunk holds (measured on two shared
 * collections: they crowd out the topical ones) are not picked; the heaviest terms are kept and
 * renormalised to sum 1. Pure function of its input: it sees only the feedback chunks it is given,
 * so it can only ever suggest words of those chunks.
 */
final class RelevanceModel {
    /**
     * Longest term kept: analysed words longer than this are run-together tokens, URLs or
     * identifiers that match nothing else (Anserini's RM3 applies the same cut).
     */
    private static final int MAX_TERM_CHARS = 20;

    private RelevanceModel() {}

    /** A feedback chunk: its first-pass score and its analysed terms, title and body, in order. */
    record FeedbackDoc(double score, List<String> terms) {
        /** A chunk's title text (title and section path, as BM25's title field holds it) and body, analysed by {@code analyse}. */
        static FeedbackDoc of(double score, String title, List<String> sectionPath, String body, Function<String, List<String>> analyse) {
            List<String> words = new ArrayList<>(analyse.apply(ChunkRecord.titleText(title, sectionPath)));
            words.addAll(analyse.apply(body));
            return new FeedbackDoc(score, words);
        }
    }

    /** Every term {@link #expansion} may look up the IDF of (an index that fetches IDFs remotely fetches these at once). */
    static Set<String> candidates(List<FeedbackDoc> docs) {
        Set<String> out = new HashSet<>();
        for (FeedbackDoc d : docs) {
            if (!(d.score() > 0)) continue;
            for (String t : d.terms()) if (usable(t)) out.add(t);
        }
        return out;
    }

    /**
     * At most {@code max} terms, heaviest first (ties by term), of which at most {@code room} are not
     * among {@code queryTerms} (so the expanded query keeps its term cap). {@code idf} gives a term's
     * IDF, at most {@code maxIdf}: terms are weighed in order of their model weight, and once that
     * weight times {@code maxIdf} cannot reach the {@code max}-th weight found, the rest are not
     * looked up (each lookup seeks every segment's term dictionary). Terms without a letter
     * (numbers, codes) are skipped: a number shared by the top chunks says little about the topic.
     */
    static List<ExpansionTerm> expansion(List<FeedbackDoc> docs, ToDoubleFunction<String> idf, double maxIdf, int max, Set<String> queryTerms,
                                         int room) {
        Map<String, Double> model = new HashMap<>();
        for (FeedbackDoc d : docs) {
            if (d.terms().isEmpty() || !(d.score() > 0)) continue;
            Map<String, Integer> tf = new HashMap<>();
            for (String t : d.terms()) tf.merge(t, 1, Integer::sum);
            double perTerm = d.score() / d.terms().size();
            tf.forEach((t, f) -> {
                if (usable(t)) model.merge(t, f * perTerm, Double::sum);
            });
        }
        Comparator<Map.Entry<String, Double>> heaviestFirst = Map.Entry.<String, Double>comparingByValue().reversed()
                .thenComparing(Map.Entry.comparingByKey());
        List<Map.Entry<String, Double>> byModel = new ArrayList<>(model.entrySet());
        byModel.sort(heaviestFirst);
        boolean roomForAll = room >= max;
        PriorityQueue<Double> topWeights = new PriorityQueue<>();
        List<Map.Entry<String, Double>> ranked = new ArrayList<>();
        for (Map.Entry<String, Double> e : byModel) {
            if (roomForAll && topWeights.size() == max && e.getValue() * maxIdf < topWeights.peek()) break;
            double weight = e.getValue() * idf.applyAsDouble(e.getKey());
            ranked.add(Map.entry(e.getKey(), weight));
            topWeights.add(weight);
            if (topWeights.size() > max) topWeights.poll();
        }
        ranked.sort(heaviestFirst);
        List<Map.Entry<String, Double>> kept = new ArrayList<>();
        int newTerms = 0;
        for (Map.Entry<String, Double> e : ranked) {
            if (kept.size() == max) break;
            boolean isNew = !queryTerms.contains(e.getKey());
            if (isNew && newTerms == room) continue;
            if (isNew) newTerms++;
            kept.add(e);
        }
        double total = kept.stream().mapToDouble(Map.Entry::getValue).sum();
        List<ExpansionTerm> out = new ArrayList<>(kept.size());
        for (Map.Entry<String, Double> e : kept) out.add(new ExpansionTerm(e.getKey(), e.getValue() / total));
        return out;
    }

    private static boolean usable(String term) {
        return term.length() <= MAX_TERM_CHARS && term.chars().anyMatch(Character::isLetter);
    }
}
