package dev.keel.rag;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keel.config.AnswerConfig;
import dev.keel.embed.Embedder;
import dev.keel.embed.Vectors;
import dev.keel.index.ChunkIndex;
import dev.keel.index.ChunkRecord;
import dev.keel.index.SearchHit;
import dev.keel.ingest.Sentences;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Offline answers: picks the 1–3 sentences of the retrieved chunks that best support the question,
 * scored by embedding similarity and IDF-weighted term overlap, and cites their chunks. Says the
 * documents don't answer when the support (the best sentence's score blended with how much of the
 * question's IDF-weighted vocabulary the context contains at all) is under the calibrated threshold. Only the few
 * sentences that pass a lexical pre-selection are embedded (cached), which keeps answers fast.
 * Thread-safe.
 */
final class ExtractiveAnswerer {
    static final String NO_ANSWER = "The indexed documents don't answer this question.";
    private static final int EMBED_CANDIDATES = 4;
    private static final double SEMANTIC_WEIGHT = 0.7;
    private static final int MIN_SENTENCE_CHARS = 12;
    /**
     * A line of at most this many words, without digits or any punctuation that ends or joins a
     * statement, is a heading (packed chunks carry their small sections' headings as lines): it
     * names a topic but says nothing about it, so it is never quoted as an answer.
     */
    private static final int MAX_LABEL_WORDS = 6;
    private static final java.util.regex.Pattern STATEMENT_MARKS = java.util.regex.Pattern.compile("[.!?:;,\\d]");
    private static final Set<String> QUESTION_WORDS = Set.of("how", "often", "many", "much", "long", "what", "what's", "which", "who",
            "whom", "whose", "when", "where", "why", "do", "does", "did", "can", "could", "should", "would", "may", "might", "i", "i'm",
            "my", "me", "we", "our", "us", "you", "your", "get", "happens", "happen", "there", "any", "some", "need", "want", "please", "tell");
    /** Share of the support score that comes from how much of the question's rare vocabulary the context covers. */
    static final double COVERAGE_WEIGHT = 0.5;

    private final Embedder embedder;
    private final ChunkIndex index;
    private final AnswerConfig config;
    private final Cache<TenantText, float[]> sentenceVectors = Caffeine.newBuilder().maximumSize(50_000).build();

    /** Terms are analysed as {@code index} analyses them, and weighed by their IDF over the asking tenant's documents. */
    ExtractiveAnswerer(Embedder embedder, AnswerConfig config, ChunkIndex index) {
        this.embedder = embedder;
        this.index = index;
        this.config = config;
    }

    /** Candidate sentence with its position and scores. */
    record Scored(int hit, int position, String text, double lexical, double semantic, double score) {}

    /** The outcome before trace ids are attached. */
    record Extraction(String text, boolean answered, List<Citation> citations, double support, List<Scored> considered) {}

    private static boolean isLabel(String line) {
        return line.split("\\s+").length <= MAX_LABEL_WORDS && !STATEMENT_MARKS.matcher(line).find();
    }

