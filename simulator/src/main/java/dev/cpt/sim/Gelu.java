package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GPT-2's GELU, the tanh approximation (torch {@code gelu(approximate="tanh")}):
 * {@code 0.5·x·(1 + tanh(u))}, {@code u = √(2/π)·(x + 0.044715·x³)}. Computed as the equal
 * {@code x·σ(2u)} with σ(z) = 1/(1 + e^−z), because {@link VectorMath}'s exp gives the same bits in
 * every JIT tier and a vector tanh does not. Elementwise, so threads own disjoint ranges; each runs
 * in L1-sized chunks: the exponent for the chunk, then exp over it in place, then the rest.
 */
final class Gelu {
    private Gelu() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();
    /** −2·√(2/π): e^(−2u) = exp(M2K · (x + A·x³)). */
    private static final float M2K = (float) (-2 * Math.sqrt(2.0 / Math.PI));
    private static final float K = (float) Math.sqrt(2.0 / Math.PI);
    private static final float A = 0.044715f;
    /** Items per grain and per chunk: a multiple of the vector length, small enough for L1. */
    private static final int GRAIN = 4096;
    private static final int CHUNK = 1024;

    static void forward(Workers w, float[] out, float[] in, int n) {
        FloatVector a = FloatVector.broadcast(S, A);
        w.run(n, GRAIN, (worker, from, to) -> {
            for (int c0 = from; c0 < to; c0 += CHUNK) {
                int c1 = Math.min(to, c0 + CHUNK);
                int i = c0;
                for (; i + L <= c1; i += L) {
                    FloatVector x = FloatVector.fromArray(S, in, i);
                    x.mul(x).mul(x).fma(a, x).mul(M2K).intoArray(out, i);
                }
                for (; i < c1; i++) out[i] = Math.fma(in[i] * in[i] * in[i], A, in[i]) * M2K;
                VectorMath.exp(out, c0, c1);
                for (i = c0; i + L <= c1; i += L) {
                    FloatVector.fromArray(S, in, i).div(FloatVector.fromArray(S, out, i).add(1f)).intoArray(out, i);
                }
                for (; i < c1; i++) out[i] = in[i] / (out[i] + 1f);
            }
        });
    }

    /** {@code dIn = dOut · gelu'(in)}; dIn may be dOut. With s = σ(2u): gelu' = s + x·2s(1−s)·u'. */
    static void backward(Workers w, float[] dIn, float[] in, float[] dOut, int n) {
        FloatVector a = FloatVector.broadcast(S, A);
        FloatVector one = FloatVector.broadcast(S, 1f);
        w.run(n, GRAIN, (worker, from, to) -> {
            float[] e = w.scratch(worker, CHUNK);
            for (int c0 = from; c0 < to; c0 += CHUNK) {
                int c1 = Math.min(to, c0 + CHUNK);
                int i = c0;
                for (; i + L <= c1; i += L) {
                    FloatVector x = FloatVector.fromArray(S, in, i);
                    x.mul(x).mul(x).fma(a, x).mul(M2K).intoArray(e, i - c0);
                }
                for (; i < c1; i++) e[i - c0] = Math.fma(in[i] * in[i] * in[i], A, in[i]) * M2K;
                VectorMath.exp(e, 0, c1 - c0);
                for (i = c0; i + L <= c1; i += L) {
                    FloatVector x = FloatVector.fromArray(S, in, i);
                    FloatVector s = one.div(FloatVector.fromArray(S, e, i - c0).add(1f));
                    FloatVector du = x.mul(x).mul(3f * A).add(1f).mul(K);
                    FloatVector grad = x.mul(2f).mul(s).mul(one.sub(s)).mul(du).add(s);
                    grad.mul(FloatVector.fromArray(S, dOut, i)).intoArray(dIn, i);
                }
                for (; i < c1; i++) {
                    float x = in[i];
                    float s = 1f / (e[i - c0] + 1f);
                    float du = (x * x * (3f * A) + 1f) * K;
                    float grad = x * 2f * s * (1f - s) * du + s;
                    dIn[i] = grad * dOut[i];
                }
            }
        });
    }
}
