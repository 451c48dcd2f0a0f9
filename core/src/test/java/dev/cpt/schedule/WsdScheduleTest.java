package dev.cpt.schedule;

import static dev.cpt.schedule.ScheduleAsserts.MAX;
import static dev.cpt.schedule.ScheduleAsserts.MIN;
import static dev.cpt.schedule.ScheduleAsserts.T;
import static dev.cpt.schedule.ScheduleAsserts.assertAt;
import static dev.cpt.schedule.ScheduleAsserts.assertConstant;
import static dev.cpt.schedule.ScheduleAsserts.assertContinuousAfter;
import static dev.cpt.schedule.ScheduleAsserts.assertDecreasingWithSlopeAtMost;
import static dev.cpt.schedule.ScheduleAsserts.bind;
import static dev.cpt.schedule.ScheduleAsserts.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.spec.Problems;
import org.junit.jupiter.api.Test;

/**
 * Warmup-stable-decay over T = 1000 with W = 10 and the last D = 200 steps decaying: warmup [0, 10],
 * stable at max through t = 800 = T − D, then p = (t − 800)/200:
 * linear max + (min − max)p, cosine min + (max − min)/2 (1 + cos πp), sqrt min + (max − min)(1 − √p).
 * Expected numbers were computed by hand (python3) from the formulas, not by the code under test.
 */
class WsdScheduleTest {

    private static WsdSchedule wsd(long w, long d, Decay shape) {
        return new WsdSchedule(MAX, MIN, w, d, shape, 0.0, T);
    }

    /** Decay per step of the linear shape: 2.7e-4/200; largest of the cosine: 2.7e-4/2 · π/200. */
    private static final double LINEAR_SLOPE = 1.35e-6;
    private static final double COSINE_SLOPE = 2.12057504117311e-6;

    @Test
    void warmupThenStableAtMaxThroughTheDecayStart() {
        for (Decay shape : Decay.values()) {
            Schedule s = wsd(10, 200, shape);
            assertAt(s, 0, 0.0);
            assertAt(s, 1, 3e-5);        // 3e-4 · 1/10
            assertAt(s, 5, 1.5e-4);      // 3e-4 · 5/10
            assertAt(s, 10, 3e-4);
            assertConstant(s, 11, 800, MAX);   // stable, t ≤ T − D
            assertContinuousAfter(s, 10, 0.0); // warmup → stable: no jump
        }
    }

    @Test
    void linearDecay() {
        Schedule s = wsd(10, 200, Decay.LINEAR);
        assertAt(s, 801, 2.9865e-4);     // p = 0.005: 3e-4 − 2.7e-4 · 0.005
        assertAt(s, 850, 2.325e-4);      // p = 0.25
        assertAt(s, 900, 1.65e-4);       // p = 0.5
        assertAt(s, 950, 9.75e-5);       // p = 0.75
        assertAt(s, 999, 3.135e-5);      // p = 0.995
        assertAt(s, 1000, 3e-5);         // p = 1
        assertContinuousAfter(s, 800, LINEAR_SLOPE);
        assertDecreasingWithSlopeAtMost(s, 800, 1000, LINEAR_SLOPE);
    }

    @Test
    void cosineDecay() {
        Schedule s = wsd(10, 200, Decay.COSINE);
        assertAt(s, 801, 2.9998334538502416e-4);   // 3e-5 + 1.35e-4 · (1 + cos(0.005π))
        assertAt(s, 850, 2.604594154601839e-4);    // 3e-5 + 1.35e-4 · (1 + √2/2)
        assertAt(s, 900, 1.65e-4);                 // 3e-5 + 1.35e-4
        assertAt(s, 950, 6.954058453981609e-5);    // 3e-5 + 1.35e-4 · (1 − √2/2)
        assertAt(s, 999, 3.001665461497582e-5);
        assertAt(s, 1000, 3e-5);
        assertContinuousAfter(s, 800, COSINE_SLOPE);
        assertDecreasingWithSlopeAtMost(s, 800, 1000, COSINE_SLOPE);
    }

