package dev.cpt.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The next token from a position's logits, by Hugging Face transformers' rules for sampling: the
 * logits divided by the temperature, then top-k (the k largest logits, ties at the k-th kept as
 * transformers keeps them), then top-p (nucleus: the smallest set of most likely tokens whose
 * probability reaches p, renormalised). Temperature 0 is greedy: the first largest logit, as argmax
 * takes it. Only ids below {@code vocab} are candidates, so a model's padded rows (ids no tokenizer
 * can decode) are never drawn.
 *
 * @param topK 0 for no top-k filter
 * @param topP 1 for no top-p filter
 */
public record TokenSampler(double temperature, int topK, double topP) {

    public TokenSampler {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("the temperature must be a finite number ≥ 0 (0 is greedy), not " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("top-k must be at least 1 (or 0 for no top-k filter), not " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], not " + topP);
    }

    public static TokenSampler greedy() {
        return new TokenSampler(0, 0, 1);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** The token drawn from {@code logits[0, vocab)}; {@code rng} is only read when sampling. */
    public int next(float[] logits, int vocab, SplittableRandom rng) {
        if (vocab < 1 || vocab > logits.length) {
            throw new IllegalArgumentException("vocabulary " + vocab + " does not fit " + logits.length + " logits");
        }
        if (isGreedy()) return argmax(logits, vocab);
        double[] p = probabilities(logits, vocab);
        double u = rng.nextDouble();
        double cum = 0;
        int last = -1;
        for (int i = 0; i < vocab; i++) {
            if (p[i] == 0) continue;
            cum += p[i];
            last = i;
            if (u < cum) return i;
        }
        return last; // rounding left the sum just under u
    }

    /**
     * The distribution {@link #next} draws from (for a temperature above 0): softmax of the logits
     * over the temperature, zero outside the top-k and then outside the nucleus, renormalised.
     */
    public double[] probabilities(float[] logits, int vocab) {
        if (isGreedy()) throw new IllegalStateException("temperature 0 is greedy: there is no distribution to draw from");
        double[] z = new double[vocab];
        for (int i = 0; i < vocab; i++) z[i] = logits[i] / temperature;
        if (topK > 0 && topK < vocab) {
            double[] sorted = z.clone();
            Arrays.sort(sorted);
            double kth = sorted[vocab - topK];
            for (int i = 0; i < vocab; i++) if (z[i] < kth) z[i] = Double.NEGATIVE_INFINITY;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double sum = 0;
        double[] p = new double[vocab];
        for (int i = 0; i < vocab; i++) {
            p[i] = z[i] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(z[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < vocab; i++) p[i] /= sum;
        if (topP < 1) {
            // Most likely first (the lower id first among equals); keep until the mass reaches p.
            Integer[] order = new Integer[vocab];
            for (int i = 0; i < vocab; i++) order[i] = i;
            double[] q = p;
            Arrays.sort(order, (a, b) -> q[a] != q[b] ? Double.compare(q[b], q[a]) : Integer.compare(a, b));
            double cum = 0;
            int keep = 0;
            while (keep < vocab && (keep == 0 || cum < topP)) cum += p[order[keep++]];
            double kept = 0;
            for (int k = 0; k < keep; k++) kept += p[order[k]];
            double[] r = new double[vocab];
            for (int k = 0; k < keep; k++) r[order[k]] = p[order[k]] / kept;
            p = r;
        }
        return p;
    }

    static int argmax(float[] logits, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
