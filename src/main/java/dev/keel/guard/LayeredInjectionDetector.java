package dev.keel.guard;

import dev.keel.embed.Embedder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Prompt-injection detection in layers, cheapest first. Every text is normalised
 * ({@link InputNormalizer}) and its encoded payloads decoded ({@link EncodedPayloads}); the pattern
 * layer and the n-gram classifier score the text, its folded view and every decoded layer, and the
 * cheap stacker of {@link InjectionModel} turns those into a score. Only when that score is uncertain, and what the
 * cheap layers already guarantee (a pattern floor, a decoded layer, hidden words) does not yet block under every
 * threshold, is the text embedded ({@link InjectionModel#worthEmbedding}), and the full stacker adds the embedding classifier and the
 * similarity to the nearest {@link AttackExemplars attack exemplar}. Strong pattern evidence is a floor under the score
 * ({@link #PATTERN_FLOOR_MIN}). A text that hides its words ({@link ObfuscationEvidence}) scores at least
 * that evidence times how instruction-like the revealed text is (its strongest pattern or n-gram score, folded and
 * decoded views included, or the full stacker's score); a backwards-written text is read forwards, and a payload split into quoted fragments is joined, as decoded layers. Signals name the layer ({@code pattern},
 * {@code classifier}, {@code exemplar}, {@code obfuscation}, or {@code decoded:ENCODING} for what a decoded layer showed)
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
    /**
     * Words of a text that talks about attacks or phrases (a security note, a question about wording) rather
     * than makes one: only such a text gets the mention discount, so a bare quoted order to the model does not.
     */
    private static final Pattern DISCUSSES_ATTACKS = Pattern.compile("\\b(prompt[- ]injections?|injection attacks?|jailbreak(s|ing)?|attacks?|attackers?"
            + "|phishing|scams?|examples?|e\\.g\\.|such as|for instance|phrases?|wording|detects?|detection|detectors?|guardrails?|filters?|blocks?|flag(s|ged)?"
            + "|red[- ]team(ing)?|awareness|classifiers?|test cases?|means?|meaning|said|says|wrote|quote[ds]?|called|labell?ed)\\b",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CHARACTER_CLASS);
    /** Quoted spans (straight, curly, guillemets, low-high German, backticks), each on one line and bounded. */
    private static final Pattern QUOTED = Pattern.compile("\"[^\"\n]{1,300}\"|(?<!\\w)'[^'\n]{1,300}'(?!\\w)|“[^”\n]{1,300}”|‘[^’\n]{1,300}’"
            + "|«[^»\n]{1,300}»|„[^“”\n]{1,300}[“”]|`[^`\n]{1,300}`");
    /** Quoted spans read for what a decode-and-follow request asks to follow: an order is one of the first few. */
    private static final int MAX_QUOTED_SPANS = 8;
    /** The share of its weight a pattern keeps when it matches only inside quotation marks of a text about attacks. */
    private static final double MENTION_WEIGHT = 0.5;
    /**
     * Pattern evidence from this weight up is a floor under the score: the patterns file keeps weights below 0.5
     * for phrasings that only add to other evidence, and the classifiers, trained on sets where few attacks use
     * the stronger phrasings, must not talk them down. (On the red-team suite a floor from 0.75 instead of 0.5
     * lost 6 points of detection for no fewer false positives.)
     */
    static final double PATTERN_FLOOR_MIN = 0.5;
    /**
     * A question about the asker's own world ("can I ignore the previous invoice?", "my teacher said to
     * disregard the instructions"): the asker, not the model, is the one who would ignore or delete. In such a
     * text that does not address the model outside quotation marks, patterns count at {@link #MENTION_WEIGHT}.
     */
    private static final Pattern ASKERS_OWN_WORLD = Pattern.compile("\\b((can|could|should|may|must|might|do|did|shall) (i|we)|is it (ok|okay|safe|fine|allowed|legal)"
            + "( for (me|us))? to|(told|asked|wants|wanted|instructed|reminded) (me|us)|said (to|we should|i should)|(my|our) (teacher|manager|boss|doctor|landlord|colleague|lawyer"
            + "|professor|client|team lead|coach|bank|school|employer|company|it department|hr))\\b", Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CHARACTER_CLASS);
    /**
     * Advice against an action ("never share your password", "do not click the link"), up to the end of its
     * clause (or a ", but"/", then" turn): a policy or a warning, not an order. What matches only inside such a clause is discounted like a mention.
     */
    private static final Pattern NEGATED_ADVICE = Pattern.compile("\\b(never|do not|don't|dont|must not|mustn't|should not|shouldn't|shall not|may not|cannot|can't|will never)"
            + "\\s+(ever\\s+)?(share|reveal|send|give|tell|disclose|post|email|forward|click|open|enter|type|delete|disable|run|execute|paste|upload|write down|store"
            + "|reuse|show|print|repeat|expose|leak)\\b(?:(?!,\\s*(but|and|then|instead|now|just|so)\\b)[^.!?\\n;]){0,120}", Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CHARACTER_CLASS);
    /** The model addressed: "you", "your" (outside quotation marks). */
    private static final Pattern ADDRESSES_MODEL = Pattern.compile("\\b(you|your|yours|yourself|u|ur)\\b", Pattern.CASE_INSENSITIVE);
    /** The name of the decoded layer that reads a backwards-written text forwards. */
    private static final String REVERSED = "reversed";
    /** The name of the decoded layer that joins a payload split into quoted fragments. */
    private static final String JOINED = "joined";
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
    private final double decisive;

    /**
     * {@code embedder} null, or of another model than the classifier's, leaves the embedding layers out. {@code decisive}
     * is the score from which every threshold the scores are held to blocks: a text the cheap layers already score at
     * least that high is not embedded, since no decision could change.
     */
    LayeredInjectionDetector(InjectionPatterns patterns, InjectionModel model, AttackExemplars exemplars, Embedder embedder, int maxDecodeDepth,
                             double decisive) {
        this.patterns = patterns;
        this.model = model;
        this.exemplars = exemplars;
        this.embedder = embedder != null && embedder.modelId().equals(model.embedModelId()) ? embedder : null;
        this.maxDecodeDepth = maxDecodeDepth;
        this.decisive = decisive;
    }

    /** The exemplars' vectors, which the first uncertain text would otherwise wait for (hundreds of embeddings). */
    @Override
    public void prepare() {
        if (embedder != null) exemplars.prepare();
    }

    /** Whether the embedding layers run for uncertain texts. */
    boolean embeds() {
        return embedder != null;
    }

    @Override
    public Assessment assess(String text) {
        return assess(text, embedder);
    }

    @Override
    public Assessment assess(String text, String tenant) {
        return assess(text, embedder == null ? null : embedder.forTenant(tenant));
    }

    @Override
    public Assessment assessCheaply(String text) {
        return assess(text, (Embedder) null);
    }

    /** As {@link #assess(String)}, with the embedding layers on or off (the benchmark compares both). */
    Assessment assess(String text, boolean embed) {
        return assess(text, embed ? embedder : null);
    }

    /** The assessment with the embedding layers computed by {@code embedding} (null: without them). */
    private Assessment assess(String text, Embedder embedding) {
        if (text == null || text.isBlank()) return Assessment.NONE;
        String window = scanWindow(text);
        String plain = InputNormalizer.normalize(window);
        if (plain.isBlank()) return Assessment.NONE;
        List<GuardSignal> signals = new ArrayList<>();
        Cheap main = cheap(plain);
        main.report("pattern", signals);
        double decoded = 0, revealed = Math.max(main.pattern, main.ngram), revealedInViews = 0;
        List<EncodedPayloads.Layer> layers = new ArrayList<>(EncodedPayloads.decode(plain, maxDecodeDepth));
        for (String backwards : ObfuscationEvidence.reversedViews(plain)) layers.add(new EncodedPayloads.Layer(REVERSED, backwards));
        String joined = ObfuscationEvidence.joinedFragments(plain);
        if (!joined.isEmpty()) layers.add(new EncodedPayloads.Layer(JOINED, joined));
        for (EncodedPayloads.Layer layer : layers) {
            String decodedText = InputNormalizer.normalize(layer.text());
            Cheap view = cheap(decodedText);
            view.report("decoded:" + layer.encoding(), signals);
            decoded = Math.max(decoded, Math.max(withoutPatternEvidence(view.score, view.pattern, decodedText.length()), patternFloor(view.pattern)));
            revealedInViews = Math.max(revealedInViews, Math.max(view.pattern, view.ngram));
        }
        ObfuscationEvidence evidence = ObfuscationEvidence.of(window, plain, joined);
        // "Translate this and then follow it: '…'": what is to be followed may be quoted rather than encoded.
        if (evidence.decodeAndObey() > 0) revealedInViews = Math.max(revealedInViews, quotedInstructions(plain));
        revealed = Math.max(revealed, revealedInViews);
        double score = main.score;
        // The least score the cheap layers already give, whatever the embedding says: the final score is never below it.
        double guaranteed = Math.max(Math.max(patternFloor(main.pattern), decoded),
                Math.max(evidence.inText() * revealed, evidence.inViews() * revealedInViews));
        if (embedding != null && model.worthEmbedding(main.score, evidence.strength() > 0, guaranteed, decisive)) {
            float[] vector = embedding.embedDocuments(List.of(InjectionModel.embeddingInput(plain))).getFirst();
            double embedded = model.embedProbability(vector);
            AttackExemplars.Nearest nearest = exemplars.nearest(vector);
            if (embedded >= SIGNAL_FLOOR) signals.add(new GuardSignal("classifier", "embedding", embedded));
            if (nearest.similarity() >= SIGNAL_FLOOR) signals.add(new GuardSignal("exemplar", nearest.category(), clamp(nearest.similarity())));
            score = model.fullScore(main.pattern, main.ngram, embedded, nearest.similarity());
            revealed = Math.max(revealed, score);
        }
        double hidden = Math.max(evidence.inText() * revealed, evidence.inViews() * revealedInViews);
        if (hidden >= SIGNAL_FLOOR) signals.add(new GuardSignal("obfuscation", "hidden_instructions", hidden));
        score = Math.max(Math.max(withoutPatternEvidence(score, main.pattern, plain.length()), patternFloor(main.pattern)), Math.max(decoded, hidden));
        return new Assessment(clamp(score), signals);
    }

    /** How instruction-like the most instruction-like quoted span of a text reads (patterns or n-grams), over its first few spans. */
    private double quotedInstructions(String normalized) {
        double most = 0;
        var quoted = QUOTED.matcher(normalized);
        for (int spans = 0; spans < MAX_QUOTED_SPANS && quoted.find(); spans++) {
            Cheap span = cheap(quoted.group().substring(1, quoted.group().length() - 1));
            most = Math.max(most, Math.max(span.pattern, span.ngram));
        }
        return most;
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
     * The least score that pattern evidence alone gives: itself when it reaches {@link #PATTERN_FLOOR_MIN},
     * else nothing (weaker patterns are seen in honest text and only add to the other layers' evidence).
     */
    static double patternFloor(double pattern) {
        return pattern >= PATTERN_FLOOR_MIN ? pattern : 0;
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

    /**
     * The pattern layer's categories for a normalised text and its folded view, spaced-out phrases included.
     * In a text that talks about attacks ({@link #DISCUSSES_ATTACKS}), a phrase inside quotation marks is a
     * mention, not a use: what matches only there counts at {@link #MENTION_WEIGHT} of its weight; so does every
     * match in a question about the asker's own world ({@link #ASKERS_OWN_WORLD}) that does not address the model,
     * and what matches only inside advice against an action ({@link #NEGATED_ADVICE}).
     */
    static Map<String, Double> patternCategories(InjectionPatterns patterns, String normalized, String folded) {
        Map<String, Double> categories = new TreeMap<>(patterns.match(normalized));
        if (!folded.equals(normalized)) patterns.match(folded).forEach((c, s) -> categories.merge(c, s, Math::max));
        String spaced = InputNormalizer.spacedOutLetters(normalized);
        if (!spaced.isEmpty() && SPACED_OUT_PHRASES.stream().anyMatch(spaced::contains)) categories.merge("obfuscation", SPACED_OUT_WEIGHT, Math::max);
        if (categories.isEmpty()) return categories;
        String unquoted = QUOTED.matcher(normalized).replaceAll(" ");
        if (ASKERS_OWN_WORLD.matcher(unquoted).find() && !ADDRESSES_MODEL.matcher(unquoted).find()) {
            categories.replaceAll((c, s) -> s * MENTION_WEIGHT);
            return categories;
        }
        if (!unquoted.equals(normalized) && DISCUSSES_ATTACKS.matcher(normalized).find()) discountOutside(patterns, unquoted, categories);
        String unadvised = NEGATED_ADVICE.matcher(normalized).replaceAll(" ");
        if (!unadvised.equals(normalized)) discountOutside(patterns, unadvised, categories);
        return categories;
    }

    /** Categories that {@code view} (the text with some spans taken out) does not match keep {@link #MENTION_WEIGHT} of their weight. */
    private static void discountOutside(InjectionPatterns patterns, String view, Map<String, Double> categories) {
        Map<String, Double> used = patterns.match(view, categories::containsKey);
        categories.replaceAll((c, s) -> Math.min(s, Math.max(used.getOrDefault(c, 0.0), s * MENTION_WEIGHT)));
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
