package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    static final int L = Matmul.L;

    @Test
    void expIsWithinTwoUlpsOfMathExpAndTheScalarMatchesEveryLane() {
        Random rnd = new Random(1);
        float[] x = new float[L * 4096];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 175 - 87);
        x[0] = 0f;
        x[1] = -87f;
        x[2] = 88f;
        x[3] = -1000f;
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += L) VectorMath.exp(FloatVector.fromArray(Matmul.S, x, i)).intoArray(y, i);
        for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).as("lane vs scalar at %s", x[i]).isEqualTo(VectorMath.exp(x[i]));
            if (x[i] < -87f) {
                assertThat(y[i]).isZero();
                continue;
            }
            float exact = (float) Math.exp(x[i]);
            assertThat(Math.abs(y[i] - exact)).as("exp(%s)", x[i]).isLessThanOrEqualTo(2 * Math.ulp(exact));
        }
        assertThat(VectorMath.exp(0f)).isEqualTo(1f);
    }

    @Test
    void sumAddsAllLanes() {
        float[] v = new float[L];
        double want = 0;
        for (int i = 0; i < L; i++) want += v[i] = i + 1;
        assertThat((double) VectorMath.sum(FloatVector.fromArray(Matmul.S, v, 0))).isEqualTo(want);
    }
}
