package dev.keel.guard;

import dev.keel.embed.Embedder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prompt-injection detection in layers, cheapest first. Every text is normalised
 * ({@link InputNormalizer}) and its encoded payloads decoded ({@link EncodedPayloads}); the pattern
 * layer and the n-gram classifier score the text, its folded view and every decoded layer, and the
 * cheap stacker of {@link InjectionModel} turns those into a score. Only when that score is uncertain
 * is the text embedded, and the full stacker adds the embedding classifier and the similarity to the
 * nearest {@link AttackExemplars attack exemplar}. Signals name the layer ({@code pattern},
 * {@code classifier}, {@code exemplar}, or {@code decoded:ENCODING} for what a decoded layer showed)
 * and the category, never text. Work is bounded: at most {@link #MAX_SCAN_CHARS} characters of a text
 * are read (its head and tail), the decoder has its own caps, and the embedding reads a window.
 * Thread-safe.
 */
final class LayeredInjectionDetector implements InjectionDetector {
    /** Characters of a text that are scanned: far above any prompt, small enough to scan in milliseconds. */
    static final int MAX_SCAN_CHARS = 100_000;
    /** Of {@link #MAX_SCAN_CHARS}, the share taken from the end of the text, where appended attacks sit. */
    private static final int TAIL_SCAN_CHARS = 20_000;
    /** Layer signals below this score are not reported: they would only list every layer on every text. */
    private static final double SIGNAL_FLOOR = 0.5;

    /**
     * Attack phrases as they read once spaced-out letters are joined without breaks. Nobody spaces out
     * these words letter by letter except to slip them past a filter, so one is strong evidence.
     */
    private static final List<String> SPACED_OUT_PHRASES = List.of("ignoreallprevious", "ignorepreviousinstructions", "ignoreyourinstructions",
            "ignoreyourrules", "ignoretheabove", "disregardallprevious", "disregardprevious", "disregardyour", "forgetallprevious", "forgetyourinstructions",
            "forgetyourrules", "forgeteverything", "systemprompt", "yourinstructions", "initialinstructions", "hiddeninstructions",
            "doanythingnow", "developermode", "norestrictions", "withoutrestrictions", "nofilters", "jailbreak", "revealyour", "newinstructions");
    /** The pattern weight of a spaced-out attack phrase. */
    private static final double SPACED_OUT_WEIGHT = 0.85;
    /**
     * Texts up to this long with no pattern evidence are judged by the learned layers only when they are
     * confident: a short request with none of the phrasings of an attack (addressing the model to override,
     * extract or role-play) is usually a question about the user's own world that merely shares an
     * attack's vocabulary (password, admin, delete, system). Longer texts keep the plain score: a
     * role-play jailbreak without a known phrasing is long, and that is where the classifiers earn their place.
     */
    static final int SHORT_TEXT_CHARS = 300;
    /** The learned score a short text without pattern evidence needs to reach the strict threshold 0.5. */
    static final double LEARNED_ONLY_CONFIDENCE = 0.9;

    private final InjectionPatterns patterns;
    private final InjectionModel model;
    private final AttackExemplars exemplars;
    private final Embedder embedder;
    private final int maxDecodeDepth;

    /** {@code embedder} null, or of another model than the classifier's, leaves the embedding layers out. */
    LayeredInjectionDetector(InjectionPatterns patterns, InjectionModel model, AttackExemplars exemplars, Embedder embedder, int maxDecodeDepth) {
        this.patterns = patterns;
        this.model = model;
        this.exemplars = exemplars;
        this.embedder = embedder != null && embedder.modelId().equals(model.embedModelId()) ? embedder : null;
        this.maxDecodeDepth = maxDecodeDepth;
    }

    /** Whether the embedding layers run for uncertain texts. */
    boolean embeds() {
        return embedder != null;
    }

    @Override
    public Assessment assess(String text) {
        return assess(text, embedder != null);
    }

    /** As {@link #assess(String)}, with the embedding layers on or off (the benchmark compares both). */
    Assessment assess(String text, boolean embed) {
        if (text == null || text.isBlank()) return Assessment.NONE;
        String plain = InputNormalizer.normalize(scanWindow(text));
        if (plain.isBlank()) return Assessment.NONE;
        List<GuardSignal> signals = new ArrayList<>();
        Cheap main = cheap(plain);
        main.report("pattern", signals);
        double decoded = 0;
        for (EncodedPayloads.Layer layer : EncodedPayloads.decode(plain, maxDecodeDepth)) {
            String decodedText = InputNormalizer.normalize(layer.text());
            Cheap view = cheap(decodedText);
            view.report("decoded:" + layer.encoding(), signals);
            decoded = Math.max(decoded, withoutPatternEvidence(view.score, view.pattern, decodedText.length()));
        }
        double score = main.score;
        if (embed && embedder != null && main.score >= model.uncertainLow() && main.score < model.uncertainHigh()) {
            float[] vector = embedder.embedDocuments(List.of(InjectionModel.embeddingInput(plain))).getFirst();
            double embedded = model.embedProbability(vector);
            AttackExemplars.Nearest nearest = exemplars.nearest(vector);
            if (embedded >= SIGNAL_FLOOR) signals.add(new GuardSignal("classifier", "embedding", embedded));
            if (nearest.similarity() >= SIGNAL_FLOOR) signals.add(new GuardSignal("exemplar", nearest.category(), clamp(nearest.similarity())));
            score = model.fullScore(main.pattern, main.ngram, embedded, nearest.similarity());
        }
        score = Math.max(withoutPatternEvidence(score, main.pattern, plain.length()), decoded);
        return new Assessment(clamp(score), signals);
    }

    /** The cheap layers' view of one text: pattern categories (text and folded view) and the n-gram classifier. */
    private Cheap cheap(String normalized) {
        String folded = InputNormalizer.fold(normalized);
        Map<String, Double> categories = patternCategories(patterns, normalized, folded);
        double ngram = model.ngramProbability(TextFeatures.of(normalized));
        if (!folded.equals(normalized)) ngram = Math.max(ngram, model.ngramProbability(TextFeatures.of(folded)));
        double pattern = InjectionPatterns.combine(categories);
        return new Cheap(categories, pattern, ngram, model.cheapScore(pattern, ngram));
    }

    /**
     * The score of a text of {@code chars} characters whose pattern layer scored {@code pattern}: unchanged
     * unless the text is short and matched no pattern; then rescaled (monotone, piecewise linear) so the
     * learned layers reach 0.5 only at {@link #LEARNED_ONLY_CONFIDENCE}. The trainer measures with it too.
     */
    static double withoutPatternEvidence(double score, double pattern, int chars) {
        if (pattern > 0 || chars > SHORT_TEXT_CHARS) return score;
        if (score < LEARNED_ONLY_CONFIDENCE) return 0.5 * score / LEARNED_ONLY_CONFIDENCE;
        return 0.5 + 0.5 * (score - LEARNED_ONLY_CONFIDENCE) / (1 - LEARNED_ONLY_CONFIDENCE);
    }

    /** The pattern layer's categories for a normalised text and its folded view, spaced-out phrases included. */
    static Map<String, Double> patternCategories(InjectionPatterns patterns, String normalized, String folded) {
        Map<String, Double> categories = new TreeMap<>(patterns.match(normalized));
        if (!folded.equals(normalized)) patterns.match(folded).forEach((c, s) -> categories.merge(c, s, Math::max));
        String spaced = InputNormalizer.spacedOutLetters(normalized);
        if (!spaced.isEmpty() && SPACED_OUT_PHRASES.stream().anyMatch(spaced::contains)) categories.merge("obfuscation", SPACED_OUT_WEIGHT, Math::max);
        return categories;
    }

    private record Cheap(Map<String, Double> categories, double pattern, double ngram, double score) {
        void report(String layer, List<GuardSignal> signals) {
            categories.forEach((c, s) -> signals.add(new GuardSignal(layer, c, s)));
            if (ngram >= SIGNAL_FLOOR) signals.add(new GuardSignal(layer.equals("pattern") ? "classifier" : layer, "ngram", ngram));
        }
    }

    private static String scanWindow(String text) {
        if (text.length() <= MAX_SCAN_CHARS) return text;
        return text.substring(0, MAX_SCAN_CHARS - TAIL_SCAN_CHARS) + "\n" + text.substring(text.length() - TAIL_SCAN_CHARS);
    }

    private static double clamp(double s) {
        return Math.max(0, Math.min(1, s));
    }
}
