package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal multi-head self-attention on a fused {@code qkv} activation ([rows, 3C]: q, then k, then
 * v, each head a slice of {@code hs} columns). The forward keeps the softmax probabilities
 * ([B, heads, T, T], upper triangle zero) for the backward. One (sequence, head) pair is one work
 * item; it reads and writes only its own slices, so threads never share an output.
 *
 * <p>All five products (QKᵀ, PV; dY·Vᵀ, dS·K, dSᵀ·Q, Pᵀ·dY) run on {@link Matmul#block}'s register
 * tiles, four query rows at a time. Causality is exploited at tile granularity: a tile of rows
 * [t0, t1) only computes keys below t1 (rounded up to a vector), and the probabilities and score
 * gradients are exact zeros above the diagonal, so products that sum over keys may run a tile's
 * whole range. K (forward) or V (backward) is first copied transposed into a scratch [hs, T], so
 * that the scores are broadcast-times-row products along the key axis.
 */
final class Attention {
    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();
    private static final int MR = Matmul.MR;

    private final int batch;
    private final int seqLen;
    private final int heads;
    private final int c;
    private final int hs;
    private final float scale;
    private final float[][] transposed;
    private final float[][] dScores;
    /** Gather offsets of one column of K or V down {@code L} consecutive rows of qkv. */
    private final int[] rowOffsets;

    /** The most workers this attention has scratch for. */
    int threads() {
        return transposed.length;
    }

    Attention(int threads, int batch, int seqLen, int heads, int c) {
        this.batch = batch;
        this.seqLen = seqLen;
        this.heads = heads;
        this.c = c;
        this.hs = c / heads;
        this.scale = (float) (1.0 / Math.sqrt(hs));
        this.transposed = new float[threads][hs * seqLen];
        this.dScores = new float[threads][seqLen * seqLen];
        this.rowOffsets = new int[L];
        for (int i = 0; i < L; i++) rowOffsets[i] = i * 3 * c;
    }

    /** Keys a tile of query rows ending at {@code t1} needs: up to t1, rounded up to whole vectors. */
    private int keys(int t1) {
        return Math.min(seqLen, (t1 + L - 1) / L * L);
    }

    /** {@code out[rows, C]} from {@code qkv[rows, 3C]}; {@code att[B, heads, T, T]} receives the probabilities. */
    void forward(Workers w, float[] out, float[] att, float[] qkv) {
        int c3 = 3 * c;
        int n = seqLen;
        w.run(batch * heads, 1, (worker, from, to) -> {
            float[] kt = transposed[worker];
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads;
                int h = bh % heads;
                int q0 = b * n * c3 + h * hs;
                int p0 = bh * n * n;
                int y0 = b * n * c + h * hs;
                transpose(qkv, q0 + c, kt);
                for (int t0 = 0; t0 < n; t0 += MR) {
                    int t1 = Math.min(n, t0 + MR);
                    // Scores Q·Kᵀ for rows [t0, t1), then their softmax, then those rows of P·V.
                    Matmul.block(att, p0, n, qkv, q0, c3, 1, kt, 0, n, t0, t1, keys(t1), hs);
                    for (int t = t0; t < t1; t++) softmax(att, p0 + t * n, t + 1);
                    Matmul.block(out, y0, c, att, p0, n, 1, qkv, q0 + 2 * c, c3, t0, t1, hs, t1);
                }
            }
        });
    }

    /**
     * {@code dqkv[rows, 3C]} (overwritten) from {@code dOut[rows, C]}, the saved probabilities and
     * the forward's {@code qkv}.
     */
    void backward(Workers w, float[] dqkv, float[] dOut, float[] att, float[] qkv) {
        int c3 = 3 * c;
        int n = seqLen;
        w.run(batch * heads, 1, (worker, from, to) -> {
            float[] vt = transposed[worker];
            float[] ds = dScores[worker];
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads;
                int h = bh % heads;
                int q0 = b * n * c3 + h * hs;
                int k0 = q0 + c;
                int v0 = q0 + 2 * c;
                int p0 = bh * n * n;
                int y0 = b * n * c + h * hs;
                transpose(qkv, v0, vt);
                for (int t0 = 0; t0 < n; t0 += MR) {
                    int t1 = Math.min(n, t0 + MR);
                    // dP = dY·Vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale; dQ = dS·K.
                    Matmul.block(ds, 0, n, dOut, y0, c, 1, vt, 0, n, t0, t1, keys(t1), hs);
                    for (int t = t0; t < t1; t++) softmaxBackward(ds, t * n, att, p0 + t * n, t + 1);
                    Matmul.block(dqkv, q0, c3, ds, 0, n, 1, qkv, k0, c3, t0, t1, hs, t1);
                }
                for (int s0 = 0; s0 < n; s0 += MR) {
                    int s1 = Math.min(n, s0 + MR);
                    // dK = dSᵀ·Q and dV = Pᵀ·dY, over the queries t ≥ s0 (dS and P are 0 for t < s).
                    Matmul.block(dqkv, k0, c3, ds, s0 * n, 1, n, qkv, q0 + s0 * c3, c3, s0, s1, hs, n - s0);
                    Matmul.block(dqkv, v0, c3, att, p0 + s0 * n, 1, n, dOut, y0 + s0 * c, c, s0, s1, hs, n - s0);
                }
            }
        });
    }

    /**
     * {@code dst[d·T + s] = src[off + s·3C + d]}: one head's keys or values, transposed. A gather
     * collects one column over {@code L} rows, so each store is a whole vector.
     */
    private void transpose(float[] src, int off, float[] dst) {
        int stride = 3 * c;
        int s = 0;
        for (; s + L <= seqLen; s += L) {
            int r = off + s * stride;
            for (int d = 0; d < hs; d++) FloatVector.fromArray(S, src, r + d, rowOffsets, 0).intoArray(dst, d * seqLen + s);
        }
        for (; s < seqLen; s++) {
            int r = off + s * stride;
            for (int d = 0; d < hs; d++) dst[d * seqLen + s] = src[r + d];
        }
    }

    /**
     * Row {@code p[off, off + T)}: the first {@code count} raw scores become softmax(scale · score);
     * the rest (future keys) become exact zeros. The last, partial vector is masked rather than
     * finished in scalars: its future lanes enter the max as −∞ and leave exp as 0. Only when T is
     * not a multiple of the vector length can a row end in scalars.
     */
    private void softmax(float[] p, int off, int count) {
        int vEnd = Math.min((count + L - 1) / L * L, seqLen / L * L);
        FloatVector sc = FloatVector.broadcast(S, scale);
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int s = 0;
        for (; s < vEnd; s += L) {
            FloatVector x = FloatVector.fromArray(S, p, off + s).mul(sc);
            if (s + L > count) x = x.blend(Float.NEGATIVE_INFINITY, S.indexInRange(s, count).not());
            x.intoArray(p, off + s);
            mv = mv.max(x);
        }
        float max = mv.reduceLanes(VectorOperators.MAX); // exact in any order
        for (; s < count; s++) {
            p[off + s] *= scale;
            max = Math.max(max, p[off + s]);
        }
        float total = VectorMath.expShiftSum(p, off, off + Math.max(vEnd, count), max);
        float inv = 1f / total;
        FloatVector iv = FloatVector.broadcast(S, inv);
        for (s = 0; s < vEnd; s += L) FloatVector.fromArray(S, p, off + s).mul(iv).intoArray(p, off + s);
        for (; s < count; s++) p[off + s] *= inv;
        java.util.Arrays.fill(p, off + Math.max(vEnd, count), off + seqLen, 0f);
    }

    /**
     * Row {@code ds[off, off + T)} from dP to dS (times the score scale), zero past {@code count}.
     * Whole vectors may run past {@code count}: P is exactly 0 there and dP finite, so those lanes
     * add nothing to the dot product and come out 0.
     */
    private void softmaxBackward(float[] ds, int off, float[] p, int pOff, int count) {
        int vEnd = Math.min((count + L - 1) / L * L, seqLen / L * L);
        FloatVector acc = FloatVector.zero(S);
        int s = 0;
        for (; s < vEnd; s += L) {
            acc = FloatVector.fromArray(S, p, pOff + s).fma(FloatVector.fromArray(S, ds, off + s), acc);
        }
        for (int h = L / 2; h >= 1; h /= 2) acc = acc.add(acc.slice(h)); // a fixed tree, see VectorMath
        float dot = acc.lane(0);
        for (; s < count; s++) dot = Math.fma(p[pOff + s], ds[off + s], dot);
        FloatVector dv = FloatVector.broadcast(S, dot);
        FloatVector sc = FloatVector.broadcast(S, scale);
        for (s = 0; s < vEnd; s += L) {
            FloatVector.fromArray(S, p, pOff + s).mul(FloatVector.fromArray(S, ds, off + s).sub(dv)).mul(sc)
                    .intoArray(ds, off + s);
        }
        for (; s < count; s++) ds[off + s] = p[pOff + s] * (ds[off + s] - dot) * scale;
        java.util.Arrays.fill(ds, off + Math.max(vEnd, count), off + seqLen, 0f);
    }
}
