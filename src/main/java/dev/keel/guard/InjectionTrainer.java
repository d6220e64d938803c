package dev.keel.guard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.embed.Embedder;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Trains the injection detector's {@link InjectionModel} offline from labelled JSONL files
 * ({@code {"text": …, "label": 0|1}}, every {@code *.jsonl} under a directory; each file is one
 * source) and measures it honestly: leave-one-source-out, each source scored by a model trained
 * without it. Deterministic for a seed (same data, same seed, same embedder → same bytes). Not
 * thread-safe; meant for {@code keel guard train}.
 */
public final class InjectionTrainer {
    /** Rows taken per source at most (seeded sample), so one large file does not decide the model. */
    static final int MAX_ROWS_PER_SOURCE = 600;
    /** Folds for the out-of-fold predictions the stackers learn from. */
    private static final int FOLDS = 5;
    private static final int EMBED_BATCH = 32;
    private static final LogisticRegression.Settings NGRAM = new LogisticRegression.Settings(8, 0.5, 1e-4);
    /** 32 rectified units: enough to bend the boundary around attack families, few enough for ~4,000 rows. */
    private static final HiddenLayerNetwork.Settings EMBEDDING = new HiddenLayerNetwork.Settings(32, 20, 0.02, 1e-4);
    private static final LogisticRegression.Settings STACKER = new LogisticRegression.Settings(30, 0.05, 1e-4);
    /** Benign training rows (out of fold) allowed at or above 0.5, the default strict threshold. */
    private static final double BENIGN_AT_HALF = 0.01;
    /** Logit units between the 1% benign quantile and 0.5, so the quantile's own row scores below. */
    private static final double CALIBRATION_MARGIN = 1e-3;
    /**
     * Cheap scores below this are not worth an embedding. It is the latency budget's choice: on the
     * red-team suite, against the attacks' 2% quantile (0.02), it embedded 60% fewer texts (15% of the
     * benign ones) for 2.7 points of detection at the strict threshold.
     */
    private static final double BAND_FLOOR = 0.15;
    /** Benign texts above the band's ceiling are blocked without a second look: 0.5% at most. */
    private static final double BLOCKED_BENIGN_ABOVE_BAND = 0.005;

    /** Shares of a set's attacks (detection) and benign rows (false positives) at or above the threshold. */
    public record Rates(double detection, double falsePositives) {}

    /**
     * One held-out source scored by a model trained without it: its attacks and benign rows, and the
     * rates of the cheap layers alone, of every layer, and of the cascade Keel runs; {@code escalated}
     * is the share of rows the cascade embedded.
     */
    public record SourceResult(String source, int attacks, int benign, Rates cheap, Rates full, Rates cascade, double escalated) {}

    /** A trained model and its leave-one-source-out figures at {@code threshold}. */
    public record Report(byte[] model, double threshold, List<SourceResult> heldOut) {}

    private record Row(String source, int label, int chars, double pattern, TextFeatures.Sparse features, float[] vector, double nearest) {}

    private InjectionTrainer() {}

