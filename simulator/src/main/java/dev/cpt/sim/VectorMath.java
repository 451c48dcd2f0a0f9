package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two vector operations whose results would otherwise depend on the JIT: a horizontal sum and
 * exp. {@code reduceLanes(ADD)} adds lanes in an unspecified order — in HotSpot 25 on x86 the
 * interpreter's fallback adds them in sequence, C2 as a tree — and {@code lanewise(EXP)} calls a
 * native vector library in C2 but {@code Math.exp} in the fallback. The same step could then give
 * different bits before and after a method is compiled, so a run resumed in a fresh JVM, or one with
 * another thread count, would drift. These versions use only IEEE-exact operations (add, mul, fma,
 * lane moves, bit shifts), so every JIT tier gives the same bits, and the scalar {@link #exp(float)}
 * does the very same arithmetic as one lane of the vector one.
 */
final class VectorMath {
    private VectorMath() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    /** Sum of the lanes as a fixed tree: halves added pairwise until one lane is left. */
    static float sum(FloatVector v) {
        for (int h = L / 2; h >= 1; h /= 2) v = v.add(v.slice(h));
        return v.lane(0);
    }

    // exp(x) = 2^n · e^r, n = round(x·log2 e), r = x − n·ln 2 (ln 2 split in two for precision),
    // e^r by Cephes' expf polynomial on |r| ≤ ln2/2: about 1 ulp. Below LO the result is 0 (the
    // true value is subnormal); above HI it is clamped (softmax and GELU never get there).
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND = 12582912f;
    private static final float LO = -87f;
    private static final float HI = 88f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(LO).min(HI);
        FloatVector n = xc.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, P0);
        p = p.fma(r, FloatVector.broadcast(S, P1));
        p = p.fma(r, FloatVector.broadcast(S, P2));
        p = p.fma(r, FloatVector.broadcast(S, P3));
        p = p.fma(r, FloatVector.broadcast(S, P4));
        p = p.fma(r, FloatVector.broadcast(S, P5));
        FloatVector y = p.mul(r).mul(r).add(r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector result = y.mul(bits.reinterpretAsFloats());
        return result.blend(0f, x.compare(VectorOperators.LT, LO));
    }

    static float exp(float x) {
        if (x < LO) return 0f;
        float xc = Math.min(x, HI);
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
}
