package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A linear layer on one row, for decoding a token at a time: {@code y = x·Wᵀ + b} with W given
 * transposed ([in, out], the copy {@link GptModel} keeps for its forward). Each output starts at
 * its bias and takes one fused multiply-add per input in increasing order, exactly as
 * {@link Matmul}'s kernels compute it, so a row gives the bits the batched forward gives it.
 *
 * <p>The inputs are the outer loop: each thread streams its columns of W's rows one row after the
 * other (sequential reads of the weights, which dominate), accumulating into its part of y.
 * Threads own disjoint column ranges on vector boundaries.
 */
final class MatVec {
    private MatVec() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    /** {@code out[0, outDim) = in[0, inDim) · wT[inDim × outDim] + bias} ({@code biasOff < 0}: no bias). */
    static void forward(Workers w, float[] out, float[] in, float[] wT, int wTOff, float[] bias, int biasOff, int inDim, int outDim) {
        w.run(outDim, 4 * L, (worker, from, to) -> {
            if (biasOff >= 0) System.arraycopy(bias, biasOff + from, out, from, to - from);
            else java.util.Arrays.fill(out, from, to, 0f);
            int bound = from + (to - from) / L * L;
            for (int k = 0; k < inDim; k++) {
                FloatVector x = FloatVector.broadcast(S, in[k]);
                int row = wTOff + k * outDim;
                int j = from;
                for (; j < bound; j += L) {
                    x.fma(FloatVector.fromArray(S, wT, row + j), FloatVector.fromArray(S, out, j)).intoArray(out, j);
                }
                for (; j < to; j++) out[j] = Math.fma(in[k], wT[row + j], out[j]);
            }
        });
    }
}
