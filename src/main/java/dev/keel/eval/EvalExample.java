package dev.keel.eval;

import java.util.List;
import java.util.Map;

/**
 * One question of an evaluation dataset. {@code relevant} names what retrieval should find: document ids, source
 * file names ({@code refunds.md}) or sections ({@code refunds.md#Annual plans}), matched by {@link RelevantIds};
 * {@code grades} gives some of those entries a graded relevance above 1 (BEIR's qrels; absent entries grade 1);
 * {@code facts} are phrases a correct answer must contain; {@code referenceAnswer} may be null; {@code split} is
 * the example's half of the dataset, chosen by a stable hash of its id ({@link EvalDataset#splitOf}).
 */
public record EvalExample(String id, String question, String referenceAnswer, List<String> relevant, boolean answerable,
                          List<String> slices, List<String> facts, Split split, String fingerprint, Map<String, Integer> grades) {
    /** The two halves of a dataset: develop and tune on {@code DEV}, report on {@code TEST}. */
    public enum Split { DEV, TEST }

    public EvalExample {
        relevant = List.copyOf(relevant);
        slices = List.copyOf(slices);
        facts = List.copyOf(facts);
        grades = Map.copyOf(grades);
    }

    /** An example with binary relevance: every {@code relevant} entry grades 1. */
    public EvalExample(String id, String question, String referenceAnswer, List<String> relevant, boolean answerable,
                       List<String> slices, List<String> facts, Split split, String fingerprint) {
        this(id, question, referenceAnswer, relevant, answerable, slices, facts, split, fingerprint, Map.of());
    }

    /** The relevance grade of a {@code relevant} entry: its grade, else 1. */
    public int grade(String entry) {
        return grades.getOrDefault(entry, 1);
    }
}
