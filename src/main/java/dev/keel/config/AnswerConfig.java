package dev.keel.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Answering: how many retrieved chunks are read, the extractive answerer's sentences and support
 * threshold, and grounded generation with a language model: {@code model} ({@value #EXTRACTIVE}
 * keeps Keel offline; any other value is a catalog or pass-through chat model of the gateway, or
 * {@code auto} for the router's tiers), the
 * prompt template ({@code prompt}: a built-in name or a file), the output tokens reserved for the
 * answer, the context window assumed when the catalog states none, the retrieval confidence below
 * which Keel refuses without calling the model, the support each answer sentence needs from its
 * cited context, how short a retrieved chunk is before its neighbours join it, and an optional
 * second model that verifies the answer's sentences (empty: off).
 */
public record AnswerConfig(int contextChunks, int maxSentences, double minSupport, String model, String prompt, int maxOutputTokens,
                           int defaultContextWindow, double minConfidence, double minSentenceSupport, int expandBelowTokens,
                           String verifierModel) {
    /** The {@code model} value that selects the offline extractive answerer. */
    public static final String EXTRACTIVE = "extractive";
    /** The built-in prompt template. */
    public static final String DEFAULT_PROMPT = "grounded-answer.v1";
    public static final AnswerConfig DEFAULTS = new AnswerConfig(5, 3, 0.60, EXTRACTIVE, DEFAULT_PROMPT, 512, 8192, 0.40, 0.60, 64, "");

    /** Whether {@code name} (null: this configuration's model) selects the extractive answerer. */
    public boolean extractive(String name) {
        String m = name == null ? model : name;
        return m.equals(EXTRACTIVE);
    }

    static AnswerConfig read(ConfigNode n) {
        String model = n.string("model", DEFAULTS.model).strip();
        if (model.isEmpty()) throw new ConfigException(n.path("model"), "expected '" + EXTRACTIVE + "' or a chat model name");
        String prompt = n.string("prompt", DEFAULTS.prompt).strip();
        if (prompt.isEmpty()) throw new ConfigException(n.path("prompt"), "expected a built-in template name or a file path");
        return new AnswerConfig(
                n.integer("context_chunks", DEFAULTS.contextChunks, 1, 50),
                n.integer("max_sentences", DEFAULTS.maxSentences, 1, 10),
                n.decimal("min_support", DEFAULTS.minSupport, 0, 1),
                model,
                prompt,
                n.integer("max_output_tokens", DEFAULTS.maxOutputTokens, 16, 100_000),
                n.integer("default_context_window", DEFAULTS.defaultContextWindow, 1024, 10_000_000),
                n.decimal("min_confidence", DEFAULTS.minConfidence, 0, 1),
                n.decimal("min_sentence_support", DEFAULTS.minSentenceSupport, 0, 1),
                n.integer("expand_below_tokens", DEFAULTS.expandBelowTokens, 0, 10_000),
                n.string("verifier_model", DEFAULTS.verifierModel).strip());
    }

    /**
     * The chat models this configuration calls, by field ({@code answer.model} unless extractive,
     * {@code answer.verifier_model} when set), for a check against what the gateway serves.
     */
    public Map<String, String> chatModels() {
        Map<String, String> out = new LinkedHashMap<>();
        if (!extractive(null)) out.put("answer.model", model);
        if (!verifierModel.isEmpty()) out.put("answer.verifier_model", verifierModel);
        return out;
    }

    /**
     * With providers declared in keel.yaml model names do not pass through, so {@code answer.model}
     * and {@code answer.verifier_model} must be chat models of the catalog, or {@value ModelConfig#AUTO}
     * when catalog models have router tiers.
     */
    void checkAgainst(GatewayConfig gateway) {
        if (gateway.providers().isEmpty()) return;
        chatModels().forEach((field, name) -> checkModel(field, name, gateway));
    }

    static void checkModel(String field, String name, GatewayConfig gateway) {
        if (name.equals(ModelConfig.AUTO)) {
            if (gateway.models().values().stream().noneMatch(m -> m.tier() != null && m.kind() == ModelConfig.Kind.CHAT)) {
                throw new ConfigException(field, "'auto' needs router tiers: set tier: small, medium or large on catalog chat models");
            }
            return;
        }
        ModelConfig m = gateway.models().get(name);
        if (m == null) throw new ConfigException(field, "unknown model '" + name + "'; catalog: " + new java.util.TreeSet<>(gateway.models().keySet()));
        if (m.kind() != ModelConfig.Kind.CHAT) throw new ConfigException(field, "'" + name + "' is an embedding model; a chat model is needed");
    }
}
