package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The residual connection: {@code stream += block output}, elementwise, threads owning ranges. */
final class Residual {
    private Residual() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();
    private static final int GRAIN = 4096;

    /** {@code dst[i] += src[i]} for {@code i < n}. */
    static void add(Workers w, float[] dst, float[] src, int n) {
        w.run(n, GRAIN, (worker, from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector.fromArray(S, dst, i).add(FloatVector.fromArray(S, src, i)).intoArray(dst, i);
            }
            for (; i < to; i++) dst[i] += src[i];
        });
    }
}