    /**
     * Trains on every {@code *.jsonl} under the directories except files named in {@code skip}; {@code evaluate} adds the
     * leave-one-source-out figures at {@code threshold}. Vectors are read from and added to
     * {@code vectorCache} (a file; null for none), so a retrain after a change to patterns or settings
     * costs seconds instead of minutes.
     */
    public static Report train(List<Path> dataDirs, Set<String> skip, long seed, Embedder embedder, Path vectorCache, double threshold,
                               boolean evaluate, PrintStream log) {
        List<Row> rows = load(dataDirs, skip, seed, new VectorCache(embedder, vectorCache), log);
        List<SourceResult> heldOut = new ArrayList<>();
        if (evaluate) {
            for (String source : rows.stream().map(Row::source).distinct().sorted().toList()) {
                List<Row> train = rows.stream().filter(r -> !r.source.equals(source)).toList();
                List<Row> test = rows.stream().filter(r -> r.source.equals(source)).toList();
                if (train.stream().mapToInt(Row::label).distinct().count() < 2) {
                    log.printf("held out %s: not scored, the other sources lack attacks or benign rows%n", source);
                    continue;
                }
                InjectionModel m = fit(train, seed, embedder.modelId());
                heldOut.add(score(source, test, m, threshold));
                log.printf("held out %-55s %s%n", source, describe(heldOut.getLast()));
            }
        }
        InjectionModel model = fit(rows, seed, embedder.modelId());
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try {
            model.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Report(bytes.toByteArray(), threshold, heldOut);
    }

    /** One line per held-out source: detection rate (attack sources) or false-positive rate (benign ones). */
    public static String describe(SourceResult r) {
        StringBuilder out = new StringBuilder();
        if (r.attacks() > 0) out.append(String.format(Locale.ROOT, "%4d attacks detected: cheap %5.1f%% full %5.1f%% cascade %5.1f%%  ",
                r.attacks(), 100 * r.cheap().detection(), 100 * r.full().detection(), 100 * r.cascade().detection()));
        if (r.benign() > 0) out.append(String.format(Locale.ROOT, "%4d benign flagged: cheap %5.1f%% full %5.1f%% cascade %5.1f%%  ",
                r.benign(), 100 * r.cheap().falsePositives(), 100 * r.full().falsePositives(), 100 * r.cascade().falsePositives()));
        return out.append(String.format(Locale.ROOT, "(embedded %.0f%%)", 100 * r.escalated())).toString();
    }

    public static void write(Report report, OutputStream out) throws IOException {
        out.write(report.model());
    }

    private static List<Row> load(List<Path> dataDirs, Set<String> skip, long seed, VectorCache embedder, PrintStream log) {
        ObjectMapper json = new ObjectMapper();
        InjectionPatterns patterns = InjectionPatterns.shipped();
        AttackExemplars exemplars = new AttackExemplars(AttackExemplars.shipped(), embedder.embedder);
        Map<Path, String> files = new LinkedHashMap<>(); // file → source name
        for (Path dir : dataDirs) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.filter(p -> p.toString().endsWith(".jsonl") && !skip.contains(p.getFileName().toString())).sorted()
                        .forEach(p -> files.put(p, dir.getFileName() + "/" + dir.relativize(p)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
            }
        }
        if (files.isEmpty()) throw new IllegalArgumentException("no *.jsonl files under " + dataDirs);
        Set<String> seen = new HashSet<>();
        List<String> texts = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Map.Entry<Path, String> file : files.entrySet()) {
            Path f = file.getKey();
            List<String> lines;
            try {
                lines = new ArrayList<>(Files.readAllLines(f));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
            }
            java.util.Collections.shuffle(lines, new Random(seed));
            String source = file.getValue();
            int taken = 0;
            for (String line : lines) {
                if (taken >= MAX_ROWS_PER_SOURCE || line.isBlank()) continue;
                JsonNode n;
                try {
                    n = json.readTree(line);
                } catch (IOException e) {
                    throw new IllegalArgumentException(source + ": a line is not JSON: " + e.getMessage());
                }
                if (!n.path("text").isTextual() || !n.path("label").canConvertToInt()) continue;
                String text = InputNormalizer.normalize(n.get("text").asText());
                if (text.isBlank() || !seen.add(text.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip())) continue;
                texts.add(text);
                sources.add(source);
                labels.add(n.get("label").asInt() == 1 ? 1 : 0);
                taken++;
            }
        }
        log.printf("%d rows from %d sources; embedding…%n", texts.size(), files.size());
        List<Row> rows = new ArrayList<>(texts.size());
        for (int start = 0; start < texts.size(); start += EMBED_BATCH) {
            List<String> batch = texts.subList(start, Math.min(texts.size(), start + EMBED_BATCH));
            List<float[]> vectors = embedder.embedDocuments(batch.stream().map(InjectionModel::embeddingInput).toList());
            for (int i = 0; i < batch.size(); i++) {
                String t = batch.get(i);
                double pattern = InjectionPatterns.combine(LayeredInjectionDetector.patternCategories(patterns, t, InputNormalizer.fold(t)));
                rows.add(new Row(sources.get(start + i), labels.get(start + i), t.length(), pattern, TextFeatures.of(t),
                        vectors.get(i), exemplars.nearest(vectors.get(i)).similarity()));
            }
            if ((start / EMBED_BATCH) % 20 == 0) log.printf("  %d/%d%n", start + batch.size(), texts.size());
        }
        embedder.save();
        return rows;
    }

