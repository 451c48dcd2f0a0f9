package dev.cpt.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ExactBlendTest {

    @Test
    void everyCountStaysWithinOneSequenceOfItsTargetAfterEveryPick() {
        SplittableRandom rnd = new SplittableRandom(3);
        double worst = 0;
        for (int trial = 0; trial < 500; trial++) {
            int k = 1 + rnd.nextInt(7);
            double[] w = new double[k];
            double sum = 0;
            for (int i = 0; i < k; i++) {
                w[i] = Math.pow(rnd.nextDouble(), 3); // skewed, like 1% replay next to 99% new data
                sum += w[i];
            }
            for (int i = 0; i < k; i++) w[i] /= sum;
            ExactBlend blend = new ExactBlend(w);
            long[] c = new long[k];
            for (int n = 1; n <= 3000; n++) {
                c[blend.next()]++;
                for (int i = 0; i < k; i++) worst = Math.max(worst, Math.abs(c[i] - w[i] * n));
            }
        }
        assertThat(worst).isLessThan(1.0);
    }

    @Test
    void onePercentReplayIsExactAtEveryBatchBoundary() {
        ExactBlend blend = new ExactBlend(new double[] {0.99, 0.01});
        long replayed = 0;
        for (int n = 1; n <= 100_000; n++) {
            if (blend.next() == 1) replayed++;
            assertThat(Math.abs(replayed - 0.01 * n)).isLessThan(1.0);
        }
        assertThat(replayed).isEqualTo(1000);
    }

    @Test
    void resumesFromCounts() {
        double[] w = {0.5, 0.3, 0.2};
        ExactBlend a = new ExactBlend(w);
        for (int i = 0; i < 137; i++) a.next();
        ExactBlend b = new ExactBlend(w, a.counts());
        for (int i = 0; i < 500; i++) assertThat(b.next()).isEqualTo(a.next());
    }

    @Test
    void skipsZeroWeights() {
        ExactBlend blend = new ExactBlend(new double[] {0, 1, 0});
        for (int i = 0; i < 10; i++) assertThat(blend.next()).isEqualTo(1);
    }
}
