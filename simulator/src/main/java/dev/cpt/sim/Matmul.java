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
 * <p>Blocking (measured on toy-s shapes, one Zen 4 core: 75–100 GFLOP/s of a ~115 peak): K is cut
 * into blocks ({@link #kBlock}) so B's {@code kc × n} block stays in L2; each thread walks its row
 * tiles outermost, so a tile's slice of A stays in L1 while it sweeps B; and B's full column panels
 * are first copied into contiguous {@code kc × TILE} panels ({@link #pack}), which the kernel reads
 * at a constant stride (sequential prefetch, bounds checks hoisted). The register tile is {@link #MR}
 * rows × {@link #NV} vectors: 16 accumulators, plus 4 B vectors and a broadcast, 21 of AVX-512's 32
 * registers. Narrower leftovers (an attention head is 2 vectors wide) use 4×2 and 4×1 tiles, then
 * scalars.
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
    static final int B_BLOCK_BYTES = 256 << 10;
    static final int KC_STRIDED = 256;

    /**
     * Where a tile's accumulators start: C itself ({@code LOAD}, row stride ldc), the bias row
     * ({@code BIAS}, every row the same) or zeros ({@code ZERO}). Tiles take the start as an
     * array, offset and row stride and load it plainly: a helper returning vectors would box them
     * whenever the JIT declines to inline it.
     */
    private static final float[] ZEROS = new float[NV * L];
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

    /**
     * {@code db[outDim] += Σ_rows dOut[row]}; threads own disjoint column ranges, rows are summed in
     * order. Four vectors (a cache line with 512-bit vectors) go down the rows together: four
     * independent sums per row instead of one latency-bound chain.
     */
    static void backwardBias(Workers w, float[] db, int dbOff, float[] dOut, int dOutOff, int rows, int outDim) {
        w.run(outDim, L, (worker, from, to) -> {
            int j = from;
            for (; j + 4 * L <= to; j += 4 * L) {
                FloatVector a0 = FloatVector.fromArray(S, db, dbOff + j);
                FloatVector a1 = FloatVector.fromArray(S, db, dbOff + j + L);
                FloatVector a2 = FloatVector.fromArray(S, db, dbOff + j + 2 * L);
                FloatVector a3 = FloatVector.fromArray(S, db, dbOff + j + 3 * L);
                for (int r = 0; r < rows; r++) {
                    int x = dOutOff + r * outDim + j;
                    a0 = a0.add(FloatVector.fromArray(S, dOut, x));
                    a1 = a1.add(FloatVector.fromArray(S, dOut, x + L));
                    a2 = a2.add(FloatVector.fromArray(S, dOut, x + 2 * L));
                    a3 = a3.add(FloatVector.fromArray(S, dOut, x + 3 * L));
                }
                a0.intoArray(db, dbOff + j);
                a1.intoArray(db, dbOff + j + L);
                a2.intoArray(db, dbOff + j + 2 * L);
                a3.intoArray(db, dbOff + j + 3 * L);
            }
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
     * Threads own row ranges (multiples of {@link #MR}); K is walked in blocks of {@link #kBlock}.
     */
    static void gemm(Workers w, float[] c, int cOff, float[] a, int aOff, int ars, int acs, float[] b, int bOff,
                     float[] bias, int biasOff, int m, int n, int k, boolean accumulate) {
        int first = accumulate ? LOAD : biasOff >= 0 ? BIAS : ZERO;
        int kcMax = kBlock(n, k, acs == 1);
        int panels = n / TILE;
        // B is packed when A's rows are contiguous (forward, input gradient: B is a weight, small and
        // reused by every row tile). The weight gradient's B is a whole activation, read by few row
        // tiles: copying it costs about what contiguous panels save, so it is read in place.
        boolean packB = acs == 1;
        w.run(m, MR, (worker, from, to) -> {
            float[] packed = packB ? w.scratch(worker, kcMax * panels * TILE) : null;
            for (int k0 = 0; k0 < k; k0 += kcMax) {
                int kc = Math.min(kcMax, k - k0);
                int mode = k0 == 0 ? first : LOAD;
                if (packB) {
                    pack(b, bOff + k0 * n, n, kc, panels, packed);
                    packedBlock(c, cOff, n, a, aOff + k0 * acs, ars, acs, packed, b, bOff + k0 * n, bias, biasOff, from, to, n,
                            kc, mode);
                } else {
                    block(c, cOff, n, a, aOff + k0 * acs, ars, acs, b, bOff + k0 * n, n, bias, biasOff, from, to, n, kc, mode);
                }
            }
        });
    }

    /**
     * Copies the full {@link #TILE}-wide column panels of a {@code kc × n} block of B (row stride
     * n) into {@code dst}, each panel contiguous ({@code kc × TILE}): the kernel then reads B
     * sequentially at a constant stride, which the JIT can prove in bounds once per loop.
     */
    private static void pack(float[] b, int bOff, int n, int kc, int panels, float[] dst) {
        for (int q = 0; q < panels; q++) {
            int d = q * kc * TILE;
            for (int p = 0; p < kc; p++) System.arraycopy(b, bOff + p * n + q * TILE, dst, d + p * TILE, TILE);
        }
    }

    /** {@link #block} on packed panels for the full tiles; the columns past them read B as it is. */
    private static void packedBlock(float[] c, int cOff, int ldc, float[] a, int aOff, int ars, int acs, float[] packed,
                                    float[] b, int bOff, float[] bias, int biasOff, int i0, int i1, int n, int kc, int mode) {
        float[] init = mode == LOAD ? c : mode == BIAS ? bias : ZEROS;
        int ir = mode == LOAD ? ldc : 0;
        int full = n / TILE * TILE;
        int i = i0;
        for (; i + MR <= i1; i += MR) {
            int ci = cOff + i * ldc;
            int ai = aOff + i * ars;
            for (int j = 0; j < full; j += TILE) {
                tile4x4p(c, ci + j, ldc, a, ai, ars, acs, packed, j * kc, kc, init, origin(mode, ci + j, biasOff + j), ir);
            }
        }
        for (; i < i1; i++) {
            int ci = cOff + i * ldc;
            int ai = aOff + i * ars;
            for (int j = 0; j < full; j += TILE) {
                tile1x4(c, ci + j, a, ai, acs, packed, j * kc, TILE, kc, init, origin(mode, ci + j, biasOff + j), ir);
            }
        }
        if (full < n) {
            block(c, cOff + full, ldc, a, aOff, ars, acs, b, bOff + full, n, bias, biasOff + full, i0, i1, n - full, kc, mode);
        }
    }

    /** Single-threaded {@code C[i0, i1) × [0, n) = A·B} over {@code kc} steps of k, C overwritten. */
    static void block(float[] c, int cOff, int ldc, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                      int i0, int i1, int n, int kc) {
        block(c, cOff, ldc, a, aOff, ars, acs, b, bOff, ldb, null, 0, i0, i1, n, kc, ZERO);
    }

    /**
     * Rows {@code [i0, i1)} of C, all {@code n} columns, over {@code kc} steps of k, starting from
     * {@code mode} (zero, C itself, or the bias row). Row tiles are the outer loop: a tile's
     * {@code MR × kc} slice of A stays in L1 while it sweeps the {@code kc × n} block of B, which
     * {@link #kBlock} keeps within L2, and each tile of C is loaded and stored once per K block.
     */
    private static void block(float[] c, int cOff, int ldc, float[] a, int aOff, int ars, int acs, float[] b, int bOff,
                              int ldb, float[] bias, int biasOff, int i0, int i1, int n, int kc, int mode) {
        float[] init = mode == LOAD ? c : mode == BIAS ? bias : ZEROS;
        int ir = mode == LOAD ? ldc : 0;
        int i = i0;
        for (; i + MR <= i1; i += MR) {
            int ci = cOff + i * ldc;
            int ai = aOff + i * ars;
            int j = 0;
            for (; j + TILE <= n; j += TILE) tile4x4(c, ci + j, ldc, a, ai, ars, acs, b, bOff + j, ldb, kc, init, origin(mode, ci + j, biasOff + j), ir);
            for (; j + 2 * L <= n; j += 2 * L) tile4x2(c, ci + j, ldc, a, ai, ars, acs, b, bOff + j, ldb, kc, init, origin(mode, ci + j, biasOff + j), ir);
            for (; j + L <= n; j += L) tile4x1(c, ci + j, ldc, a, ai, ars, acs, b, bOff + j, ldb, kc, init, origin(mode, ci + j, biasOff + j), ir);
            for (; j < n; j++) {
                for (int r = 0; r < MR; r++) {
                    scalar(c, ci + r * ldc + j, a, ai + r * ars, acs, b, bOff + j, ldb, kc, init, origin(mode, ci + r * ldc + j, biasOff + j), ir);
                }
            }
        }
        for (; i < i1; i++) {
            int ci = cOff + i * ldc;
            int ai = aOff + i * ars;
            int j = 0;
            for (; j + TILE <= n; j += TILE) tile1x4(c, ci + j, a, ai, acs, b, bOff + j, ldb, kc, init, origin(mode, ci + j, biasOff + j), ir);
            for (; j + L <= n; j += L) tile1x1(c, ci + j, a, ai, acs, b, bOff + j, ldb, kc, init, origin(mode, ci + j, biasOff + j), ir);
            for (; j < n; j++) scalar(c, ci + j, a, ai, acs, b, bOff + j, ldb, kc, init, origin(mode, ci + j, biasOff + j), ir);
        }
    }

    /** The offset in {@code init} where a tile starting at C index {@code ci} (bias index {@code bi}) starts. */
    private static int origin(int mode, int ci, int bi) {
        return mode == LOAD ? ci : mode == BIAS ? bi : 0;
    }

    /**
     * The K block: B's {@code kc × n} block within {@link #B_BLOCK_BYTES} (L2), and, when A is read
     * transposed (each k a different row of A, one cache line per k), at most {@link #KC_STRIDED}
     * so the row tile's lines of A stay in L1 for the next tile. Depends on the shape only, never
     * on the thread count, so every element's sum is cut into the same blocks.
     */
    static int kBlock(int n, int k, boolean aContiguous) {
        int kc = Math.max(32, B_BLOCK_BYTES / (4 * Math.max(1, n)));
        if (!aContiguous) kc = Math.min(kc, KC_STRIDED);
        return Math.min(k, kc);
    }

    /** The register tile: 4 rows × 4 vectors of C, over {@code kc} steps of k. */
    private static void tile4x4(float[] c, int ci, int ldc, float[] a, int ai, int ars, int acs, float[] b, int bi,
                                int ldb, int kc, float[] init, int io, int ir) {
        int c1 = ci + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, init, io);
        FloatVector c01 = FloatVector.fromArray(S, init, io + L);
        FloatVector c02 = FloatVector.fromArray(S, init, io + 2 * L);
        FloatVector c03 = FloatVector.fromArray(S, init, io + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, init, io + ir);
        FloatVector c11 = FloatVector.fromArray(S, init, io + ir + L);
        FloatVector c12 = FloatVector.fromArray(S, init, io + ir + 2 * L);
        FloatVector c13 = FloatVector.fromArray(S, init, io + ir + 3 * L);
        FloatVector c20 = FloatVector.fromArray(S, init, io + 2 * ir);
        FloatVector c21 = FloatVector.fromArray(S, init, io + 2 * ir + L);
        FloatVector c22 = FloatVector.fromArray(S, init, io + 2 * ir + 2 * L);
        FloatVector c23 = FloatVector.fromArray(S, init, io + 2 * ir + 3 * L);
        FloatVector c30 = FloatVector.fromArray(S, init, io + 3 * ir);
        FloatVector c31 = FloatVector.fromArray(S, init, io + 3 * ir + L);
        FloatVector c32 = FloatVector.fromArray(S, init, io + 3 * ir + 2 * L);
        FloatVector c33 = FloatVector.fromArray(S, init, io + 3 * ir + 3 * L);
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

    /** {@link #tile4x4} on a packed panel of B: row stride {@link #TILE}, a constant. */
    private static void tile4x4p(float[] c, int ci, int ldc, float[] a, int ai, int ars, int acs, float[] b, int bi,
                                 int kc, float[] init, int io, int ir) {
        int c1 = ci + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, init, io);
        FloatVector c01 = FloatVector.fromArray(S, init, io + L);
        FloatVector c02 = FloatVector.fromArray(S, init, io + 2 * L);
        FloatVector c03 = FloatVector.fromArray(S, init, io + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, init, io + ir);
        FloatVector c11 = FloatVector.fromArray(S, init, io + ir + L);
        FloatVector c12 = FloatVector.fromArray(S, init, io + ir + 2 * L);
        FloatVector c13 = FloatVector.fromArray(S, init, io + ir + 3 * L);
        FloatVector c20 = FloatVector.fromArray(S, init, io + 2 * ir);
        FloatVector c21 = FloatVector.fromArray(S, init, io + 2 * ir + L);
        FloatVector c22 = FloatVector.fromArray(S, init, io + 2 * ir + 2 * L);
        FloatVector c23 = FloatVector.fromArray(S, init, io + 2 * ir + 3 * L);
        FloatVector c30 = FloatVector.fromArray(S, init, io + 3 * ir);
        FloatVector c31 = FloatVector.fromArray(S, init, io + 3 * ir + L);
        FloatVector c32 = FloatVector.fromArray(S, init, io + 3 * ir + 2 * L);
        FloatVector c33 = FloatVector.fromArray(S, init, io + 3 * ir + 3 * L);
        int a0 = ai;
        int a1 = ai + ars;
        int a2 = a1 + ars;
        int a3 = a2 + ars;
        for (int p = 0; p < kc; p++) {
            int bp = bi + p * TILE;
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
                                int ldb, int kc, float[] init, int io, int ir) {
        int c1 = ci + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, init, io);
        FloatVector c01 = FloatVector.fromArray(S, init, io + L);
        FloatVector c10 = FloatVector.fromArray(S, init, io + ir);
        FloatVector c11 = FloatVector.fromArray(S, init, io + ir + L);
        FloatVector c20 = FloatVector.fromArray(S, init, io + 2 * ir);
        FloatVector c21 = FloatVector.fromArray(S, init, io + 2 * ir + L);
        FloatVector c30 = FloatVector.fromArray(S, init, io + 3 * ir);
        FloatVector c31 = FloatVector.fromArray(S, init, io + 3 * ir + L);
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
                                int ldb, int kc, float[] init, int io, int ir) {
        int c1 = ci + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector c0 = FloatVector.fromArray(S, init, io);
        FloatVector c1v = FloatVector.fromArray(S, init, io + ir);
        FloatVector c2v = FloatVector.fromArray(S, init, io + 2 * ir);
        FloatVector c3v = FloatVector.fromArray(S, init, io + 3 * ir);
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
                                float[] init, int io, int ir) {
        FloatVector c0 = FloatVector.fromArray(S, init, io);
        FloatVector c1 = FloatVector.fromArray(S, init, io + L);
        FloatVector c2 = FloatVector.fromArray(S, init, io + 2 * L);
        FloatVector c3 = FloatVector.fromArray(S, init, io + 3 * L);
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
                                float[] init, int io, int ir) {
        FloatVector c0 = FloatVector.fromArray(S, init, io);
        for (int p = 0; p < kc; p++) {
            c0 = FloatVector.broadcast(S, a[ai + p * acs]).fma(FloatVector.fromArray(S, b, bi + p * ldb), c0);
        }
        c0.intoArray(c, ci);
    }

    /** The scalar tail: columns past the last full vector; Math.fma keeps the vector lanes' rounding. */
    private static void scalar(float[] c, int ci, float[] a, int ai, int acs, float[] b, int bi, int ldb, int kc,
                               float[] init, int io, int ir) {
        float acc = init[io];
        for (int p = 0; p < kc; p++) acc = Math.fma(a[ai + p * acs], b[bi + p * ldb], acc);
        c[ci] = acc;
    }
}
