package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax and next-token cross-entropy fused: one pass over a row of logits gives its loss
 * ({@code logsumexp − logit[target]}) and, when training, overwrites the logits with their gradient
 * of the batch-mean loss, {@code (softmax − onehot(target)) / rows}, so no probability buffer is
 * needed (in evaluation the logits are left as exp(logit − max)). Threads own rows; the mean is
 * summed in row order afterwards.
 */
final class CrossEntropy {
    private CrossEntropy() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    /**
     * Per-row losses into {@code losses[rows]}; with {@code backward}, {@code logits} becomes dLoss/dLogits.
     * Row r (= sequence·T + position) predicts {@code tokens[sequence·(T+1) + position + 1]}.
     */
    static void forward(Workers w, float[] logits, float[] losses, int[] tokens, int seqLen, int rows, int vocab,
                        boolean backward) {
        int bound = S.loopBound(vocab);
        float inv = 1f / rows;
        w.run(rows, 1, (worker, from, to) -> {
            for (int r = from; r < to; r++) {
                int x = r * vocab;
                int target = tokens[(r / seqLen) * (seqLen + 1) + r % seqLen + 1];
                int i = 0;
                float max = Float.NEGATIVE_INFINITY;
                if (bound > 0) {
                    FloatVector mv = FloatVector.fromArray(S, logits, x);
                    for (i = L; i < bound; i += L) mv = mv.max(FloatVector.fromArray(S, logits, x + i));
                    max = mv.reduceLanes(VectorOperators.MAX);
                }
                for (; i < vocab; i++) max = Math.max(max, logits[x + i]);
                float targetLogit = logits[x + target];
                // The row becomes exp(logit − max) in place; scaled below into the gradient.
                float total = VectorMath.expShiftSum(logits, x, x + vocab, max);
                losses[r] = (float) Math.log(total) + max - targetLogit;
                if (!backward) continue;
                float norm = inv / total;
                FloatVector nv = FloatVector.broadcast(S, norm);
                for (i = 0; i < bound; i += L) FloatVector.fromArray(S, logits, x + i).mul(nv).intoArray(logits, x + i);
                for (; i < vocab; i++) logits[x + i] *= norm;
                logits[x + target] -= inv;
            }
        });
    }

    /** The batch mean of {@code losses[0, rows)}, summed in order in double. */
    static double mean(float[] losses, int rows) {
        double sum = 0;
        for (int r = 0; r < rows; r++) sum += losses[r];
        return sum / rows;
    }
}