    @Test
    void sqrtDecay() {
        Schedule s = wsd(10, 200, Decay.SQRT);
        // The 1-sqrt shape is continuous (its value at p = 0 is max) but infinitely steep there, so the
        // first step is checked by value: 3e-5 + 2.7e-4 · (1 − √0.005) = 2.809081169e-4.
        assertAt(s, 800, 3e-4);
        assertAt(s, 801, 2.809081169079632e-4);
        assertAt(s, 850, 1.65e-4);                 // p = 0.25: 3e-5 + 2.7e-4 · 0.5
        assertAt(s, 900, 1.0908116907963214e-4);   // p = 0.5: 3e-5 + 2.7e-4 · (1 − √0.5)
        assertAt(s, 950, 6.617314097820157e-5);    // p = 0.75
        assertAt(s, 999, 3.067584586598997e-5);    // p = 0.995
        assertAt(s, 1000, 3e-5);
        assertDecreasingWithSlopeAtMost(s, 800, 1000, 2.7e-4 * Math.sqrt(0.005));   // first step is the steepest
    }

    @Test
    void withoutWarmupOrDecay() {
        Schedule noWarmup = wsd(0, 200, Decay.LINEAR);
        assertConstant(noWarmup, 0, 800, MAX);
        assertAt(noWarmup, 900, 1.65e-4);
        assertAt(noWarmup, 1000, 3e-5);

        Schedule noDecay = wsd(10, 0, Decay.LINEAR);
        assertAt(noDecay, 5, 1.5e-4);
        assertConstant(noDecay, 10, 1000, MAX);    // stable to the end, also one past it

        Schedule allDecay = wsd(0, 1000, Decay.SQRT);
        assertAt(allDecay, 0, 3e-4);
        assertAt(allDecay, 1, 2.9146185031754535e-4);   // 3e-5 + 2.7e-4 · (1 − √0.001)
        assertAt(allDecay, 250, 1.65e-4);               // 3e-5 + 2.7e-4 · (1 − 0.5)
        assertAt(allDecay, 1000, 3e-5);
    }

    @Test
    void warmupFromANonZeroValue() {
        Schedule s = new WsdSchedule(MAX, MIN, 10, 200, Decay.LINEAR, 1e-5, T);
        assertAt(s, 0, 1e-5);
        assertAt(s, 3, 9.7e-5);                    // 1e-5 + 2.9e-4 · 3/10
        assertAt(s, 10, 3e-4);
        assertAt(s, 900, 1.65e-4);
    }

    @Test
    void phaseFractionsRoundToTheNearestStep() {
        assertThat(bind("{\"type\":\"wsd\",\"max\":3e-4,\"min\":3e-5,\"warmup\":0.01,\"decay\":0.2,\"decayShape\":\"sqrt\"}", T))
                .isEqualTo(new WsdSchedule(MAX, MIN, 10, 200, Decay.SQRT, 0.0, T));
        assertThat(bind("{\"type\":\"wsd\",\"max\":3e-4,\"min\":3e-5,\"decay\":0.1}", 1234))   // round(123.4) = 123
                .isEqualTo(new WsdSchedule(MAX, MIN, 0, 123, Decay.LINEAR, 0.0, 1234));
        assertThat(bind("{\"type\":\"wsd\",\"max\":3e-4,\"min\":3e-5,\"decaySteps\":50,\"decayShape\":\"cosine\"}", T))
                .isEqualTo(new WsdSchedule(MAX, MIN, 0, 50, Decay.COSINE, 0.0, T));
    }

    @Test
    void rejectsPhasesLongerThanTheSpan() {
        assertThatThrownBy(() -> wsd(10, 991, Decay.LINEAR))       // 10 + 991 = 1001 > 1000
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1001").hasMessageContaining("1000");
        assertThatThrownBy(() -> wsd(10, -1, Decay.LINEAR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        assertAt(wsd(10, 990, Decay.LINEAR), 10, 3e-4);            // filling the span exactly is fine

        Problems p = new Problems();
        assertThat(spec("{\"type\":\"wsd\",\"max\":3e-4,\"min\":3e-5,\"warmup\":0.5,\"decay\":0.6}").bind(T, "lr", p))
                .isNull();
        assertThat(p.all()).extracting(Object::toString)
                .containsExactly("lr: phases take 1100 steps (warmup 500 + decay 600) but the span has only 1000");
    }
}
