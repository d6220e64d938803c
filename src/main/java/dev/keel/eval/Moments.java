package dev.keel.eval;

/**
 * Count, sum and sum of squares of some values: what online evaluation keeps per bucket instead of the values, and
 * all that their mean, sample variance and Welch's t-test need. Immutable; buckets add up with {@link #plus}.
 */
record Moments(long n, double sum, double sumSq) {
    static final Moments NONE = new Moments(0, 0, 0);
    /**
     * Sum of squares minus squared sum cancels to about this share of the mean square in doubles: a variance below it is
     * rounding of equal values, and counts as none (else a constant metric would "differ" from itself significantly).
     */
    private static final double ROUNDING = 1e-12;

    static Moments of(double value) {
        return new Moments(1, value, value * value);
    }

    Moments plus(Moments other) {
        return new Moments(n + other.n, sum + other.sum, sumSq + other.sumSq);
    }

    /** NaN without values. */
    double mean() {
        return n == 0 ? Double.NaN : sum / n;
    }

    /** The sample variance (n − 1 denominator); 0 below two values, and never negative or a residue from rounding. */
    double variance() {
        if (n < 2) return 0;
        double variance = (sumSq - sum * sum / n) / (n - 1);
        return variance <= ROUNDING * sumSq / n ? 0 : variance;
    }
}