    Extraction answer(String tenant, String question, float[] questionVector, List<SearchHit> hits) {
        if (hits.isEmpty()) return new Extraction(NO_ANSWER, false, List.of(), 0, List.of());
        Set<String> queryTerms = new HashSet<>(index.terms(withoutQuestionWords(question)));
        List<Scored> candidates = new ArrayList<>();
        List<List<String>> sentenceTerms = new ArrayList<>();
        Set<String> contextTerms = new HashSet<>();
        for (int h = 0; h < hits.size(); h++) {
            ChunkRecord chunk = hits.get(h).chunk();
            List<String> headingTerms = index.terms(chunk.title() + " " + chunk.section());
            contextTerms.addAll(headingTerms);
            List<String> sentences = Sentences.split(chunk.body());
            for (int p = 0; p < sentences.size(); p++) {
                String s = sentences.get(p);
                List<String> t = index.terms(s);
                contextTerms.addAll(t);
                if (s.length() < MIN_SENTENCE_CHARS || isLabel(s)) continue;
                List<String> withHeadings = new ArrayList<>(t);
                withHeadings.addAll(headingTerms);
                sentenceTerms.add(withHeadings);
                candidates.add(new Scored(h, p, s, 0, 0, 0));
            }
        }
        if (candidates.isEmpty()) return new Extraction(NO_ANSWER, false, List.of(), 0, List.of());
        int n = candidates.size();
        Map<String, Double> weight = index.idf(tenant, queryTerms);
        double totalWeight = weight.values().stream().mapToDouble(Double::doubleValue).sum();
        double coveredByContext = queryTerms.stream().filter(contextTerms::contains).mapToDouble(weight::get).sum();
        double coverage = totalWeight == 0 ? 0 : coveredByContext / totalWeight;
        List<Scored> lexical = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Set<String> present = new HashSet<>(sentenceTerms.get(i));
            double covered = 0;
            for (String q : queryTerms) if (present.contains(q)) covered += weight.get(q);
            double lex = totalWeight == 0 ? 0 : covered / totalWeight;
            Scored c = candidates.get(i);
            lexical.add(new Scored(c.hit(), c.position(), c.text(), lex, 0, lex + 0.15 / (1 + c.hit())));
        }
        lexical.sort(Comparator.comparingDouble(Scored::score).reversed());
        List<Scored> shortlist = lexical.subList(0, Math.min(EMBED_CANDIDATES, lexical.size()));
        List<float[]> vectors = vectors(tenant, shortlist.stream().map(c -> inContext(hits.get(c.hit()).chunk(), c.text())).toList());
        List<Scored> scored = new ArrayList<>(shortlist.size());
        for (int i = 0; i < shortlist.size(); i++) {
            Scored c = shortlist.get(i);
            double sem = Vectors.dot(questionVector, vectors.get(i));
            scored.add(new Scored(c.hit(), c.position(), c.text(), c.lexical(), sem,
                    SEMANTIC_WEIGHT * sem + (1 - SEMANTIC_WEIGHT) * c.lexical()));
        }
        scored.sort(Comparator.comparingDouble(Scored::score).reversed());
        Scored best = scored.get(0);
        double support = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * best.score();
        if (support < config.minSupport()) return new Extraction(NO_ANSWER, false, List.of(), support, scored);

        List<Scored> chosen = new ArrayList<>();
        for (Scored s : scored) {
            if (chosen.size() == config.maxSentences()) break;
            if (s.score() >= Math.max(config.minSupport(), best.score() - 0.06)) chosen.add(s);
        }
        chosen.sort(Comparator.comparingInt(Scored::hit).thenComparingInt(Scored::position));
        Map<Integer, Citation> citations = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        for (Scored s : chosen) {
            Citation c = citations.computeIfAbsent(s.hit(), h -> {
                SearchHit hit = hits.get(h);
                return new Citation(citations.size() + 1, hit.chunk().docId(), hit.chunk().source(), hit.chunk().title(),
                        hit.chunk().section(), hit.chunk().ordinal());
            });
            if (!text.isEmpty()) text.append(' ');
            text.append(s.text()).append(" [").append(c.n()).append(']');
        }
        return new Extraction(text.toString(), true, List.copyOf(citations.values()), support, scored);
    }

    /** Sentence vectors, cached per tenant: how fast a tenant's answer comes must not tell what another tenant asked. */
    List<float[]> vectors(String tenant, List<String> sentences) {
        Map<String, float[]> found = new HashMap<>();
        List<String> missing = new ArrayList<>();
        for (String s : sentences) {
            float[] v = sentenceVectors.getIfPresent(new TenantText(tenant, s));
            if (v != null) found.put(s, v);
            else if (!missing.contains(s)) missing.add(s);
        }
        if (!missing.isEmpty()) {
            List<float[]> fresh = embedder.embedDocuments(missing);
            for (int i = 0; i < missing.size(); i++) {
                sentenceVectors.put(new TenantText(tenant, missing.get(i)), fresh.get(i));
                found.put(missing.get(i), fresh.get(i));
            }
        }
        return sentences.stream().map(found::get).toList();
    }

    /** A sentence as embedded: prefixed with its section heading, so "Visa, Mastercard…" still reads as payment methods. */
    private static String inContext(ChunkRecord chunk, String sentence) {
        List<String> path = chunk.sectionPath();
        String heading = path.isEmpty() ? chunk.title() : path.get(path.size() - 1);
        return heading + ": " + sentence;
    }

    /** Drops interrogatives and pronouns that carry no topic, so they neither help nor hurt support. */
    static String withoutQuestionWords(String question) {
        StringBuilder out = new StringBuilder();
        for (String word : question.split("\\s+")) {
            String bare = word.replaceAll("[^\\p{L}']", "").toLowerCase(java.util.Locale.ROOT);
            if (!QUESTION_WORDS.contains(bare)) out.append(word).append(' ');
        }
        return out.toString();
    }
}
