package dev.keel.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.ModelConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The default {@link ComplexityClassifier}: points for each measured {@link PromptFeatures feature}
 * that small models handle poorly, summed; {@value #MEDIUM_POINTS} points or more ask for the medium
 * tier, {@value #LARGE_POINTS} or more for the large one. Deterministic, stateless, thread-safe. The
 * reason names the features that scored, heaviest first ({@code reasoning+long-ask}), or
 * {@code short-simple} when none did.
 */
final class RuleBasedClassifier implements ComplexityClassifier {
    /** Two independent signals (or one strong one: code, tools, many cues) are what a small model starts to fail on. */
    static final int MEDIUM_POINTS = 2;
    /** Four points: several strong signals together, e.g. a long request that asks for analysis, or code to reason about. */
    static final int LARGE_POINTS = 4;
    /** An ask of a long paragraph or more (about 75 English words) usually carries several constraints. */
    static final long LONG_ASK_TOKENS = 100;
    /** An ask of a page or more: a spec, a document to rework, a long piece of code. */
    static final long VERY_LONG_ASK_TOKENS = 600;
    /** Long context (retrieved passages, a pasted file) taxes small models' attention even for a short question. */
    static final long LONG_CONTEXT_TOKENS = 4_000;
    /** Several questions in one message: each must be answered, and small models drop some. */
    static final int SEVERAL_QUESTIONS = 2, MANY_QUESTIONS = 4;
    /** Three or more listed requirements or steps. */
    static final int MANY_STEPS = 3;
    /**
     * One or two cues ("explain why") are routine; three or more (compare, explain, justify) ask for real
     * reasoning; five or more for an essay-sized analysis, which alone asks for the large tier.
     */
    static final int SOME_CUES = 1, SEVERAL_CUES = 3, MANY_CUES = 5;
    /** A schema of this many properties, or this deep, is hard to fill exactly for a small model. */
    static final int LARGE_SCHEMA_PROPERTIES = 8, DEEP_SCHEMA = 3;
    /** A conversation this long needs the earlier turns kept straight. */
    static final int LONG_CONVERSATION_TURNS = 9;

    @Override
    public Classification classify(ObjectNode request) {
        PromptFeatures f = PromptFeatures.of(request);
        Map<String, Integer> points = new LinkedHashMap<>();
        score(points, "long-ask", f.askTokens() > VERY_LONG_ASK_TOKENS ? 2 : f.askTokens() > LONG_ASK_TOKENS ? 1 : 0);
        score(points, "long-context", f.promptTokens() > LONG_CONTEXT_TOKENS ? 1 : 0);
        score(points, "questions", f.questions() >= MANY_QUESTIONS ? 2 : f.questions() >= SEVERAL_QUESTIONS ? 1 : 0);
        score(points, "steps", f.steps() >= MANY_STEPS ? 1 : 0);
        score(points, "reasoning", f.reasoningCues() >= MANY_CUES ? LARGE_POINTS : f.reasoningCues() >= SEVERAL_CUES ? 2 : f.reasoningCues() >= SOME_CUES ? 1 : 0);
        score(points, "code", f.code() ? 2 : 0);
        score(points, "tools", f.tools() > 0 ? 2 : 0);
        score(points, "json-schema", f.schemaProperties() >= LARGE_SCHEMA_PROPERTIES || f.schemaDepth() >= DEEP_SCHEMA ? 2
                : request.path("response_format").path("type").asText().equals("json_schema") ? 1 : 0);
        score(points, "long-conversation", f.turns() >= LONG_CONVERSATION_TURNS ? 1 : 0);
        int total = points.values().stream().mapToInt(Integer::intValue).sum();
        ModelConfig.Tier tier = total >= LARGE_POINTS ? ModelConfig.Tier.LARGE : total >= MEDIUM_POINTS ? ModelConfig.Tier.MEDIUM : ModelConfig.Tier.SMALL;
        Map<String, Long> features = new LinkedHashMap<>(f.asMap());
        features.put("points", (long) total);
        return new Classification(tier, reason(points), features);
    }

    private static void score(Map<String, Integer> points, String feature, int value) {
        if (value > 0) points.put(feature, value);
    }

    /** The scoring features, heaviest first (ties in declaration order), at most three. */
    private static String reason(Map<String, Integer> points) {
        if (points.isEmpty()) return "short-simple";
        List<Map.Entry<String, Integer>> scored = new ArrayList<>(points.entrySet());
        scored.sort(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()));
        return String.join("+", scored.stream().limit(3).map(Map.Entry::getKey).toList());
    }
}
