package dev.keel.eval;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The statistics evaluation reports rest on: bootstrap confidence intervals of a mean and of a paired difference
 * (percentile method, {@value #RESAMPLES} resamples, seeded, so a report is reproducible), a two-sided paired
 * sign-flip permutation test, their normal approximations for large samples (an interval of mean ± z·s/√n, a paired
 * t-test), Welch's t-test, and percentiles. Pure functions; NaN never enters a result (callers
 * pass only the values an example has).
 */
public final class Statistics {
    public static final int RESAMPLES = 2_000;
    /** The 97.5% quantile of the standard normal distribution: a 95% interval is mean ± this many standard errors. */
    public static final double Z_975 = 1.959964;

    private Statistics() {}

    /** A mean with its 95% interval. */
    public record Interval(double mean, double low, double high) {}

    public static double mean(double[] values) {
        if (values.length == 0) return Double.NaN;
        double sum = 0;
        for (double v : values) sum += v;
        return sum / values.length;
    }

    /** The mean of {@code values} with a 95% percentile-bootstrap interval; a single value (or none) has a zero-width interval. */
    public static Interval bootstrapMean(double[] values, long seed) {
        double mean = mean(values);
        if (values.length < 2) return new Interval(mean, mean, mean);
        SplittableRandom random = new SplittableRandom(seed);
        double[] means = new double[RESAMPLES];
        for (int r = 0; r < RESAMPLES; r++) {
            double sum = 0;
            for (int i = 0; i < values.length; i++) sum += values[random.nextInt(values.length)];
            means[r] = sum / values.length;
        }
        Arrays.sort(means);
        return new Interval(mean, percentileOfSorted(means, 2.5), percentileOfSorted(means, 97.5));
    }

    /** The mean of {@code candidate[i] - base[i]} with a 95% paired-bootstrap interval. Arrays must be of equal length. */
    public static Interval pairedDifference(double[] base, double[] candidate, long seed) {
        return bootstrapMean(differences(base, candidate), seed);
    }

    /**
     * Two-sided p-value of a paired sign-flip permutation test of "the mean difference is zero": each difference's sign
     * is flipped at random {@value #RESAMPLES} times. Exact enough for a gate, and without a normality assumption.
     */
    public static double pairedPermutationP(double[] base, double[] candidate, long seed) {
        double[] d = differences(base, candidate);
        if (d.length == 0) return 1;
        double observed = Math.abs(mean(d));
        if (observed == 0) return 1;
        SplittableRandom random = new SplittableRandom(seed);
        int atLeast = 0;
        for (int r = 0; r < RESAMPLES; r++) {
            double sum = 0;
            for (double x : d) sum += random.nextBoolean() ? x : -x;
            if (Math.abs(sum / d.length) >= observed - 1e-12) atLeast++;
        }
        return (atLeast + 1.0) / (RESAMPLES + 1.0);
    }

    /** The mean of {@code values} with a normal-approximation 95% interval, mean ± {@value #Z_975}·s/√n: the bootstrap's large-sample limit, at no resampling cost. */
    public static Interval normalMean(double[] values) {
        double mean = mean(values);
        if (values.length < 2) return new Interval(mean, mean, mean);
        double half = Z_975 * Math.sqrt(variance(values, mean) / values.length);
        return new Interval(mean, mean - half, mean + half);
    }

    /** {@link #normalMean} of the paired differences {@code candidate[i] - base[i]}. */
    public static Interval pairedNormalDifference(double[] base, double[] candidate) {
        return normalMean(differences(base, candidate));
    }

    /** Two-sided p-value of a paired t-test of "the mean difference is zero"; 1 with fewer than two pairs or no difference at all. */
    public static double pairedTP(double[] base, double[] candidate) {
        double[] d = differences(base, candidate);
        if (d.length < 2) return 1;
        double mean = mean(d), se = Math.sqrt(variance(d, mean) / d.length);
        if (se == 0) return mean == 0 ? 1 : 0;
        return studentTwoSidedP(Math.abs(mean) / se, d.length - 1);
    }

    /** Two-sided p-value of Welch's t-test that two samples have the same mean; 1 when either has fewer than two values. */
    public static double welchP(double[] a, double[] b) {
        if (a.length < 2 || b.length < 2) return 1;
        double ma = mean(a), mb = mean(b);
        return welchP(a.length, ma, variance(a, ma), b.length, mb, variance(b, mb));
    }

    /**
     * Welch's t-test from summary statistics: the two-sided p-value that groups of {@code na} and {@code nb} values with
     * these means and sample variances (n − 1 denominators) have the same mean; 1 when either group has fewer than two
     * values. For aggregates kept as count, sum and sum of squares (online evaluation's buckets).
     */
    public static double welchP(long na, double meanA, double varianceA, long nb, double meanB, double varianceB) {
        if (na < 2 || nb < 2) return 1;
        double va = Math.max(0, varianceA) / na, vb = Math.max(0, varianceB) / nb;
        if (va + vb == 0) return meanA == meanB ? 1 : 0;
        double t = (meanA - meanB) / Math.sqrt(va + vb);
        double df = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
        return studentTwoSidedP(Math.abs(t), df);
    }

    /** The {@code p}-th percentile (0–100) of the values, by linear interpolation. */
    public static double percentile(double[] values, double p) {
        if (values.length == 0) return Double.NaN;
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return percentileOfSorted(sorted, p);
    }

    private static double percentileOfSorted(double[] sorted, double p) {
        double rank = p / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(rank), hi = (int) Math.ceil(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    private static double[] differences(double[] base, double[] candidate) {
        if (base.length != candidate.length) throw new IllegalArgumentException("paired samples differ in length: " + base.length + " vs " + candidate.length);
        double[] d = new double[base.length];
        for (int i = 0; i < d.length; i++) d[i] = candidate[i] - base[i];
        return d;
    }

    private static double variance(double[] values, double mean) {
        double sum = 0;
        for (double v : values) sum += (v - mean) * (v - mean);
        return sum / (values.length - 1);
    }

    /** P(|T| ≥ t) for Student's t with {@code df} degrees of freedom: the regularised incomplete beta I_{df/(df+t²)}(df/2, 1/2). */
    static double studentTwoSidedP(double t, double df) {
        return regularisedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
    }

    /** I_x(a, b) by its continued fraction (Numerical Recipes, 6.4), using the symmetry relation where it converges faster. */
    static double regularisedIncompleteBeta(double x, double a, double b) {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
        if (x < (a + 1) / (a + b + 2)) return front * betaContinuedFraction(x, a, b) / a;
        return 1 - front * betaContinuedFraction(1 - x, b, a) / b;
    }

    private static double betaContinuedFraction(double x, double a, double b) {
        final double tiny = 1e-300;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        d = 1 / (Math.abs(d) < tiny ? tiny : d);
        double h = d;
        for (int m = 1; m <= 300; m++) {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + aa * d;
            d = 1 / (Math.abs(d) < tiny ? tiny : d);
            c = 1 + aa / c;
            if (Math.abs(c) < tiny) c = tiny;
            h *= d * c;
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + aa * d;
            d = 1 / (Math.abs(d) < tiny ? tiny : d);
            c = 1 + aa / c;
            if (Math.abs(c) < tiny) c = tiny;
            double step = d * c;
            h *= step;
            if (Math.abs(step - 1) < 1e-12) break;
        }
        return h;
    }

    /** ln Γ(x) for x > 0 (Lanczos, g = 7). */
    static double logGamma(double x) {
        double[] g = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
                12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
        if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        x -= 1;
        double sum = g[0];
        for (int i = 1; i < 9; i++) sum += g[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
    }
}
