package dev.keel.guard;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * The trained part of the injection detector, as shipped in {@code guard/injection-model.bin} and
 * written by {@link InjectionTrainer}: a logistic regression over {@link TextFeatures} (the n-gram
 * classifier), a {@link HiddenLayerNetwork} over the embedding of the text (the embedding classifier, valid only for
 * vectors of {@link #embedModelId}), and two small stackers that turn the layers' outputs into the one score:
 * the cheap stacker (patterns, n-grams) and the full stacker (patterns, n-grams, embedding classifier,
 * similarity to the nearest attack exemplar). Texts whose cheap score falls in
 * [{@link #uncertainLow}, {@link #uncertainHigh}) are worth the embedding unless the cheap layers are already
 * certain some other way ({@link #worthEmbedding}). Immutable.
 */
record InjectionModel(String embedModelId, float[] ngramWeights, float ngramBias, HiddenLayerNetwork embedNetwork,
                      float[] cheapStack, float[] fullStack, float uncertainLow, float uncertainHigh) {
    static final String RESOURCE = "/guard/injection-model.bin";
    private static final int MAGIC = 0x4B47494D; // "KGIM"
    /** 2: the embedding classifier became a hidden-layer network; a version-1 file holds a logistic regression. */
    private static final int VERSION = 2;
    /** Probabilities are clamped before taking logits so a certain layer cannot swamp the others. */
    private static final double CLAMP = 1e-4;

    /**
     * Characters of a text the embedding layers read (head and tail): the cascade's p99 is the embedding of
     * uncertain long texts, and its cost grows with the tokens (about 7.5 ms at 64, 14 at 128 on a quiet machine,
     * {@code keel bench guard}). 256 characters (~60 tokens) against 384 (~85), both retrained ({@code keel guard
     * train}, leave-one-source-out): 1,201 vs 1,204 of 2,251 attacks and 61 vs 61 of 3,264 benign rows pooled
     * (jackhhao's long jailbreaks 85.9 vs 86.8%); red-team suite 265 vs 263 of 344 attacks, 9 vs 9 benign blocked.
     * 192 gave 1,202 / 59 pooled but 85.2% on jackhhao, whose jailbreaks need the head.
     */
    static final int EMBED_CHARS = 256;
    /** Of {@link #EMBED_CHARS}, the share taken from the end of the text, where appended attacks sit. */
    private static final int EMBED_TAIL_CHARS = EMBED_CHARS / 4;

    static final int CHEAP_FEATURES = 2;
    static final int FULL_FEATURES = 4;

    /** The shipped model. */
    static InjectionModel shipped() {
        try (InputStream in = InjectionModel.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + RESOURCE);
            return read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    double ngramProbability(TextFeatures.Sparse x) {
        double z = ngramBias;
        for (int k = 0; k < x.index().length; k++) z += ngramWeights[x.index()[k]] * x.value()[k];
        return sigmoid(z);
    }

    /** The part of a text that is embedded, in training and at run time alike. */
    static String embeddingInput(String text) {
        if (text.length() <= EMBED_CHARS) return text;
        return text.substring(0, EMBED_CHARS - EMBED_TAIL_CHARS) + "\n" + text.substring(text.length() - EMBED_TAIL_CHARS);
    }

    /**
     * Whether a text is worth the embedding: its cheap score is uncertain, in [{@link #uncertainLow}, {@link #uncertainHigh}),
     * or below that band when the text {@code hides} its words; and the embedding could still change a decision:
     * {@code guaranteed}, the least score the cheap layers give the text whatever the embedding says (a strong
     * pattern, a decoded layer, hidden words), is below both the band's ceiling and {@code decisive}, the score from
     * which every threshold in use blocks. A text the cheap layers already block everywhere costs no embedding: its
     * verdicts are the same, while its score (never below {@code decisive}) and categories are the cheap layers', which
     * the embedding might have raised or added to.
     */
    boolean worthEmbedding(double cheapScore, boolean hides, double guaranteed, double decisive) {
        return cheapScore < uncertainHigh && (cheapScore >= uncertainLow || hides) && guaranteed < Math.max(uncertainHigh, decisive);
    }

    double embedProbability(float[] vector) {
        return embedNetwork.probability(vector);
    }

    /** The score from the cheap layers alone. */
    double cheapScore(double pattern, double ngram) {
        return stack(cheapStack, cheapFeatures(pattern, ngram));
    }

    /** The score from every layer. */
    double fullScore(double pattern, double ngram, double embed, double nearest) {
        return stack(fullStack, fullFeatures(pattern, ngram, embed, nearest));
    }

    static float[] cheapFeatures(double pattern, double ngram) {
        return new float[] {(float) pattern, (float) logit(ngram)};
    }

    static float[] fullFeatures(double pattern, double ngram, double embed, double nearest) {
        return new float[] {(float) pattern, (float) logit(ngram), (float) logit(embed), (float) nearest};
    }

    private static double stack(float[] w, float[] x) {
        double z = w[x.length];
        for (int i = 0; i < x.length; i++) z += w[i] * x[i];
        return sigmoid(z);
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    static double logit(double p) {
        double q = Math.max(CLAMP, Math.min(1 - CLAMP, p));
        return Math.log(q / (1 - q));
    }

    void write(OutputStream out) throws IOException {
        DataOutputStream d = new DataOutputStream(new BufferedOutputStream(out));
        d.writeInt(MAGIC);
        d.writeInt(VERSION);
        d.writeUTF(embedModelId);
        writeFloats(d, ngramWeights);
        d.writeFloat(ngramBias);
        d.writeInt(embedNetwork.inputs());
        writeFloats(d, embedNetwork.hidden());
        writeFloats(d, embedNetwork.hiddenBias());
        writeFloats(d, embedNetwork.output());
        writeFloats(d, cheapStack);
        writeFloats(d, fullStack);
        d.writeFloat(uncertainLow);
        d.writeFloat(uncertainHigh);
        d.flush();
    }

    static InjectionModel read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(new BufferedInputStream(in));
        if (d.readInt() != MAGIC) throw new IOException("not a Keel injection model");
        int version = d.readInt();
        if (version != VERSION) {
            throw new IOException("injection model version " + version + ", expected " + VERSION + ": retrain it with the Keel that reads it (keel guard train)");
        }
        String embedModelId = d.readUTF();
        float[] ngram = readFloats(d);
        if (ngram.length != TextFeatures.DIMENSIONS) throw new IOException("n-gram weights have " + ngram.length + " dimensions, expected " + TextFeatures.DIMENSIONS);
        float ngramBias = d.readFloat();
        int inputs = d.readInt();
        float[] hidden = readFloats(d), hiddenBias = readFloats(d), output = readFloats(d);
        if (inputs <= 0 || hidden.length != inputs * hiddenBias.length || output.length != hiddenBias.length + 1) throw new IOException("malformed embedding network");
        HiddenLayerNetwork embed = new HiddenLayerNetwork(inputs, hidden, hiddenBias, output);
        float[] cheap = readFloats(d), full = readFloats(d);
        if (cheap.length != CHEAP_FEATURES + 1 || full.length != FULL_FEATURES + 1) throw new IOException("malformed stacker weights");
        return new InjectionModel(embedModelId, ngram, ngramBias, embed, cheap, full, d.readFloat(), d.readFloat());
    }

    private static void writeFloats(DataOutputStream d, float[] v) throws IOException {
        d.writeInt(v.length);
        for (float x : v) d.writeFloat(x);
    }

    private static float[] readFloats(DataInputStream d) throws IOException {
        int n = d.readInt();
        if (n < 0 || n > TextFeatures.DIMENSIONS) throw new IOException("malformed weight vector of length " + n);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = d.readFloat();
        return v;
    }
}
