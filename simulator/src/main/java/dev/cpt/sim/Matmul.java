package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The three products of a linear layer {@code y = x·Wᵀ + b} (W stored [out, in]):
 * forward {@code y = x·Wᵀ + b}, input gradient {@code dx = dy·W}, weight gradient
 * {@code dW += dyᵀ·x}. All three run on one kernel, {@code C = A·B}, in the "broadcast" form: a
 * scalar of A times a row vector of B, accumulated into a register tile of C. That form needs no
 * horizontal sums, but wants B's rows along C's columns: the forward therefore multiplies by a
 * transposed copy of W (refreshed once per optimizer step, see {@link GptModel}); the weight
 * gradient reads dy transposed through its strides (a scalar of A at a time, so any stride is fine).
 *
 * <p>Blocking: K is cut into blocks of {@link #KC} so that the B block under one column tile
 * ({@code KC × TILE} floats, 16 KiB with 512-bit vectors) stays in L1 while every row tile of the
 * thread's rows streams past it. The register tile is {@link #MR} rows × {@link #NV} vectors (16
 * accumulators, plus 4 B vectors and a broadcast: 21 of AVX-512's 32 registers).
 *
 * <p>Determinism: threads own disjoint rows of C, and every element of C is computed by the same
 * operations in the same order (initial value, one fused multiply-add per k in increasing k, a store
 * after each K block) whichever kernel or thread computes it, so results are bit-identical for any
 * thread count.
 */
final class Matmul {
    private Matmul() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 4;
    static final int NV = 4;
    static final int TILE = NV * L;
    static final int KC = 64;

    private static final int ZERO = 0;
    private static final int LOAD = 1;
    private static final int BIAS = 2;

    /** {@code out[rows × outDim] = in[rows × inDim] · wT[inDim × outDim] + bias} ({@code biasOff < 0}: no bias). */
    static void forward(Workers w, float[] out, int outOff, float[] in, int inOff, float[] wT, int wTOff,
                        float[] bias, int biasOff, int rows, int inDim, int outDim) {
        gemm(w, out, outOff, in, inOff, inDim, 1, wT, wTOff, bias, biasOff, rows, outDim, inDim, false);
    }

    /** {@code dIn[rows × inDim] = dOut[rows × outDim] · W[outDim × inDim]} (overwrites dIn). */
    static void backwardInput(Workers w, float[] dIn, int dInOff, float[] dOut, int dOutOff, float[] weight, int wOff,
                              int rows, int inDim, int outDim) {
        gemm(w, dIn, dInOff, dOut, dOutOff, outDim, 1, weight, wOff, null, -1, rows, inDim, outDim, false);
    }

    /** {@code dW[outDim × inDim] += dOutᵀ · in}, summing over all rows in order. */
    static void backwardWeight(Workers w, float[] dW, int dWOff, float[] dOut, int dOutOff, float[] in, int inOff,
                               int rows, int inDim, int outDim) {
        gemm(w, dW, dWOff, dOut, dOutOff, 1, outDim, in, inOff, null, -1, outDim, inDim, rows, true);
    }

    /** {@code db[outDim] += Σ_rows dOut[row]}; threads own disjoint column ranges, rows are summed in order. */
    static void backwardBias(Workers w, float[] db, int dbOff, float[] dOut, int dOutOff, int rows, int outDim) {
        w.run(outDim, L, (worker, from, to) -> {
            int j = from;
            for (; j + L <= to; j += L) {
                FloatVector acc = FloatVector.fromArray(S, db, dbOff + j);
                for (int r = 0; r < rows; r++) acc = acc.add(FloatVector.fromArray(S, dOut, dOutOff + r * outDim + j));
                acc.intoArray(db, dbOff + j);
            }
            for (; j < to; j++) {
                float acc = db[dbOff + j];
                for (int r = 0; r < rows; r++) acc += dOut[dOutOff + r * outDim + j];
                db[dbOff + j] = acc;
            }
        });
    }

    /**
     * {@code C[m × n] = A·B (+ bias)} or, with {@code accumulate}, {@code C += A·B}. A's element
     * (i, k) is {@code a[aOff + i·ars + k·acs]}; B is row-major [k × n]; C is row-major [m × n].
     * Threads own row ranges (multiples of {@link #MR}); K is walked in blocks of {@link #KC}.
     */
    static void gemm(Workers w, float[] c, int cOff, float[] a, int aOff, int ars, int acs, float[] b, int bOff,
                     float[] bias, int biasOff, int m, int n, int k, boolean accumulate) {
        int first = accumulate ? LOAD : biasOff >= 0 ? BIAS : ZERO;
        w.run(m, MR, (worker, from, to) -> {
            for (int k0 = 0; k0 < k; k0 += KC) {
                block(c, cOff, n, a, aOff + k0 * acs, ars, acs, b, bOff + k0 * n, n, bias, biasOff, from, to, n,
                        Math.min(KC, k - k0), k0 == 0 ? first : LOAD);
            }
        });
    }

    /** Single-threaded {@code C[i0, i1) × [0, n) = A·B} over {@code kc} steps of k, C overwritten. */
    static void block(float[] c, int cOff, int ldc, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                      int i0, int i1, int n, int kc) {
        block(c, cOff, ldc, a, aOff, ars, acs, b, bOff, ldb, null, 0, i0, i1, n, kc, ZERO);
    }

    /**
     * Rows {@code [i0, i1)} of C, all {@code n} columns, over {@code kc} steps of k, starting from
     * {@code mode} (zero, C itself, or the bias row). Column tiles are the outer loop, so the
     * {@code kc × TILE} panel of B under one tile stays in L1 while the row tiles stream past it.
     */
    private static void block(float[] c, int cOff, int ldc, float[] a, int aOff, int ars, int acs, float[] b, int bOff,
                              int ldb, float[] bias, int biasOff, int i0, int i1, int n, int kc, int mode) {
        int j = 0;
        for (; j + TILE <= n; j += TILE) {
            int i = i0;
            for (; i + MR <= i1; i += MR) {
                tile4x4(c, cOff + i * ldc + j, ldc, a, aOff + i * ars, ars, acs, b, bOff + j, ldb, kc, mode, bias, biasOff + j);
            }
            for (; i < i1; i++) {
                tile1x4(c, cOff + i * ldc + j, a, aOff + i * ars, acs, b, bOff + j, ldb, kc, mode, bias, biasOff + j);
            }
        }
        for (; j + 2 * L <= n; j += 2 * L) {
            int i = i0;
            for (; i + MR <= i1; i += MR) {
                tile4x2(c, cOff + i * ldc + j, ldc, a, aOff + i * ars, ars, acs, b, bOff + j, ldb, kc, mode, bias, biasOff + j);
            }
            for (; i < i1; i++) {
                tile1x1(c, cOff + i * ldc + j, a, aOff + i * ars, acs, b, bOff + j, ldb, kc, mode, bias, biasOff + j);
                tile1x1(c, cOff + i * ldc + j + L, a, aOff + i * ars, acs, b, bOff + j + L, ldb, kc, mode, bias, biasOff + j + L);
            }
        }
        for (; j + L <= n; j += L) {
            int i = i0;
            for (; i + MR <= i1; i += MR) {
                tile4x1(c, cOff + i * ldc + j, ldc, a, aOff + i * ars, ars, acs, b, bOff + j, ldb, kc, mode, bias, biasOff + j);
            }
            for (; i < i1; i++) {
                tile1x1(c, cOff + i * ldc + j, a, aOff + i * ars, acs, b, bOff + j, ldb, kc, mode, bias, biasOff + j);
            }
        }
        for (; j < n; j++) {
            for (int i = i0; i < i1; i++) {
                scalar(c, cOff + i * ldc + j, a, aOff + i * ars, acs, b, bOff + j, ldb, kc, mode, bias, biasOff + j);
            }
        }
    }

    private static FloatVector start(int mode, float[] c, int ci, float[] bias, int bi) {
        return switch (mode) {
            case LOAD -> FloatVector.fromArray(S, c, ci);
            case BIAS -> FloatVector.fromArray(S, bias, bi);
            default -> FloatVector.zero(S);
        };
    }

    /** The register tile: 4 rows × 4 vectors of C, over {@code kc} steps of k. */
    private static void tile4x4(float[] c, int ci, int ldc, float[] a, int ai, int ars, int acs, float[] b, int bi,
                                int ldb, int kc, int mode, float[] bias, int biasi) {
        int c1 = ci + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector c00 = start(mode, c, ci, bias, biasi);
        FloatVector c01 = start(mode, c, ci + L, bias, biasi + L);
        FloatVector c02 = start(mode, c, ci + 2 * L, bias, biasi + 2 * L);
        FloatVector c03 = start(mode, c, ci + 3 * L, bias, biasi + 3 * L);
        FloatVector c10 = start(mode, c, c1, bias, biasi);
        FloatVector c11 = start(mode, c, c1 + L, bias, biasi + L);
        FloatVector c12 = start(mode, c, c1 + 2 * L, bias, biasi + 2 * L);
        FloatVector c13 = start(mode, c, c1 + 3 * L, bias, biasi + 3 * L);
        FloatVector c20 = start(mode, c, c2, bias, biasi);
        FloatVector c21 = start(mode, c, c2 + L, bias, biasi + L);
        FloatVector c22 = start(mode, c, c2 + 2 * L, bias, biasi + 2 * L);
        FloatVector c23 = start(mode, c, c2 + 3 * L, bias, biasi + 3 * L);
        FloatVector c30 = start(mode, c, c3, bias, biasi);
        FloatVector c31 = start(mode, c, c3 + L, bias, biasi + L);
        FloatVector c32 = start(mode, c, c3 + 2 * L, bias, biasi + 2 * L);
        FloatVector c33 = start(mode, c, c3 + 3 * L, bias, biasi + 3 * L);
        int a0 = ai;
        int a1 = ai + ars;
        int a2 = a1 + ars;
        int a3 = a2 + ars;
        for (int p = 0; p < kc; p++) {
            int bp = bi + p * ldb;
            int ap = p * acs;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            c02 = x.fma(b2, c02);
            c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a[a1 + ap]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            c12 = x.fma(b2, c12);
            c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a[a2 + ap]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            c22 = x.fma(b2, c22);
            c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, a[a3 + ap]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            c32 = x.fma(b2, c32);
            c33 = x.fma(b3, c33);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c03.intoArray(c, ci + 3 * L);
        c10.intoArray(c, c1);
        c11.intoArray(c, c1 + L);
        c12.intoArray(c, c1 + 2 * L);
        c13.intoArray(c, c1 + 3 * L);
        c20.intoArray(c, c2);
        c21.intoArray(c, c2 + L);
        c22.intoArray(c, c2 + 2 * L);
        c23.intoArray(c, c2 + 3 * L);
        c30.intoArray(c, c3);
        c31.intoArray(c, c3 + L);
        c32.intoArray(c, c3 + 2 * L);
        c33.intoArray(c, c3 + 3 * L);
    }

    /** 4 rows × 2 vectors: narrow outputs (one attention head) still get 8 independent chains. */
    private static void tile4x2(float[] c, int ci, int ldc, float[] a, int ai, int ars, int acs, float[] b, int bi,
                                int ldb, int kc, int mode, float[] bias, int biasi) {
        int c1 = ci + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector c00 = start(mode, c, ci, bias, biasi);
        FloatVector c01 = start(mode, c, ci + L, bias, biasi + L);
        FloatVector c10 = start(mode, c, c1, bias, biasi);
        FloatVector c11 = start(mode, c, c1 + L, bias, biasi + L);
        FloatVector c20 = start(mode, c, c2, bias, biasi);
        FloatVector c21 = start(mode, c, c2 + L, bias, biasi + L);
        FloatVector c30 = start(mode, c, c3, bias, biasi);
        FloatVector c31 = start(mode, c, c3 + L, bias, biasi + L);
        int a1 = ai + ars;
        int a2 = a1 + ars;
        int a3 = a2 + ars;
        for (int p = 0; p < kc; p++) {
            int bp = bi + p * ldb;
            int ap = p * acs;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[ai + ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + ap]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + ap]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + ap]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c10.intoArray(c, c1);
        c11.intoArray(c, c1 + L);
        c20.intoArray(c, c2);
        c21.intoArray(c, c2 + L);
        c30.intoArray(c, c3);
        c31.intoArray(c, c3 + L);
    }

    /** 4 rows × 1 vector. */
    private static void tile4x1(float[] c, int ci, int ldc, float[] a, int ai, int ars, int acs, float[] b, int bi,
                                int ldb, int kc, int mode, float[] bias, int biasi) {
        int c1 = ci + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector c0 = start(mode, c, ci, bias, biasi);
        FloatVector c1v = start(mode, c, c1, bias, biasi);
        FloatVector c2v = start(mode, c, c2, bias, biasi);
        FloatVector c3v = start(mode, c, c3, bias, biasi);
        int a1 = ai + ars;
        int a2 = a1 + ars;
        int a3 = a2 + ars;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi + p * ldb);
            int ap = p * acs;
            c0 = FloatVector.broadcast(S, a[ai + ap]).fma(b0, c0);
            c1v = FloatVector.broadcast(S, a[a1 + ap]).fma(b0, c1v);
            c2v = FloatVector.broadcast(S, a[a2 + ap]).fma(b0, c2v);
            c3v = FloatVector.broadcast(S, a[a3 + ap]).fma(b0, c3v);
        }
        c0.intoArray(c, ci);
        c1v.intoArray(c, c1);
        c2v.intoArray(c, c2);
        c3v.intoArray(c, c3);
    }

    /** A leftover row against a full column tile. */
    private static void tile1x4(float[] c, int ci, float[] a, int ai, int acs, float[] b, int bi, int ldb, int kc,
                                int mode, float[] bias, int biasi) {
        FloatVector c0 = start(mode, c, ci, bias, biasi);
        FloatVector c1 = start(mode, c, ci + L, bias, biasi + L);
        FloatVector c2 = start(mode, c, ci + 2 * L, bias, biasi + 2 * L);
        FloatVector c3 = start(mode, c, ci + 3 * L, bias, biasi + 3 * L);
        for (int p = 0; p < kc; p++) {
            int bp = bi + p * ldb;
            FloatVector x = FloatVector.broadcast(S, a[ai + p * acs]);
            c0 = x.fma(FloatVector.fromArray(S, b, bp), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bp + L), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, bp + 2 * L), c2);
            c3 = x.fma(FloatVector.fromArray(S, b, bp + 3 * L), c3);
        }
        c0.intoArray(c, ci);
        c1.intoArray(c, ci + L);
        c2.intoArray(c, ci + 2 * L);
        c3.intoArray(c, ci + 3 * L);
    }

    /** One row, one vector: the columns left over after the full tiles. */
    private static void tile1x1(float[] c, int ci, float[] a, int ai, int acs, float[] b, int bi, int ldb, int kc,
                                int mode, float[] bias, int biasi) {
        FloatVector c0 = start(mode, c, ci, bias, biasi);
        for (int p = 0; p < kc; p++) {
            c0 = FloatVector.broadcast(S, a[ai + p * acs]).fma(FloatVector.fromArray(S, b, bi + p * ldb), c0);
        }
        c0.intoArray(c, ci);
    }

    /** The scalar tail: columns past the last full vector; Math.fma keeps the vector lanes' rounding. */
    private static void scalar(float[] c, int ci, float[] a, int ai, int acs, float[] b, int bi, int ldb, int kc,
                               int mode, float[] bias, int biasi) {
        float acc = mode == LOAD ? c[ci] : mode == BIAS ? bias[biasi] : 0f;
        for (int p = 0; p < kc; p++) acc = Math.fma(a[ai + p * acs], b[bi + p * ldb], acc);
        c[ci] = acc;
    }
}
