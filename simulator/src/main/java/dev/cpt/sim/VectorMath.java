package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and sums over arrays, with results that do not depend on the JIT. {@code reduceLanes(ADD)}
 * adds lanes in an unspecified order — in HotSpot 25 on x86 the interpreter's fallback adds them in
 * sequence, C2 as a tree — and {@code lanewise(EXP)} calls a native vector library in C2 but
 * {@code Math.exp} in the fallback. The same step could then give different bits before and after a
 * method is compiled, so a run resumed in a fresh JVM, or one with another thread count, would
 * drift. These use only IEEE-exact operations (add, mul, fma, lane moves, bit shifts), so every JIT
 * tier gives the same bits, and the scalar {@link #exp(float)} does the very same arithmetic as one
 * lane of the vector loop. Lane sums run as a fixed tree: halves added pairwise.
 *
 * <p>Every method takes arrays, never vectors: a vector passed to or returned from a method that
 * C2 does not inline is boxed on the heap (and our methods are too large to be inlined reliably),
 * so all vector code stays inside one method's loops.
 */
final class VectorMath {
    private VectorMath() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    // exp(x) = 2^n · e^r, n = round(x·log2 e), r = x − n·ln 2 (ln 2 split in two for precision),
    // e^r by Cephes' expf polynomial on |r| ≤ ln2/2: within 2 ulp of Math.exp. x is clamped to
    // [LO, HI]; below about −87.68, n = −127 and the power of two's bits are 0, so exp is exactly 0
    // (the true value is below 1e-38), which is also what −∞ (a masked score) gives.
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND = 12582912f;
    private static final float LO = -88f;
    private static final float HI = 88f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /**
     * {@code a[i] = exp(a[i] − shift)} in place for {@code i ∈ [from, to)}; returns their sum (whole
     * vectors from {@code from}, lanes summed as a tree, then the scalar tail in order).
     */
    static float expShiftSum(float[] a, int from, int to, float shift) {
        FloatVector sh = FloatVector.broadcast(S, shift);
        FloatVector lnHi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector lnLo = FloatVector.broadcast(S, -LN2_LO);
        FloatVector acc = FloatVector.zero(S);
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, i).sub(sh).max(LO).min(HI);
            FloatVector n = x.mul(LOG2E).add(ROUND).sub(ROUND);
            FloatVector r = n.fma(lnHi, x);
            r = n.fma(lnLo, r);
            FloatVector p = FloatVector.broadcast(S, P0).fma(r, FloatVector.broadcast(S, P1));
            p = p.fma(r, FloatVector.broadcast(S, P2));
            p = p.fma(r, FloatVector.broadcast(S, P3));
            p = p.fma(r, FloatVector.broadcast(S, P4));
            p = p.fma(r, FloatVector.broadcast(S, P5));
            FloatVector y = p.mul(r).mul(r).add(r).add(1f);
            IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = y.mul(bits.reinterpretAsFloats());
            e.intoArray(a, i);
            acc = acc.add(e);
        }
        for (int h = L / 2; h >= 1; h /= 2) acc = acc.add(acc.slice(h));
        float sum = acc.lane(0);
        for (; i < to; i++) {
            float e = exp(a[i] - shift);
            a[i] = e;
            sum += e;
        }
        return sum;
    }

    /** {@code a[i] = exp(a[i])} in place for {@code i ∈ [from, to)}. */
    static void exp(float[] a, int from, int to) {
        expShiftSum(a, from, to, 0f);
    }

    static float exp(float x) {
        float xc = Math.min(Math.max(x, LO), HI);
        float n = xc * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = P0;
        p = Math.fma(p, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = p * r * r + r + 1f;
        return y * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /** {@code Σ a[from, to)}: whole vectors from {@code from}, lanes as a tree, then the tail in order. */
    static float sum(float[] a, int from, int to) {
        FloatVector acc = FloatVector.zero(S);
        int i = from;
        for (; i + L <= to; i += L) acc = acc.add(FloatVector.fromArray(S, a, i));
        for (int h = L / 2; h >= 1; h /= 2) acc = acc.add(acc.slice(h));
        float sum = acc.lane(0);
        for (; i < to; i++) sum += a[i];
        return sum;
    }
}
