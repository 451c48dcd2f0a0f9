package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    static final int L = Matmul.L;

    @Test
    void expIsWithinTwoUlpsOfMathExpAndTheScalarMatchesEveryLane() {
        Random rnd = new Random(1);
        float[] x = new float[L * 4096 + 5]; // and a scalar tail
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 176 - 88);
        x[0] = 0f;
        x[1] = -87f;
        x[2] = 88f;
        x[3] = -1000f;
        x[4] = Float.NEGATIVE_INFINITY;
        float[] y = x.clone();
        VectorMath.exp(y, 0, y.length);
        for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).as("lane vs scalar at %s", x[i]).isEqualTo(VectorMath.exp(x[i]));
            if (x[i] < -87.7f) {
                assertThat(y[i]).isZero();
            } else if (x[i] >= -87f) {
                float exact = (float) Math.exp(x[i]);
                assertThat(Math.abs(y[i] - exact)).as("exp(%s)", x[i]).isLessThanOrEqualTo(2 * Math.ulp(exact));
            }
        }
        assertThat(VectorMath.exp(0f)).isEqualTo(1f);
    }

    @Test
    void expShiftSubtractsTheShiftFirst() {
        float[] a = {3f, 4f, 5f};
        float sum = VectorMath.expShiftSum(a, 0, 3, 5f);
        assertThat(a[2]).isEqualTo(1f);
        assertThat((double) sum).isCloseTo(1 + Math.exp(-1) + Math.exp(-2), org.assertj.core.api.Assertions.within(1e-6));
    }

    @Test
    void sumAddsEveryElement() {
        float[] v = new float[3 * L + 3];
        double want = 0;
        for (int i = 0; i < v.length; i++) want += v[i] = i + 1;
        assertThat((double) VectorMath.sum(v, 0, v.length)).isEqualTo(want);
        assertThat((double) VectorMath.sum(v, 2, 5)).isEqualTo(3 + 4 + 5);
    }
}
