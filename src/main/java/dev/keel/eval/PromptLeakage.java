package dev.keel.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds eval examples that leaked into a prompt template: a question or reference answer that appears in it
 * (both compared in {@link EvalDataset#normalise}d form), or a run of {@value #SHARED_WORDS} consecutive words it
 * shares with one (a paraphrased few-shot example keeps such runs). Pure functions; warnings name the example and
 * the template, never quote more than the shared words.
 */
final class PromptLeakage {
    /** Consecutive words a question or reference must share with the template to count as leaked: longer than any stock phrase. */
    static final int SHARED_WORDS = 8;
    /**
     * The fewest words a question or reference needs before its containment in the template counts: a two-word question
     * ("pricing plans?") occurs in ordinary instructions by chance.
     */
    private static final int MIN_CONTAINED_WORDS = 4;

    private PromptLeakage() {}

    /** One warning per example whose question or reference leaked into the template {@code name} with text {@code template}. */
    static List<String> check(String name, String template, List<EvalExample> examples) {
        String normalised = " " + EvalDataset.normalise(template) + " ";
        Set<String> grams = grams(normalised.trim().split(" "));
        List<String> warnings = new ArrayList<>();
        for (EvalExample e : examples) {
            String found = leaked(e.question(), normalised, grams, "question");
            if (found == null && e.referenceAnswer() != null) found = leaked(e.referenceAnswer(), normalised, grams, "reference answer");
            if (found != null) warnings.add("prompt template " + name + " contains eval example " + e.id() + "'s " + found
                    + ": its scores measure recall of the prompt, not the pipeline");
        }
        return warnings;
    }

    private static String leaked(String text, String template, Set<String> grams, String what) {
        String n = EvalDataset.normalise(text);
        String[] words = n.split(" ");
        if (words.length >= MIN_CONTAINED_WORDS && template.contains(" " + n + " ")) return what;
        for (int i = 0; i + SHARED_WORDS <= words.length; i++) {
            String gram = String.join(" ", java.util.Arrays.copyOfRange(words, i, i + SHARED_WORDS));
            if (grams.contains(gram)) return what + " (shares \"" + gram + "\")";
        }
        return null;
    }

    private static Set<String> grams(String[] words) {
        Set<String> grams = new HashSet<>();
        for (int i = 0; i + SHARED_WORDS <= words.length; i++) grams.add(String.join(" ", java.util.Arrays.copyOfRange(words, i, i + SHARED_WORDS)));
        return grams;
    }
}
