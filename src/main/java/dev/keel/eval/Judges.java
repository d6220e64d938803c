package dev.keel.eval;

import dev.keel.Keel;
import dev.keel.config.ConfigException;
import dev.keel.config.GatewayConfig;
import dev.keel.config.ModelConfig;
import dev.keel.config.ProviderConfig;
import dev.keel.store.ApiKey;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Builds the judge a run uses: the offline {@link HeuristicJudge} when no judge model is named, else an
 * {@link LlmJudge} on that catalog chat model. A model judging answers of its own family favours them, so
 * {@link #create} returns a warning, for the run to record, when judge and judged model are of one family and the
 * catalog holds a chat model of another (it names it). Families come from the catalog: the upstream model name of a
 * model's first target ({@code gpt-…}, {@code o3…} → openai, {@code claude…} → anthropic, llama, mistral, gemini,
 * qwen…), else the provider's type when it names one vendor (anthropic); the extractive answerer has none.
 */
public final class Judges {
    /** Upstream model name patterns and the family they belong to, tried in order. */
    private static final List<Family> FAMILIES = List.of(
            new Family("openai", Pattern.compile("(^|/)(gpt|chatgpt|o\\d|text-davinci|davinci)")),
            new Family("anthropic", Pattern.compile("claude")),
            new Family("llama", Pattern.compile("llama")),
            new Family("mistral", Pattern.compile("mistral|mixtral|codestral|ministral|pixtral")),
            new Family("gemini", Pattern.compile("gemini|gemma")),
            new Family("qwen", Pattern.compile("qwen|qwq")),
            new Family("deepseek", Pattern.compile("deepseek")),
            new Family("phi", Pattern.compile("(^|[/-])phi")),
            new Family("cohere", Pattern.compile("command")));

    private record Family(String name, Pattern upstream) {}

    /** The judge, and a warning about its family for the run to record (null: none). */
    public record Selection(Judge judge, String warning) {}

    private Judges() {}

    /**
     * The judge for {@code judgeModel} (null: the heuristic judge) over {@code keel}, judging answers written by
     * {@code judgedModel} ({@code extractive} or a catalog model); {@code key} (null: local use) pays for model calls.
     * A judge model no configured provider serves is a {@link ConfigException} of {@code field}.
     */
    public static Selection create(Keel keel, String judgeModel, String judgedModel, ApiKey key, String field) {
        if (judgeModel == null) return new Selection(new HeuristicJudge(keel.answers(), keel.embedder()), null);
        keel.gateway().checkConfigured(field, judgeModel);
        GatewayConfig catalog = keel.config().gateway();
        String family = family(catalog, judgeModel);
        LlmJudge judge = new LlmJudge(keel.gateway(), keel.traces(), judgeModel, family, key);
        return new Selection(judge, familyWarning(catalog, judgeModel, judgedModel).orElse(null));
    }

    /**
     * Why {@code judgeModel} should not judge {@code judgedModel}: both of one family while the catalog has a chat
     * model of another (named in the warning); empty when the families differ, either is unknown, or there is no
     * alternative.
     */
    public static Optional<String> familyWarning(GatewayConfig catalog, String judgeModel, String judgedModel) {
        String judge = family(catalog, judgeModel), judged = judgedModel == null ? null : family(catalog, judgedModel);
        if (judge == null || !judge.equals(judged)) return Optional.empty();
        return catalog.models().values().stream()
                .filter(m -> m.kind() == ModelConfig.Kind.CHAT)
                .filter(m -> { String f = family(catalog, m.name()); return f != null && !f.equals(judge); })
                .map(ModelConfig::name).sorted().findFirst()
                .map(other -> "judge model '" + judgeModel + "' is of the " + judge + " family, as is the judged model '" + judgedModel
                        + "', and judges favour their own family's answers; use --judge " + other + " (" + family(catalog, other) + ") instead");
    }

    /**
     * The family of catalog model {@code name} (a name the catalog lacks is read as an upstream name, as passthrough
     * serves it), or null: {@code extractive}, an extractive provider, or a name no family pattern matches.
     */
    public static String family(GatewayConfig catalog, String name) {
        if (name == null || name.equals(dev.keel.config.AnswerConfig.EXTRACTIVE)) return null;
        ModelConfig m = catalog.models().get(name);
        if (m == null) return familyOfUpstream(name);
        ModelConfig.Target first = m.targets().get(0);
        ProviderConfig provider = catalog.providers().get(first.provider());
        if (provider != null && provider.type() == ProviderConfig.Type.EXTRACTIVE) return null;
        String byName = familyOfUpstream(first.model());
        if (byName != null) return byName;
        return provider != null && provider.type() == ProviderConfig.Type.ANTHROPIC ? "anthropic" : null;
    }

    private static String familyOfUpstream(String upstream) {
        if (upstream == null) return null;
        String n = upstream.toLowerCase(Locale.ROOT);
        return FAMILIES.stream().filter(f -> f.upstream().matcher(n).find()).map(Family::name).findFirst().orElse(null);
    }
}
