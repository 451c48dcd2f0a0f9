package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GPT-2's GELU, the tanh approximation (torch {@code gelu(approximate="tanh")}):
 * {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. Elementwise, so threads own disjoint ranges.
 */
final class Gelu {
    private Gelu() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();
    private static final float K = (float) Math.sqrt(2.0 / Math.PI);
    private static final float A = 0.044715f;
    /** Work items per grain: big enough that a thread's part is worth waking it for. */
    private static final int GRAIN = 4096;

    static void forward(Workers w, float[] out, float[] in, int n) {
        w.run(n, GRAIN, (worker, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector x = FloatVector.fromArray(S, in, i);
                FloatVector u = x.mul(x).mul(x).fma(FloatVector.broadcast(S, A), x).mul(K);
                FloatVector t = u.lanewise(VectorOperators.TANH);
                x.mul(0.5f).mul(t.add(1f)).intoArray(out, i);
            }
            for (; i < to; i++) {
                float x = in[i];
                float t = (float) Math.tanh(K * Math.fma(x * x * x, A, x));
                out[i] = 0.5f * x * (1f + t);
            }
        });
    }

    /** {@code dIn = dOut · gelu'(in)} (overwrites dIn). */
    static void backward(Workers w, float[] dIn, float[] in, float[] dOut, int n) {
        w.run(n, GRAIN, (worker, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector x = FloatVector.fromArray(S, in, i);
                FloatVector x2 = x.mul(x);
                FloatVector u = x2.mul(x).fma(FloatVector.broadcast(S, A), x).mul(K);
                FloatVector t = u.lanewise(VectorOperators.TANH);
                // d/dx: 0.5(1+t) + 0.5·x·(1−t²)·K·(1 + 3A·x²)
                FloatVector sech2 = t.mul(t).neg().add(1f);
                FloatVector du = x2.mul(3f * A).add(1f).mul(K);
                FloatVector grad = t.add(1f).mul(0.5f).add(x.mul(0.5f).mul(sech2).mul(du));
                grad.mul(FloatVector.fromArray(S, dOut, i)).intoArray(dIn, i);
            }
            for (; i < to; i++) {
                float x = in[i];
                float x2 = x * x;
                float t = (float) Math.tanh(K * Math.fma(x2 * x, A, x));
                float sech2 = 1f - t * t;
                float du = K * (1f + 3f * A * x2);
                float grad = 0.5f * (1f + t) + 0.5f * x * sech2 * du;
                dIn[i] = grad * dOut[i];
            }
        });
    }
}
