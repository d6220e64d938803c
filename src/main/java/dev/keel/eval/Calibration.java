package dev.keel.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.keel.model.Jackson;
import dev.keel.store.ContentHash;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * How far a judge agrees with people. A labels file (JSONL, one line per judged answer: {@code id}, {@code question},
 * {@code answer}, {@code context} — strings or {@code {title, section, text}} passages —, {@code label}
 * {@code supported}/{@code unsupported} or a 1–5 score, optional {@code metric} and {@code split}) is scored by the
 * judge; each score and each label is put into one of two classes (supported at {@value #SUPPORTED_AT} or more on the
 * [0, 1] scale, i.e. 4 or 5 on a 1–5 rubric), and the agreement (share of equal classes), Cohen's kappa and the
 * confusion table are computed overall and per split. A judge with an agreement of at least
 * {@value #CALIBRATED_AGREEMENT} is calibrated. Records are kept in the data directory, one file per judge id and
 * metric, written atomically, so any later run or report can {@link #lookup} them; a record only ever answers for the
 * exact judge id (model and rubric hash) it was measured for. Static methods, thread-safe.
 */
public final class Calibration {
    /** Agreement at or above which a judge counts as calibrated (the bar). */
    public static final double CALIBRATED_AGREEMENT = 0.80;
    /** A score in [0, 1] at or above this is "supported": 4 and 5 on a 1–5 rubric, a sentence the heuristic accepts. */
    public static final double SUPPORTED_AT = 0.75;
    /**
     * The fewest labelled examples a calibration is recorded from: with fewer, one disagreement moves agreement by
     * more than 3 points and a 95% interval around 80% spans most of the scale.
     */
    public static final int MIN_EXAMPLES = 30;
    /** The fewest distinct examples of each class (supported, unsupported) a calibration is recorded from. */
    public static final int MIN_PER_CLASS = 10;
    /**
     * Cohen's kappa a calibrated judge must also reach ("moderate" agreement and above, Landis and Koch): with skewed
     * labels, a judge that always gives the majority class can pass the agreement bar with a kappa of 0.
     */
    public static final double MIN_KAPPA = 0.4;
    /** A labels file larger than this is refused before it is read (a labelled set is thousands of lines, not millions). */
    static final long MAX_FILE_BYTES = 64L * 1024 * 1024;
    /** Where records live under the data directory. */
    static final String DIRECTORY = "eval-calibration";
    private static final ObjectMapper JSON = Jackson.api().enable(SerializationFeature.INDENT_OUTPUT);
    /** Hex digits of the record file name's hash of judge id and metric: ids may hold any character, file names may not. */
    private static final int FILE_HASH_CHARS = 32;

    private Calibration() {}

    /** One labelled answer, from line {@code line} of its file. {@code supported} is the person's class. */
    public record Example(int line, String id, String question, String answer, List<Judge.Passage> context, boolean supported, String metric,
                          String split) {
        public Example {
            context = List.copyOf(context);
        }
    }

    /**
     * Agreement figures over {@code n} examples: the share with equal classes, Cohen's kappa, and the confusion table
     * (person's class first, judge's second).
     */
    public record Figures(int n, double agreement, double kappa, int supportedSupported, int supportedUnsupported, int unsupportedSupported,
                          int unsupportedUnsupported) {}

    /** An example person and judge disagree on, with the judge's score and reason. */
    public record Disagreement(String id, int line, boolean labelSupported, double score, String reason) {}

    /**
     * A calibration: which judge, metric and labels file, when; the figures overall and per split; examples the judge
     * gave no score for this metric (left out of the figures); the disagreements.
     */
    public record Result(String judgeId, String metric, String labels, Instant at, Figures overall, Map<String, Figures> splits, int unscored,
                         List<Disagreement> disagreements) {
        @com.fasterxml.jackson.annotation.JsonProperty("calibrated")
        public boolean calibrated() {
            return overall.n() > 0 && overall.agreement() >= CALIBRATED_AGREEMENT && overall.kappa() >= MIN_KAPPA;
        }
    }

    /**
     * A stored calibration, as {@link #lookup} returns it; {@code labelsHash} is the SHA-256 of the labels file's
     * content (null in records written before it was kept).
     */
    public record Record(String judgeId, String metric, String labels, Instant at, int n, double agreement, double kappa, boolean calibrated,
                         String labelsHash) {}

    /**
     * Refuses (an {@link IllegalArgumentException} naming {@code labels}) a labels set with fewer than
     * {@value #MIN_EXAMPLES} distinct examples of {@code metric} (the same question, answer and context under another
     * id counts once), or fewer than {@value #MIN_PER_CLASS} distinct ones of either class: agreement on one class
     * alone is agreement with a judge that always says the same.
     */
    public static void requireEnough(List<Example> examples, String metric, String labels) {
        Set<List<Object>> supported = new HashSet<>(), unsupported = new HashSet<>();
        for (Example e : examples) {
            if (!e.metric().equals(metric)) continue;
            (e.supported() ? supported : unsupported).add(List.of(e.question(), e.answer(), e.context()));
        }
        if (supported.size() + unsupported.size() < MIN_EXAMPLES || supported.size() < MIN_PER_CLASS || unsupported.size() < MIN_PER_CLASS) {
            throw new IllegalArgumentException(labels + ": " + (supported.size() + unsupported.size()) + " distinct labelled examples of metric '" + metric
                    + "' (" + supported.size() + " supported, " + unsupported.size() + " unsupported); a calibration needs at least " + MIN_EXAMPLES
                    + ", with " + MIN_PER_CLASS + " of each class; nothing was recorded");
        }
    }

    /**
     * Reads a labels file. A malformed line is an {@link IllegalArgumentException} naming the file and the line; blank
     * lines are skipped; ids must be unique.
     */
    public static List<Example> readLabels(Path file) {
        try {
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("labels file not found: " + file);
            if (Files.size(file) > MAX_FILE_BYTES) throw new IllegalArgumentException(file + " is over " + MAX_FILE_BYTES / (1024 * 1024) + " MB");
            List<Example> out = new ArrayList<>();
            Set<String> ids = new HashSet<>();
            try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                int n = 0;
                while ((line = in.readLine()) != null) {
                    n++;
                    if (line.isBlank()) continue;
                    Example e = parse(line, n, file);
                    if (!ids.add(e.id())) throw bad(file, n, "duplicate id '" + e.id() + "'");
                    out.add(e);
                }
            }
            if (out.isEmpty()) throw new IllegalArgumentException(file + " has no labelled examples");
            return out;
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException(file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static Example parse(String line, int n, Path file) {
        JsonNode o;
        try {
            o = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw bad(file, n, "not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (o == null || !o.isObject()) throw bad(file, n, "expected a JSON object");
        String id = text(o, "id", file, n), question = text(o, "question", file, n), answer = text(o, "answer", file, n);
        JsonNode ctx = o.path("context");
        if (!ctx.isArray()) throw bad(file, n, "'context' must be an array of passages (strings or {title, section, text})");
        List<Judge.Passage> context = new ArrayList<>();
        for (JsonNode p : ctx) {
            if (p.isTextual()) context.add(new Judge.Passage("", "", p.asText()));
            else if (p.isObject() && p.path("text").isTextual()) context.add(new Judge.Passage(p.path("title").asText(""), p.path("section").asText(""), p.get("text").asText()));
            else throw bad(file, n, "'context' entries must be strings or objects with a 'text' string");
        }
        JsonNode label = o.path("label");
        boolean supported;
        if (label.isTextual() && label.asText().equals("supported")) supported = true;
        else if (label.isTextual() && label.asText().equals("unsupported")) supported = false;
        else if (label.isIntegralNumber() && label.asInt() >= 1 && label.asInt() <= 5) supported = LlmJudge.unit(label.asInt()) >= SUPPORTED_AT;
        else throw bad(file, n, "'label' must be \"supported\", \"unsupported\" or an integer score from 1 to 5");
        String metric = o.hasNonNull("metric") ? o.get("metric").asText() : Judge.FAITHFULNESS;
        String split = o.hasNonNull("split") ? o.get("split").asText() : null;
        return new Example(n, id, question, answer, context, supported, metric, split);
    }

    private static String text(JsonNode o, String field, Path file, int n) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) throw bad(file, n, "'" + field + "' must be a non-empty string");
        return v.asText();
    }

    private static IllegalArgumentException bad(Path file, int line, String problem) {
        return new IllegalArgumentException(file + ":" + line + ": " + problem);
    }

    /** Scores the examples of {@code metric} with {@code judge} as {@code tenant}'s answers and measures the agreement. */
    public static Result run(Judge judge, String tenant, List<Example> examples, String metric, String labelsName, Instant at) {
        List<boolean[]> pairs = new ArrayList<>();
        Map<String, List<boolean[]>> bySplit = new TreeMap<>();
        List<Disagreement> disagreements = new ArrayList<>();
        int unscored = 0;
        for (Example e : examples) {
            if (!e.metric().equals(metric)) continue;
            Judge.Verdict v = judge.judge(new Judge.Input(tenant, e.question(), e.answer(), e.context(), null, false));
            Double score = v.scores().get(metric);
            if (score == null) {
                unscored++;
                continue;
            }
            boolean[] pair = {e.supported(), score >= SUPPORTED_AT};
            pairs.add(pair);
            if (e.split() != null) bySplit.computeIfAbsent(e.split(), s -> new ArrayList<>()).add(pair);
            if (pair[0] != pair[1]) disagreements.add(new Disagreement(e.id(), e.line(), e.supported(), score, v.reasons().getOrDefault(metric, "")));
        }
        Map<String, Figures> splits = new LinkedHashMap<>();
        bySplit.forEach((s, p) -> splits.put(s, figures(p)));
        return new Result(judge.id(), metric, labelsName, at, figures(pairs), splits, unscored, disagreements);
    }

    /** Agreement, Cohen's kappa and the confusion table of (person, judge) class pairs; kappa is 1 for perfect agreement. */
    public static Figures figures(List<boolean[]> pairs) {
        int ss = 0, su = 0, us = 0, uu = 0;
        for (boolean[] p : pairs) {
            if (p[0] && p[1]) ss++;
            else if (p[0]) su++;
            else if (p[1]) us++;
            else uu++;
        }
        int n = pairs.size();
        if (n == 0) return new Figures(0, 0, 0, 0, 0, 0, 0);
        double observed = (ss + uu) / (double) n;
        double personSupported = (ss + su) / (double) n, judgeSupported = (ss + us) / (double) n;
        double chance = personSupported * judgeSupported + (1 - personSupported) * (1 - judgeSupported);
        double kappa = chance >= 1 ? (observed >= 1 ? 1 : 0) : (observed - chance) / (1 - chance);
        return new Figures(n, observed, kappa, ss, su, us, uu);
    }

    /**
     * Stores {@code result} (of a labels file whose content hashes to {@code labelsHash}) under {@code dataDir} and
     * returns the file. It replaces an earlier calibration of the same judge and metric, unless that one was measured
     * on more examples and {@code replace} is false: then it is an {@link IllegalArgumentException} saying so.
     */
    public static Path store(Path dataDir, Result result, String labelsHash, boolean replace) {
        Record r = new Record(result.judgeId(), result.metric(), result.labels(), result.at(), result.overall().n(), result.overall().agreement(),
                result.overall().kappa(), result.calibrated(), labelsHash);
        Path file = file(dataDir, result.judgeId(), result.metric());
        Optional<Record> stored = lookup(dataDir, result.judgeId(), result.metric());
        if (!replace && stored.isPresent() && stored.get().n() > r.n()) {
            throw new IllegalArgumentException("the calibration on record for " + result.judgeId() + " (" + result.metric() + ") was measured on "
                    + stored.get().n() + " examples (" + stored.get().labels() + "), more than these " + r.n() + "; it was kept: pass --replace to replace it");
        }
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), ".calibration-", ".json");
            JSON.writeValue(tmp.toFile(), r);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store the calibration in " + file.getParent(), e);
        }
    }

    /** The stored calibration of judge {@code judgeId} on {@code metric}, if it was calibrated in {@code dataDir}. */
    public static Optional<Record> lookup(Path dataDir, String judgeId, String metric) {
        Path file = file(dataDir, judgeId, metric);
        if (!Files.isRegularFile(file)) return Optional.empty();
        try {
            Record r = JSON.readValue(file.toFile(), Record.class);
            return r.judgeId().equals(judgeId) && r.metric().equals(metric) ? Optional.of(r) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the calibration " + file, e);
        }
    }

    /** The run file's judge entry for {@code judge}: its id, family and faithfulness calibration (nulls when never calibrated). */
    public static EvalRun.JudgeInfo judgeInfo(Path dataDir, Judge judge) {
        Optional<Record> r = lookup(dataDir, judge.id(), Judge.FAITHFULNESS);
        return new EvalRun.JudgeInfo(judge.id(), judge.family(), r.map(Record::calibrated).orElse(null), r.map(Record::agreement).orElse(null),
                r.map(Record::kappa).orElse(null));
    }

    private static Path file(Path dataDir, String judgeId, String metric) {
        return dataDir.resolve(DIRECTORY).resolve(ContentHash.sha256(judgeId + "\n" + metric).substring(0, FILE_HASH_CHARS) + ".json");
    }
}
