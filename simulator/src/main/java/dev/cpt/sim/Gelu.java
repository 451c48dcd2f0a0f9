package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GPT-2's GELU, the tanh approximation (torch {@code gelu(approximate="tanh")}):
 * {@code 0.5·x·(1 + tanh(u))}, {@code u = √(2/π)·(x + 0.044715·x³)}. Computed as the equal
 * {@code x·σ(2u)} with σ(z) = 1/(1 + e^−z), because {@link VectorMath#exp} gives the same bits in
 * every JIT tier and a vector tanh does not. Elementwise, so threads own disjoint ranges.
 */
final class Gelu {
    private Gelu() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();
    /** −2·√(2/π): e^(−2u) = exp(M2K · (x + A·x³)). */
    private static final float M2K = (float) (-2 * Math.sqrt(2.0 / Math.PI));
    private static final float K = (float) Math.sqrt(2.0 / Math.PI);
    private static final float A = 0.044715f;
    /** Items per grain: big enough that a thread's part is worth waking it for; a multiple of the vector length. */
    private static final int GRAIN = 4096;

    static void forward(Workers w, float[] out, float[] in, int n) {
        FloatVector a = FloatVector.broadcast(S, A);
        w.run(n, GRAIN, (worker, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector x = FloatVector.fromArray(S, in, i);
                FloatVector e = VectorMath.exp(x.mul(x).mul(x).fma(a, x).mul(M2K));
                x.div(e.add(1f)).intoArray(out, i);
            }
            for (; i < to; i++) {
                float x = in[i];
                float e = VectorMath.exp(Math.fma(x * x * x, A, x) * M2K);
                out[i] = x / (e + 1f);
            }
        });
    }

    /** {@code dIn = dOut · gelu'(in)}; dIn may be dOut. With s = σ(2u): gelu' = s + x·2s(1−s)·u'. */
    static void backward(Workers w, float[] dIn, float[] in, float[] dOut, int n) {
        FloatVector a = FloatVector.broadcast(S, A);
        w.run(n, GRAIN, (worker, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector x = FloatVector.fromArray(S, in, i);
                FloatVector x2 = x.mul(x);
                FloatVector s = FloatVector.broadcast(S, 1f).div(VectorMath.exp(x2.mul(x).fma(a, x).mul(M2K)).add(1f));
                FloatVector du = x2.mul(3f * A).add(1f).mul(K);
                FloatVector grad = x.mul(2f).mul(s).mul(s.neg().add(1f)).mul(du).add(s);
                grad.mul(FloatVector.fromArray(S, dOut, i)).intoArray(dIn, i);
            }
            for (; i < to; i++) {
                float x = in[i];
                float x2 = x * x;
                float s = 1f / (VectorMath.exp(Math.fma(x2 * x, A, x) * M2K) + 1f);
                float du = (x2 * (3f * A) + 1f) * K;
                float grad = x * 2f * s * (1f - s) * du + s;
                dIn[i] = grad * dOut[i];
            }
        });
    }
}
