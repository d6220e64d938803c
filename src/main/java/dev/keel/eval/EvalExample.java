package dev.keel.eval;

import java.util.List;

/**
 * One question of an evaluation dataset. {@code relevant} names what retrieval should find: document ids, source
 * file names ({@code refunds.md}) or sections ({@code refunds.md#Annual plans}), matched by {@link RelevantIds};
 * {@code facts} are phrases a correct answer must contain; {@code referenceAnswer} may be null; {@code split} is
 * the example's half of the dataset, chosen by a stable hash of its id ({@link EvalDataset#splitOf}).
 */
public record EvalExample(String id, String question, String referenceAnswer, List<String> relevant, boolean answerable,
                          List<String> slices, List<String> facts, Split split, String fingerprint) {
    /** The two halves of a dataset: develop and tune on {@code DEV}, report on {@code TEST}. */
    public enum Split { DEV, TEST }

    public EvalExample {
        relevant = List.copyOf(relevant);
        slices = List.copyOf(slices);
        facts = List.copyOf(facts);
    }
}
