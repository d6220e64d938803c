package dev.keel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.gateway.ChatGateway;
import dev.keel.store.ApiKey;
import dev.keel.trace.Traces;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LLM-as-judge through any chat model of the gateway: one call per answer with the rubric of
 * {@code prompts/eval-judge.v1.txt} inline, temperature 0, the verdict validated against
 * {@code prompts/eval-judge.schema.json} (see {@link JudgeModel} for delimiting, billing, tracing and the one retry).
 * Returns faithfulness, answer relevance, citation accuracy (an answer that cites nothing scores 1 of 5) and correctness (when there is a
 * reference answer): rubric scores 1–5 mapped to [0, 1] as (s − 1) / 4, each with the model's one-sentence reason.
 * A declined answer gets no scores and costs no call. Its id names the model and the rubric's hash, so a changed
 * rubric is a different judge for calibration. Thread-safe.
 */
public final class LlmJudge implements Judge {
    /** A verdict of four scores with one-sentence reasons is under 300 tokens; twice that leaves room for verbose models. */
    private static final int VERDICT_TOKENS = 600;
    private static final String TEMPLATE = "eval-judge.v1", SCHEMA = "eval-judge.schema";
    private static final List<String> SLOTS = List.of("boundary", "question", "context", "reference", "answer");
    /** What the reference slot says when there is none. */
    static final String NO_REFERENCE = "(none)";
    /** The rubric's scale. */
    private static final int LOWEST = 1, HIGHEST = 5;

    private final JudgeModel model;
    private final String family;

    /**
     * A judge calling catalog model {@code model} of {@code gateway}, whose family is {@code family} (null: unknown);
     * {@code key} (null: local use) is the key whose allowance and budget the calls use.
     */
    public LlmJudge(ChatGateway gateway, Traces traces, String model, String family, ApiKey key) {
        this.model = new JudgeModel(gateway, traces, model, key, TEMPLATE, SLOTS, SCHEMA, VERDICT_TOKENS);
        this.family = family;
    }

    @Override
    public String id() {
        return "llm/" + model.model() + "/" + model.rubricHash();
    }

    /** The catalog model that judges. */
    String model() {
        return model.model();
    }

    @Override
    public String family() {
        return family;
    }

    @Override
    public Verdict judge(Input input) {
        if (input.declined() || input.answer().isBlank()) return new Verdict(Map.of(), Map.of());
        Map<String, String> data = Map.of("question", input.question(), "context", render(input.context()),
                "reference", input.reference() == null || input.reference().isBlank() ? NO_REFERENCE : input.reference(), "answer", input.answer());
        boolean hasReference = input.reference() != null && !input.reference().isBlank();
        JsonNode v = model.verdict(input.tenant(), data, verdict -> hasReference && verdict.path(CORRECTNESS).isNull()
                ? List.of("$." + CORRECTNESS + ": must be scored, a reference answer was given") : List.of());
        Map<String, Double> scores = new LinkedHashMap<>();
        Map<String, String> reasons = new LinkedHashMap<>();
        for (String metric : List.of(FAITHFULNESS, ANSWER_RELEVANCE, CITATION_ACCURACY, CORRECTNESS)) {
            JsonNode m = v.path(metric);
            if (!m.isObject() || (metric.equals(CORRECTNESS) && !hasReference)) continue;
            scores.put(metric, unit(m.path("score").asInt()));
            reasons.put(metric, m.path("reason").asText());
        }
        return new Verdict(scores, reasons);
    }

    /** A rubric score 1–5 as a score in [0, 1]. */
    static double unit(int score) {
        return (score - LOWEST) / (double) (HIGHEST - LOWEST);
    }

    /** The passages as numbered blocks, {@code [n] title › section} then the text, as the answerer numbers them. */
    static String render(List<Passage> context) {
        List<String> blocks = new ArrayList<>();
        for (int i = 0; i < context.size(); i++) {
            Passage p = context.get(i);
            String heading = String.join(" › ", java.util.stream.Stream.of(p.title(), p.section()).filter(s -> s != null && !s.isBlank()).toList());
            blocks.add("[" + (i + 1) + "]" + (heading.isEmpty() ? "" : " " + heading) + "\n" + p.text());
        }
        return blocks.isEmpty() ? "(no context)" : String.join("\n\n", blocks);
    }
}
