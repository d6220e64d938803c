package dev.keel.guard;

import java.util.List;
import java.util.Random;

/**
 * Binary logistic regression fitted by stochastic gradient descent with L2 regularisation and
 * class-balanced weights. Deterministic: the only randomness is the example order, drawn from the
 * seed, and arithmetic is single-threaded. Used offline by {@link InjectionTrainer}; not thread-safe.
 */
final class LogisticRegression {
    /** A fitted model: one weight per dimension and a bias. */
    record Fit(float[] weights, float bias) {
        double probability(TextFeatures.Sparse x) {
            double z = bias;
            for (int k = 0; k < x.index().length; k++) z += weights[x.index()[k]] * x.value()[k];
            return InjectionModel.sigmoid(z);
        }
    }

    /** Hyper-parameters: passes over the data, initial step, L2 strength. */
    record Settings(int epochs, double learningRate, double l2) {}

    private LogisticRegression() {}

    static Fit fit(List<TextFeatures.Sparse> xs, List<Integer> ys, int dimensions, Settings s, long seed) {
        int n = xs.size();
        double[] classWeight = classWeights(ys);
        double[] w = new double[dimensions];
        double b = 0;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Random random = new Random(seed);
        long step = 0;
        // Lazy L2: weights are stored divided by a global scale, so a step costs only the example's non-zeros.
        double scale = 1;
        for (int epoch = 0; epoch < s.epochs(); epoch++) {
            shuffle(order, random);
            for (int i : order) {
                double lr = s.learningRate() / (1 + step++ * 1e-4);
                TextFeatures.Sparse x = xs.get(i);
                double z = b;
                for (int k = 0; k < x.index().length; k++) z += w[x.index()[k]] * scale * x.value()[k];
                int y = ys.get(i);
                double g = (InjectionModel.sigmoid(z) - y) * classWeight[y];
                scale *= 1 - lr * s.l2();
                for (int k = 0; k < x.index().length; k++) w[x.index()[k]] -= lr * g * x.value()[k] / scale;
                b -= lr * g;
                if (scale < 1e-6) {
                    for (int d = 0; d < dimensions; d++) w[d] *= scale;
                    scale = 1;
                }
            }
        }
        float[] out = new float[dimensions];
        for (int d = 0; d < dimensions; d++) out[d] = (float) (w[d] * scale);
        return new Fit(out, (float) b);
    }

    /** The weight of an example of each class (index = label), so both classes weigh the same in total. */
    static double[] classWeights(List<Integer> ys) {
        int n = ys.size();
        long positives = ys.stream().filter(y -> y == 1).count();
        return new double[] {positives == n ? 1 : n / (2.0 * (n - positives)), positives == 0 ? 1 : n / (2.0 * positives)};
    }

    /** Shuffles {@code order} in place (Fisher-Yates) with {@code random}: the example order of one epoch. */
    static void shuffle(int[] order, Random random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** A dense vector as a sparse one, so the same fitting code serves embeddings and stackers. */
    static TextFeatures.Sparse dense(float[] v) {
        int[] index = new int[v.length];
        for (int i = 0; i < v.length; i++) index[i] = i;
        return new TextFeatures.Sparse(index, v.clone());
    }
}
