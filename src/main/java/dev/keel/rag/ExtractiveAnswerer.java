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
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Offline answers: picks the 1–3 sentences of the retrieved chunks that best support the question and
 * cites their chunks. A sentence is judged mainly by the embedding similarity of the question to the
 * sentence read under its title and section path (so a question worded unlike the document still finds it),
 * with IDF-weighted shared words and the chunk's retrieval rank breaking near ties. Says the documents
 * don't answer when the support (the best sentence's similarity blended with how much of the
 * question's IDF-weighted vocabulary the context contains at all, lowered when a question asking for a
 * quantity meets a sentence without one) is under the calibrated threshold, and says what to ask
 * instead when the question has no searchable word. Only a lexical shortlist of sentences is embedded
 * (cached per tenant), which keeps answers fast. Never quotes the same statement twice. Thread-safe.
 */
final class ExtractiveAnswerer {
    static final String NO_ANSWER = "The indexed documents don't answer this question.";
    static final String NOT_A_QUESTION = "Please ask a question in words, for example \"How long do refunds take?\": "
            + "this one has no word the documents could be searched for.";
    /**
     * Sentences embedded per question, each uncached one costing an embedding (~8 ms here), the bulk of a
     * cold answer. Measured on the paraphrase set: 6 or 8 answered one held-out question more than 4, and
     * none on the tune half or the golden set, so the shortlist stays at 4.
     */
    private static final int EMBED_CANDIDATES = 4;
    /** Shortlist bonus of the first chunk's sentences, divided by 1 + rank: fused retrieval already judged the whole chunk. */
    private static final double SHORTLIST_RANK_PRIOR = 0.15;
    /** Shared rare words add this much to a sentence's similarity: enough to break near ties, never to outvote meaning. */
    private static final double LEXICAL_WEIGHT = 0.1;
    /** Bonus of the first chunk's sentences in the final choice, divided by 1 + rank: a few hundredths of cosine, a tie-breaker. */
    private static final double RANK_PRIOR = 0.03;
    /**
     * Share of the support that comes from how much of the question's rare vocabulary the context covers
     * (the rest is the best sentence's similarity). Coverage is what refuses questions about things the
     * documents never mention, whose wording an embedding still finds close.
     */
    static final double COVERAGE_WEIGHT = 0.5;
    /** Taken from the support (and a sentence's score) when a question asking for a quantity meets a sentence stating none. */
    private static final double QUANTITY_MISMATCH_PENALTY = 0.15;
    /** Further sentences are quoted only when they score within this of the best: close runners-up, not filler. */
    private static final double SENTENCE_MARGIN = 0.06;
    /** Two sentences sharing this share of their terms (Jaccard) say the same thing (overlapping chunks, repeated FAQs): quote one. */
    private static final double NEAR_DUPLICATE = 0.8;
    /** A question needs this many letters or digits in its searchable words: "x" or "?" asks nothing the documents could answer. */
    private static final int MIN_QUESTION_CHARS = 3;
    private static final int MIN_SENTENCE_CHARS = 12;
    /**
     * A line of at most this many words, without digits or any punctuation that ends or joins a
     * statement, is a heading (packed chunks carry their small sections' headings as lines): it
     * names a topic but says nothing about it, so it is never quoted as an answer.
     */
    private static final int MAX_LABEL_WORDS = 6;
    private static final Pattern STATEMENT_MARKS = Pattern.compile("[.!?:;,\\d]");
    private static final Pattern ASKS_QUANTITY = Pattern.compile("\\b(how (many|much|long|often|frequently|fast|quickly|soon|big|large)"
            + "|what('s| is| are)? the (maximum|minimum|max|min|limit|price|cost|size|number|percentage))\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern STATES_QUANTITY = Pattern.compile("\\d|\\b(one|two|three|four|five|six|seven|eight|nine|ten|once|twice"
            + "|every|daily|weekly|hourly|monthly|yearly|annually|unlimited|immediately|within|until)\\b", Pattern.CASE_INSENSITIVE);
    private static final Set<String> QUESTION_WORDS = Set.of("how", "often", "many", "much", "long", "what", "what's", "which", "who",
            "whom", "whose", "when", "where", "why", "do", "does", "did", "can", "could", "should", "would", "may", "might", "i", "i'm",
            "my", "me", "we", "our", "us", "you", "your", "get", "happens", "happen", "there", "any", "some", "need", "want", "please", "tell");

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

    private record Candidate(int hit, int position, String text, Set<String> terms) {}

    private static boolean isLabel(String line) {
        return line.split("\\s+").length <= MAX_LABEL_WORDS && !STATEMENT_MARKS.matcher(line).find();
    }

    Extraction answer(String tenant, String question, float[] questionVector, List<SearchHit> hits) {
        List<String> questionTerms = index.terms(withoutQuestionWords(question));
        if (questionTerms.stream().mapToInt(String::length).sum() < MIN_QUESTION_CHARS) {
            return new Extraction(NOT_A_QUESTION, false, List.of(), 0, List.of());
        }
        if (hits.isEmpty()) return new Extraction(NO_ANSWER, false, List.of(), 0, List.of());
        Set<String> queryTerms = new HashSet<>(questionTerms);
        List<Candidate> candidates = new ArrayList<>();
        Set<String> seen = new HashSet<>();
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
                if (s.length() < MIN_SENTENCE_CHARS || isLabel(s) || !seen.add(s)) continue;
                Set<String> withHeadings = new HashSet<>(t);
                withHeadings.addAll(headingTerms);
                candidates.add(new Candidate(h, p, s, withHeadings));
            }
        }
        if (candidates.isEmpty()) return new Extraction(NO_ANSWER, false, List.of(), 0, List.of());
        Map<String, Double> weight = index.idf(tenant, queryTerms);
        double totalWeight = weight.values().stream().mapToDouble(Double::doubleValue).sum();
        // Words the retrieved context never uses cannot be matched by words (a synonym, another spelling):
        // they count against coverage, and the embedding alone judges whether a sentence means them.
        double matchableWeight = queryTerms.stream().filter(contextTerms::contains).mapToDouble(weight::get).sum();
        double coverage = totalWeight == 0 ? 0 : matchableWeight / totalWeight;
        List<Scored> lexical = new ArrayList<>(candidates.size());
        for (Candidate c : candidates) {
            double covered = 0;
            for (String q : queryTerms) if (c.terms().contains(q) && contextTerms.contains(q)) covered += weight.get(q);
            double lex = matchableWeight == 0 ? 0 : covered / matchableWeight;
            lexical.add(new Scored(c.hit(), c.position(), c.text(), lex, 0, lex + SHORTLIST_RANK_PRIOR / (1 + c.hit())));
        }
        lexical.sort(Comparator.comparingDouble(Scored::score).reversed());
        List<Scored> shortlist = lexical.subList(0, Math.min(EMBED_CANDIDATES, lexical.size()));
        List<float[]> vectors = vectors(tenant, shortlist.stream().map(c -> inContext(hits.get(c.hit()).chunk(), c.text())).toList());
        boolean asksQuantity = ASKS_QUANTITY.matcher(question).find();
        List<Scored> scored = new ArrayList<>(shortlist.size());
        for (int i = 0; i < shortlist.size(); i++) {
            Scored c = shortlist.get(i);
            boolean quantityMissing = asksQuantity && !STATES_QUANTITY.matcher(c.text()).find();
            double sem = Vectors.dot(questionVector, vectors.get(i)) - (quantityMissing ? QUANTITY_MISMATCH_PENALTY : 0);
            scored.add(new Scored(c.hit(), c.position(), c.text(), c.lexical(), sem, sem + LEXICAL_WEIGHT * c.lexical() + RANK_PRIOR / (1 + c.hit())));
        }
        scored.sort(Comparator.comparingDouble(Scored::score).reversed());
        Scored best = scored.get(0);
        double support = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * best.semantic();
        if (support < config.minSupport()) return new Extraction(NO_ANSWER, false, List.of(), support, scored);