    /** Fits both classifiers on all rows, the stackers on their out-of-fold predictions, and the cascade band. */
    static InjectionModel fit(List<Row> rows, long seed, String embedModelId) {
        int n = rows.size();
        int[] fold = new int[n];
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) order.add(i);
        java.util.Collections.shuffle(order, new Random(seed));
        for (int i = 0; i < n; i++) fold[order.get(i)] = i % FOLDS;
        double[] ngram = new double[n], embed = new double[n];
        for (int f = 0; f < FOLDS; f++) {
            List<Row> train = new ArrayList<>();
            for (int i = 0; i < n; i++) if (fold[i] != f) train.add(rows.get(i));
            LogisticRegression.Fit ng = fitNgram(train, seed);
            HiddenLayerNetwork em = fitEmbedding(train, seed);
            for (int i = 0; i < n; i++) {
                if (fold[i] != f) continue;
                ngram[i] = ng.probability(rows.get(i).features);
                embed[i] = em.probability(rows.get(i).vector);
            }
        }
        List<TextFeatures.Sparse> cheapX = new ArrayList<>(), fullX = new ArrayList<>();
        List<Integer> ys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Row r = rows.get(i);
            cheapX.add(LogisticRegression.dense(InjectionModel.cheapFeatures(r.pattern, ngram[i])));
            fullX.add(LogisticRegression.dense(InjectionModel.fullFeatures(r.pattern, ngram[i], embed[i], r.nearest)));
            ys.add(r.label);
        }
        LogisticRegression.Fit cheap = calibrated(LogisticRegression.fit(cheapX, ys, InjectionModel.CHEAP_FEATURES, STACKER, seed), cheapX, ys);
        LogisticRegression.Fit full = calibrated(LogisticRegression.fit(fullX, ys, InjectionModel.FULL_FEATURES, STACKER, seed), fullX, ys);
        double[] benignScores = new double[n];
        int b = 0;
        for (int i = 0; i < n; i++) if (ys.get(i) == 0) benignScores[b++] = cheap.probability(cheapX.get(i));
        float low = (float) BAND_FLOOR;
        float high = (float) Math.max(0.5, quantile(Arrays.copyOf(benignScores, b), 1 - BLOCKED_BENIGN_ABOVE_BAND));
        LogisticRegression.Fit ng = fitNgram(rows, seed);
        return new InjectionModel(embedModelId, ng.weights(), ng.bias(), fitEmbedding(rows, seed), withBias(cheap), withBias(full), low, high);
    }

    private static SourceResult score(String source, List<Row> test, InjectionModel m, double threshold) {
        int[][] hits = new int[3][2]; // [cheap, full, cascade][benign, attack]
        int[] count = new int[2];
        int escalated = 0;
        for (Row r : test) {
            count[r.label]++;
            double ng = m.ngramProbability(r.features), em = m.embedProbability(r.vector);
            double rawCheap = m.cheapScore(r.pattern, ng);
            boolean uncertain = m.worthEmbedding(rawCheap, false, LayeredInjectionDetector.patternFloor(r.pattern), threshold);
            double cheap = Math.max(LayeredInjectionDetector.patternFloor(r.pattern), LayeredInjectionDetector.withoutPatternEvidence(rawCheap, r.pattern, r.chars));
            double full = Math.max(LayeredInjectionDetector.patternFloor(r.pattern), LayeredInjectionDetector.withoutPatternEvidence(m.fullScore(r.pattern, ng, em, r.nearest), r.pattern, r.chars));
            if (uncertain) escalated++;
            double[] scores = {cheap, full, uncertain ? full : cheap};
            for (int k = 0; k < 3; k++) if (scores[k] >= threshold) hits[k][r.label]++;
        }
        Rates[] rates = new Rates[3];
        for (int k = 0; k < 3; k++) rates[k] = new Rates(share(hits[k][1], count[1]), share(hits[k][0], count[0]));
        return new SourceResult(source, count[1], count[0], rates[0], rates[1], rates[2], share(escalated, test.size()));
    }

    private static double share(int part, int whole) {
        return whole == 0 ? 0 : part / (double) whole;
    }

    private static LogisticRegression.Fit fitNgram(List<Row> rows, long seed) {
        return LogisticRegression.fit(rows.stream().map(Row::features).toList(), rows.stream().map(Row::label).toList(), TextFeatures.DIMENSIONS, NGRAM, seed);
    }

    private static HiddenLayerNetwork fitEmbedding(List<Row> rows, long seed) {
        return HiddenLayerNetwork.fit(rows.stream().map(Row::vector).toList(), rows.stream().map(Row::label).toList(), EMBEDDING, seed);
    }

    /**
     * The stacker with its bias shifted so that a score of 0.5 sits where {@link #BENIGN_AT_HALF} of the
     * benign rows' out-of-fold scores lie at or above it: the strict threshold's false-positive rate on
     * the training sources, instead of the class-balanced error rate the fit alone would give.
     */
    private static LogisticRegression.Fit calibrated(LogisticRegression.Fit fit, List<TextFeatures.Sparse> xs, List<Integer> ys) {
        double[] benign = new double[xs.size()];
        int b = 0;
        for (int i = 0; i < xs.size(); i++) if (ys.get(i) == 0) benign[b++] = InjectionModel.logit(fit.probability(xs.get(i)));
        if (b == 0) return fit;
        double cut = quantile(Arrays.copyOf(benign, b), 1 - BENIGN_AT_HALF);
        return new LogisticRegression.Fit(fit.weights(), (float) (fit.bias() - cut - CALIBRATION_MARGIN));
    }

    private static float[] withBias(LogisticRegression.Fit fit) {
        float[] w = Arrays.copyOf(fit.weights(), fit.weights().length + 1);
        w[fit.weights().length] = fit.bias();
        return w;
    }

    private static double quantile(double[] values, double q) {
        if (values.length == 0) return 0.5;
        double[] s = values.clone();
        Arrays.sort(s);
        return s[(int) Math.min(s.length - 1, Math.max(0, Math.floor(q * s.length)))];
    }

    /** Vectors by text hash, read from and written back to a file, in front of the embedder. */
    private static final class VectorCache {
        final Embedder embedder;
        private final Path file;
        private final Map<String, float[]> known = new LinkedHashMap<>();

        VectorCache(Embedder embedder, Path file) {
            this.embedder = embedder;
            this.file = file;
            if (file == null || !Files.exists(file)) return;
            try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
                if (!in.readUTF().equals(embedder.modelId())) return;
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    String key = in.readUTF();
                    float[] v = new float[in.readInt()];
                    for (int d = 0; d < v.length; d++) v[d] = in.readFloat();
                    known.put(key, v);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read vector cache " + file + ": " + e.getMessage(), e);
            }
        }

        List<float[]> embedDocuments(List<String> texts) {
            List<String> missing = texts.stream().filter(t -> !known.containsKey(key(t))).distinct().toList();
            if (!missing.isEmpty()) {
                List<float[]> fresh = embedder.embedDocuments(missing);
                for (int i = 0; i < missing.size(); i++) known.put(key(missing.get(i)), fresh.get(i));
            }
            return texts.stream().map(t -> known.get(key(t))).toList();
        }

        void save() {
            if (file == null) return;
            try (java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(file)))) {
                out.writeUTF(embedder.modelId());
                out.writeInt(known.size());
                for (Map.Entry<String, float[]> e : known.entrySet()) {
                    out.writeUTF(e.getKey());
                    out.writeInt(e.getValue().length);
                    for (float x : e.getValue()) out.writeFloat(x);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write vector cache " + file + ": " + e.getMessage(), e);
            }
        }

        private static String key(String text) {
            return dev.keel.store.ContentHash.sha256(text);
        }
    }
}
