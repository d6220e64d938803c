package dev.keel.eval;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.model.Jackson;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One evaluation run as written to {@code run.json} and read back by {@code keel eval compare}: what was evaluated
 * (dataset and its fingerprint, split, settings, judge), the aggregate of every metric overall and per slice with a
 * bootstrap 95% confidence interval, and each example's result. A run over the test split of a locked dataset keeps
 * only the overall aggregates ({@code slices} and {@code examples} are empty). Immutable.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EvalRun(String format, String runId, Instant started, double seconds, DatasetInfo dataset, Settings settings, JudgeInfo judge,
                      List<String> warnings, Map<String, Summary> overall, Map<String, Map<String, Summary>> slices, List<ExampleResult> examples) {
    public static final String FORMAT = "keel-eval-run/1";
    private static final ObjectMapper JSON = Jackson.api().enable(SerializationFeature.INDENT_OUTPUT)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    public EvalRun {
        warnings = List.copyOf(warnings);
        overall = Map.copyOf(overall);
        slices = Map.copyOf(slices);
        examples = List.copyOf(examples);
    }

    /** The dataset: name, file, whether locked, which split ran ({@code dev}, {@code test} or {@code all}), size and fingerprint. */
    public record DatasetInfo(String name, String path, boolean locked, String split, int examples, String fingerprint) {}

    /**
     * What produced the answers: {@code full} or {@code retrieval}; the answer model ({@code extractive} offline), the
     * prompt template's hash, a hash of the effective configuration, top-k, the bootstrap seed, and (null in runs
     * that predate it) the effective configuration's values that shape answers, by dotted key such as
     * {@code answer.context_chunks} — search, answer, rerank, chunking, embedding model; never a provider's key, a URL
     * with credentials, or store and cache settings, and none of the settings this record already names.
     */
    public record Settings(String mode, String answerModel, String promptHash, String configHash, int topK, long seed, Map<String, String> config) {
        public Settings {
            config = config == null ? null : Map.copyOf(config);
        }

        /** Settings without the configuration's values. */
        public Settings(String mode, String answerModel, String promptHash, String configHash, int topK, long seed) {
            this(mode, answerModel, promptHash, configHash, topK, seed, null);
        }
    }

    /** The judge: its id, family, and calibration ({@code calibrated} null when never calibrated). */
    public record JudgeInfo(String id, String family, Boolean calibrated, Double agreement, Double kappa) {}

    /** A metric's aggregate: mean over the examples that have it, 95% bootstrap interval, count; p50/p95 for timings. */
    public record Summary(double mean, double ciLow, double ciHigh, int n, Double p50, Double p95) {}

    /**
     * One example's result: identity, split, slices and fingerprint; question, reference and answer (text, whether it
     * answered, why it declined, cited and retrieved ids); every metric's value (absent when it does not apply), and
     * judge reasons.
     */
    public record ExampleResult(String id, String split, List<String> slices, String fingerprint, String question, String referenceAnswer,
                                String answer, Boolean answered, String refused, List<String> cited, List<String> retrieved,
                                Map<String, Double> metrics, Map<String, String> reasons, String traceId) {}

    /** The run as its file holds it (indented JSON). */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("run is not serialisable", e);
        }
    }

    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, ".run-", ".json");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a run file; a file that is not one is an {@link IllegalArgumentException} naming it. */
    public static EvalRun read(Path file) {
        try {
            // A key given twice would let a hand-edited file show one value to a reader and gate on the other.
            EvalRun run = JSON.readerFor(EvalRun.class).with(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).readValue(file.toFile());
            if (!FORMAT.equals(run.format())) throw new IllegalArgumentException(file + " is not a Keel eval run (format " + run.format() + ")");
            return run;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read run " + file + ": " + e.getMessage(), e);
        }
    }
}
