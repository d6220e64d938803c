package dev.keel.guard;

import java.util.List;
import java.util.Random;

/**
 * A binary classifier over a dense vector with one hidden layer of rectified units and a sigmoid output:
 * the embedding classifier of {@link InjectionModel}. {@link #fit} trains it by stochastic gradient descent
 * with L2 regularisation and class-balanced weights; it is deterministic (initial weights and example order
 * drawn from the seed, single-threaded arithmetic). A fitted network is immutable and thread-safe.
 *
 * @param hidden weights into the hidden units, unit by unit ({@code units × inputs})
 * @param hiddenBias one bias per hidden unit
 * @param output one weight per hidden unit, then the output bias
 */
record HiddenLayerNetwork(int inputs, float[] hidden, float[] hiddenBias, float[] output) {
    /** Hyper-parameters: hidden units, passes over the data, initial step, L2 strength. */
    record Settings(int units, int epochs, double learningRate, double l2) {}

    /** The probability that {@code x} (of {@link #inputs} dimensions) is an attack. */
    double probability(float[] x) {
        int units = hiddenBias.length;
        double z = output[units];
        for (int u = 0; u < units; u++) {
            double a = activation(x, u);
            if (a > 0) z += output[u] * a;
        }
        return InjectionModel.sigmoid(z);
    }

    private double activation(float[] x, int unit) {
        double a = hiddenBias[unit];
        int base = unit * inputs;
        for (int i = 0; i < inputs; i++) a += hidden[base + i] * x[i];
        return a;
    }

    static HiddenLayerNetwork fit(List<float[]> xs, List<Integer> ys, Settings s, long seed) {
        int n = xs.size(), d = xs.getFirst().length, units = s.units();
        double[] classWeight = LogisticRegression.classWeights(ys);
        Random random = new Random(seed);
        double[] w1 = new double[units * d], b1 = new double[units], w2 = new double[units + 1];
        double scale1 = Math.sqrt(2.0 / d), scale2 = Math.sqrt(1.0 / units);
        for (int k = 0; k < w1.length; k++) w1[k] = random.nextGaussian() * scale1;
        for (int u = 0; u < units; u++) w2[u] = random.nextGaussian() * scale2;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        double[] a = new double[units];
        long step = 0;
        for (int epoch = 0; epoch < s.epochs(); epoch++) {
            LogisticRegression.shuffle(order, random);
            for (int i : order) {
                double lr = s.learningRate() / (1 + step++ * 1e-4);
                float[] x = xs.get(i);
                double z = w2[units];
                for (int u = 0; u < units; u++) {
                    double h = b1[u];
                    int base = u * d;
                    for (int k = 0; k < d; k++) h += w1[base + k] * x[k];
                    a[u] = Math.max(0, h);
                    z += w2[u] * a[u];
                }
                int y = ys.get(i);
                double g = (InjectionModel.sigmoid(z) - y) * classWeight[y];
                for (int u = 0; u < units; u++) {
                    double gu = a[u] > 0 ? g * w2[u] : 0;
                    w2[u] -= lr * (g * a[u] + s.l2() * w2[u]);
                    if (gu == 0) continue;
                    int base = u * d;
                    for (int k = 0; k < d; k++) w1[base + k] -= lr * (gu * x[k] + s.l2() * w1[base + k]);
                    b1[u] -= lr * gu;
                }
                w2[units] -= lr * g;
            }
        }
        return new HiddenLayerNetwork(d, toFloats(w1), toFloats(b1), toFloats(w2));
    }

    private static float[] toFloats(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) v[i];
        return out;
    }
}
