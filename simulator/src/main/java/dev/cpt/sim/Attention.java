package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal multi-head self-attention on a fused {@code qkv} activation ([rows, 3C]: q, then k, then
 * v, each head a slice of {@code hs} columns). The forward keeps the softmax probabilities
 * ([B, heads, T, T], lower triangle) for the backward. One (sequence, head) pair is one work item;
 * it reads and writes only its own slices, so threads never share an output.
 *
 * <p>Each item copies its K (forward) or V (backward) into a transposed scratch [hs, T] first, so
 * that the scores of one query against all keys are a broadcast-times-row product along the key
 * axis — vectors of keys, no horizontal sums.
 */
final class Attention {
    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    private final int batch;
    private final int seqLen;
    private final int heads;
    private final int c;
    private final int hs;
    private final float scale;
    private final float[][] transposed;
    private final float[][] dScores;

    Attention(int threads, int batch, int seqLen, int heads, int c) {
        this.batch = batch;
        this.seqLen = seqLen;
        this.heads = heads;
        this.c = c;
        this.hs = c / heads;
        this.scale = (float) (1.0 / Math.sqrt(hs));
        this.transposed = new float[threads][hs * seqLen];
        this.dScores = new float[threads][seqLen * seqLen];
    }

    /** {@code out[rows, C]} from {@code qkv[rows, 3C]}; {@code att[B, heads, T, T]} receives the probabilities. */
    void forward(Workers w, float[] out, float[] att, float[] qkv) {
        int t3 = 3 * c;
        int n = seqLen;
        w.run(batch * heads, 1, (worker, from, to) -> {
            float[] kt = transposed[worker];
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads;
                int h = bh % heads;
                int q0 = b * n * t3 + h * hs;
                int k0 = q0 + c;
                int v0 = q0 + 2 * c;
                transpose(qkv, k0, t3, kt);
                for (int t = 0; t < n; t++) {
                    int pr = (bh * n + t) * n;
                    int qt = q0 + t * t3;
                    scores(att, pr, qkv, qt, kt, scale, t + 1);
                    softmax(att, pr, t + 1);
                    int o = (b * n + t) * c + h * hs;
                    int d = 0;
                    for (; d + L <= hs; d += L) {
                        FloatVector acc = FloatVector.zero(S);
                        for (int s = 0; s <= t; s++) {
                            acc = FloatVector.broadcast(S, att[pr + s]).fma(FloatVector.fromArray(S, qkv, v0 + s * t3 + d), acc);
                        }
                        acc.intoArray(out, o + d);
                    }
                    for (; d < hs; d++) {
                        float acc = 0f;
                        for (int s = 0; s <= t; s++) acc = Math.fma(att[pr + s], qkv[v0 + s * t3 + d], acc);
                        out[o + d] = acc;
                    }
                }
            }
        });
    }

    /**
     * {@code dqkv[rows, 3C]} (overwritten) from {@code dOut[rows, C]}, the saved probabilities and
     * the forward's {@code qkv}.
     */
    void backward(Workers w, float[] dqkv, float[] dOut, float[] att, float[] qkv) {
        int t3 = 3 * c;
        int n = seqLen;
        w.run(batch * heads, 1, (worker, from, to) -> {
            float[] vt = transposed[worker];
            float[] ds = dScores[worker];
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads;
                int h = bh % heads;
                int q0 = b * n * t3 + h * hs;
                int k0 = q0 + c;
                int v0 = q0 + 2 * c;
                int y0 = b * n * c + h * hs;
                transpose(qkv, v0, t3, vt);
                // dP = dY·Vᵀ, then the softmax backward dS = P ⊙ (dP − rowsum(P ⊙ dP)), times the score scale.
                for (int t = 0; t < n; t++) {
                    int pr = (bh * n + t) * n;
                    int dr = t * n;
                    scores(ds, dr, dOut, y0 + t * c, vt, 1f, t + 1);
                    float dot = 0f;
                    for (int s = 0; s <= t; s++) dot = Math.fma(att[pr + s], ds[dr + s], dot);
                    for (int s = 0; s <= t; s++) ds[dr + s] = att[pr + s] * (ds[dr + s] - dot) * scale;
                }
                // dQ[t] = Σ_{s≤t} dS[t,s]·K[s]
                for (int t = 0; t < n; t++) {
                    int dr = t * n;
                    int o = q0 + t * t3;
                    int d = 0;
                    for (; d + L <= hs; d += L) {
                        FloatVector acc = FloatVector.zero(S);
                        for (int s = 0; s <= t; s++) {
                            acc = FloatVector.broadcast(S, ds[dr + s]).fma(FloatVector.fromArray(S, qkv, k0 + s * t3 + d), acc);
                        }
                        acc.intoArray(dqkv, o + d);
                    }
                    for (; d < hs; d++) {
                        float acc = 0f;
                        for (int s = 0; s <= t; s++) acc = Math.fma(ds[dr + s], qkv[k0 + s * t3 + d], acc);
                        dqkv[o + d] = acc;
                    }
                }
                // dK[s] = Σ_{t≥s} dS[t,s]·Q[t]; dV[s] = Σ_{t≥s} P[t,s]·dY[t]
                for (int s = 0; s < n; s++) {
                    int ok = k0 + s * t3;
                    int ov = v0 + s * t3;
                    int d = 0;
                    for (; d + L <= hs; d += L) {
                        FloatVector dk = FloatVector.zero(S);
                        FloatVector dv = FloatVector.zero(S);
                        for (int t = s; t < n; t++) {
                            dk = FloatVector.broadcast(S, ds[t * n + s]).fma(FloatVector.fromArray(S, qkv, q0 + t * t3 + d), dk);
                            dv = FloatVector.broadcast(S, att[(bh * n + t) * n + s])
                                    .fma(FloatVector.fromArray(S, dOut, y0 + t * c + d), dv);
                        }
                        dk.intoArray(dqkv, ok + d);
                        dv.intoArray(dqkv, ov + d);
                    }
                    for (; d < hs; d++) {
                        float dk = 0f;
                        float dv = 0f;
                        for (int t = s; t < n; t++) {
                            dk = Math.fma(ds[t * n + s], qkv[q0 + t * t3 + d], dk);
                            dv = Math.fma(att[(bh * n + t) * n + s], dOut[y0 + t * c + d], dv);
                        }
                        dqkv[ok + d] = dk;
                        dqkv[ov + d] = dv;
                    }
                }
            }
        });
    }

    /** {@code dst[d·T + s] = src[off + s·stride + d]}: one head's keys or values, transposed. */
    private void transpose(float[] src, int off, int stride, float[] dst) {
        for (int s = 0; s < seqLen; s++) {
            int r = off + s * stride;
            for (int d = 0; d < hs; d++) dst[d * seqLen + s] = src[r + d];
        }
    }

    /** {@code dst[off + s] = factor · Σ_d x[xOff + d] · mt[d·T + s]} for {@code s < count}. */
    private void scores(float[] dst, int off, float[] x, int xOff, float[] mt, float factor, int count) {
        int s = 0;
        for (; s + L <= count; s += L) {
            FloatVector acc = FloatVector.zero(S);
            for (int d = 0; d < hs; d++) {
                acc = FloatVector.broadcast(S, x[xOff + d]).fma(FloatVector.fromArray(S, mt, d * seqLen + s), acc);
            }
            acc.mul(factor).intoArray(dst, off + s);
        }
        for (; s < count; s++) {
            float acc = 0f;
            for (int d = 0; d < hs; d++) acc = Math.fma(x[xOff + d], mt[d * seqLen + s], acc);
            dst[off + s] = acc * factor;
        }
    }

    /** Softmax in place over {@code p[off, off + count)}. */
    private static void softmax(float[] p, int off, int count) {
        int s = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (count >= L) {
            FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; s + L <= count; s += L) mv = mv.max(FloatVector.fromArray(S, p, off + s));
            max = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; s < count; s++) max = Math.max(max, p[off + s]);
        FloatVector mv = FloatVector.broadcast(S, max);
        FloatVector sum = FloatVector.zero(S);
        s = 0;
        for (; s + L <= count; s += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, p, off + s).sub(mv));
            e.intoArray(p, off + s);
            sum = sum.add(e);
        }
        float total = VectorMath.sum(sum);
        for (; s < count; s++) {
            float e = VectorMath.exp(p[off + s] - max);
            p[off + s] = e;
            total += e;
        }
        float inv = 1f / total;
        s = 0;
        for (; s + L <= count; s += L) FloatVector.fromArray(S, p, off + s).mul(inv).intoArray(p, off + s);
        for (; s < count; s++) p[off + s] *= inv;
    }
}