        List<Scored> chosen = new ArrayList<>();
        List<Set<String>> chosenTerms = new ArrayList<>();
        for (Scored s : scored) {
            if (chosen.size() == config.maxSentences() || s.score() < best.score() - SENTENCE_MARGIN) break;
            Set<String> terms = new HashSet<>(index.terms(s.text()));
            if (chosenTerms.stream().anyMatch(t -> jaccard(t, terms) >= NEAR_DUPLICATE)) continue;
            chosen.add(s);
            chosenTerms.add(terms);
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

    private static double jaccard(Set<String> a, Set<String> b) {
        if (a.isEmpty() && b.isEmpty()) return 1;
        long shared = a.stream().filter(b::contains).count();
        return (double) shared / (a.size() + b.size() - shared);
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

    /**
     * A sentence as embedded: after its document title and section path, so "Visa, Mastercard…" still reads as
     * payment methods and "Monthly subscriptions are not refundable" as refund policy (measured on the tune half:
     * more paraphrased questions answered than with the last heading alone, at the same golden-set refusals).
     */
    private static String inContext(ChunkRecord chunk, String sentence) {
        return chunk.sectionPath().isEmpty() ? chunk.title() + ": " + sentence : chunk.title() + " › " + chunk.section() + ": " + sentence;
    }

    /** Drops interrogatives and pronouns that carry no topic, so they neither help nor hurt support. */
    static String withoutQuestionWords(String question) {
        StringBuilder out = new StringBuilder();
        for (String word : question.split("\\s+")) {
            String bare = word.replaceAll("[^\\p{L}']", "").toLowerCase(Locale.ROOT);
            if (!QUESTION_WORDS.contains(bare)) out.append(word).append(' ');
        }
        return out.toString();
    }
}
