package dev.cpt.data;

/**
 * Interleaves sources with given weights so that after any {@code n} picks each source's count is
 * within one of {@code n · weight} — exact, not only in expectation (GPT-NeoX's weighted random
 * blending only matches in expectation). This is Tijdeman's solution of the chairman assignment
 * problem: among the sources at least {@code δ = 1/(2k − 2)} behind their quota, pick the one
 * whose next pick is due first; it keeps every deviation within {@code 1 − δ}.
 */
public final class ExactBlend {
    private final double[] weights;
    private final long[] counts;
    private final double delta;
    private long picks;

    /** @param weights non-negative, summing to 1 */
    public ExactBlend(double[] weights) {
        this(weights, new long[weights.length]);
    }

    /** Resumes a blend after {@code counts} picks of each source. */
    public ExactBlend(double[] weights, long[] counts) {
        if (weights.length == 0 || weights.length != counts.length) {
            throw new IllegalArgumentException("need one count per weight and at least one weight");
        }
        this.weights = weights.clone();
        this.counts = counts.clone();
        this.delta = weights.length > 1 ? 1.0 / (2 * weights.length - 2) : 0;
        for (long c : counts) picks += c;
    }

    /** The source of the next pick. */
    public int next() {
        long n = picks + 1;
        int best = -1;
        double bestDue = Double.POSITIVE_INFINITY;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] <= 0) continue;
            if (weights[i] * n - counts[i] < delta - 1e-9) continue;
            double due = (counts[i] + 1 - delta) / weights[i];
            if (due < bestDue) {
                bestDue = due;
                best = i;
            }
        }
        if (best < 0) best = mostBehind(n); // only reachable through rounding at astronomically large n
        counts[best]++;
        picks = n;
        return best;
    }

    private int mostBehind(long n) {
        int best = 0;
        for (int i = 1; i < weights.length; i++) {
            if (weights[i] * n - counts[i] > weights[best] * n - counts[best]) best = i;
        }
        return best;
    }

    public long[] counts() {
        return counts.clone();
    }
}
