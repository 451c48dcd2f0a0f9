package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal self-attention for one new query, the decoder's step: the query (columns [0, C) of its
 * fused {@code qkv} row) against the {@code count} keys and values a {@link KvCache} holds for the
 * layer, its own included. Per head: scores q·k (one fused multiply-add per head dimension in
 * increasing order, as {@link Attention}'s tiles), softmax(scale · score), then the probabilities'
 * weighted sum of the values (in increasing position). Heads are the work items; each thread
 * writes only its heads' columns.
 */
final class CachedAttention {
    private CachedAttention() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    /** {@code out[0, C)}: the attention output of the query in {@code qkv} over positions [0, count). */
    static void forward(Workers w, float[] out, float[] qkv, KvCache cache, int layer, int count) {
        int n = cache.context;
        int hs = cache.hs;
        int c = cache.c;
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] kt = cache.keysT(layer);
        float[] v = cache.values(layer);
        int bound = S.loopBound(count);
        w.run(cache.heads, 1, (worker, from, to) -> {
            float[] p = w.scratch(worker, n);
            for (int h = from; h < to; h++) {
                // Scores: p[t] = Σ_d q[d]·k[t][d], vectors along t.
                java.util.Arrays.fill(p, 0, count, 0f);
                for (int d = 0; d < hs; d++) {
                    float q = qkv[h * hs + d];
                    FloatVector qv = FloatVector.broadcast(S, q);
                    int row = (h * hs + d) * n;
                    int t = 0;
                    for (; t < bound; t += L) {
                        qv.fma(FloatVector.fromArray(S, kt, row + t), FloatVector.fromArray(S, p, t)).intoArray(p, t);
                    }
                    for (; t < count; t++) p[t] = Math.fma(q, kt[row + t], p[t]);
                }
                // Softmax of the scaled scores.
                FloatVector sc = FloatVector.broadcast(S, scale);
                FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                int t = 0;
                for (; t < bound; t += L) {
                    FloatVector x = FloatVector.fromArray(S, p, t).mul(sc);
                    x.intoArray(p, t);
                    mv = mv.max(x);
                }
                float max = mv.reduceLanes(VectorOperators.MAX); // exact in any order
                for (; t < count; t++) {
                    p[t] *= scale;
                    max = Math.max(max, p[t]);
                }
                float inv = 1f / VectorMath.expShiftSum(p, 0, count, max);
                // Output: y[d] = Σ_t P[t]·v[t][d], vectors along the head's dimensions.
                int y0 = h * hs;
                int dBound = y0 + S.loopBound(hs);
                int d = y0;
                for (; d < dBound; d += L) {
                    FloatVector acc = FloatVector.zero(S);
                    for (t = 0; t < count; t++) acc = FloatVector.broadcast(S, p[t] * inv).fma(FloatVector.fromArray(S, v, t * c + d), acc);
                    acc.intoArray(out, d);
                }
                for (; d < y0 + hs; d++) {
                    float acc = 0f;
                    for (t = 0; t < count; t++) acc = Math.fma(p[t] * inv, v[t * c + d], acc);
                    out[d] = acc;
                }
            }
        });
    }
}
