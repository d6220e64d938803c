package dev.keel.index;

import dev.keel.trace.Span;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

/**
 * How a BM25 query is made from a text, shared by every index so they rank alike: which analysed
 * terms it keeps and with what weight, BM25's IDF, and how pseudo-relevance feedback terms join it.
 * Pure functions over the tenant's document frequencies, which the caller supplies.
 */
final class QueryTerms {
    /**
     * Distinct terms a BM25 query keeps: the rarest in the tenant's chunks (the most informative).
     * Lucene refuses queries of over 1,024 clauses, and each clause costs a postings walk.
     */
    static final int MAX_QUERY_TERMS = 256;

    private QueryTerms() {}

    /** The terms {@code analyzer} makes of {@code text}, in order (what an index's {@link ChunkIndex#terms} returns). */
    static List<String> analyse(Analyzer analyzer, String text) {
        List<String> out = new ArrayList<>();
        try (TokenStream ts = analyzer.tokenStream("text", text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) out.add(term.toString());
            ts.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** BM25's inverse document frequency of a term in {@code df} of {@code n} chunks. */
    static double bm25Idf(long n, long df) {
        return Math.log(1 + (n - df + 0.5) / (df + 0.5));
    }

    /**
     * The query's distinct terms that occur in the tenant's chunks ({@code docFreq} above 0), at most
     * {@link #MAX_QUERY_TERMS} of them (the rarest; ties by term, so the choice is stable), each
     * weighted by how often the query repeats it; empty when none is left. Terms no chunk of the
     * tenant contains could match nothing, so dropping them changes no score.
     */
    static Map<String, Double> select(List<String> analysedQuery, ToLongFunction<String> docFreq, Span span) {
        record Candidate(String term, int occurrences, long docFreq) {}
        Map<String, Integer> occurrences = new LinkedHashMap<>();
        for (String t : analysedQuery) occurrences.merge(t, 1, Integer::sum);
        List<Candidate> present = new ArrayList<>();
        occurrences.forEach((t, count) -> {
            long df = docFreq.applyAsLong(t);
            if (df > 0) present.add(new Candidate(t, count, df));
        });
        present.sort(Comparator.comparingLong(Candidate::docFreq).thenComparing(Candidate::term));
        List<Candidate> kept = present.subList(0, Math.min(MAX_QUERY_TERMS, present.size()));
        span.attr("query_terms", occurrences.size()).attr("terms_used", kept.size());
        Map<String, Double> out = new LinkedHashMap<>();
        for (Candidate c : kept) out.put(c.term(), (double) c.occurrences());
        return out;
    }

    /**
     * The feedback terms' weights in the second pass of pseudo-relevance feedback: prfWeight × the
     * query's total term weight × each term's share (so the scale of scores stays that of the first
     * pass, whose terms are weighted 1 − prfWeight).
     */
    static Map<String, Double> feedbackWeights(Map<String, Double> queryTerms, List<ExpansionTerm> expansion, double prfWeight) {
        double queryWeight = queryTerms.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<String, Double> feedback = new LinkedHashMap<>();
        for (ExpansionTerm t : expansion) feedback.put(t.term(), prfWeight * queryWeight * t.weight());
        return feedback;
    }
}
