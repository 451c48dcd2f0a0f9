package dev.cpt.schedule;

import static dev.cpt.schedule.ScheduleAsserts.MAX;
import static dev.cpt.schedule.ScheduleAsserts.MIN;
import static dev.cpt.schedule.ScheduleAsserts.T;
import static dev.cpt.schedule.ScheduleAsserts.assertAt;
import static dev.cpt.schedule.ScheduleAsserts.assertContinuousAfter;
import static dev.cpt.schedule.ScheduleAsserts.assertDecreasingWithSlopeAtMost;
import static dev.cpt.schedule.ScheduleAsserts.bind;
import static dev.cpt.schedule.ScheduleAsserts.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.spec.Problems;
import org.junit.jupiter.api.Test;

/**
 * Linear warmup, then a straight line max + (min − max)·(t − W)/(T − W), reaching min at t = T.
 * Expected numbers were computed by hand (python3) from the formula, not by the code under test.
 */
class LinearScheduleTest {

    /** T = 1000, W = 10 (1%). */
    private final Schedule paper = new LinearSchedule(MAX, MIN, 10, 0.0, T);

    /** Decay per step: (max − min)/(T − W) = 2.7e-4/990. */
    private static final double SLOPE = 2.7272727272727274e-7;

    @Test
    void warmupRisesLinearlyFromZeroToMax() {
        assertAt(paper, 0, 0.0);
        assertAt(paper, 1, 3e-5);       // 3e-4 · 1/10
        assertAt(paper, 5, 1.5e-4);     // 3e-4 · 5/10
        assertAt(paper, 10, 3e-4);
    }

    @Test
    void straightLineDecayInsideTheSpan() {
        assertAt(paper, 11, 2.997272727272727e-4);    // 3e-4 − 2.7e-4 · 1/990
        assertAt(paper, 160, 2.5909090909090907e-4);  // 3e-4 − 2.7e-4 · 150/990
        assertAt(paper, 340, 2.1e-4);                 // 3e-4 − 2.7e-4 · 1/3
        assertAt(paper, 505, 1.65e-4);                // 3e-4 − 2.7e-4 · 1/2
        assertAt(paper, 670, 1.2e-4);                 // 3e-4 − 2.7e-4 · 2/3
        assertAt(paper, 999, 3.0272727272727255e-5);  // 3e-4 − 2.7e-4 · 989/990
        assertAt(paper, 1000, 3e-5);                  // min one past the last update
    }

    @Test
    void continuousAtTheWarmupEndWithAConstantSlope() {
        assertContinuousAfter(paper, 10, SLOPE);
        assertDecreasingWithSlopeAtMost(paper, 10, 1000, SLOPE);
        // Every decay step is the same: a straight line.
        for (long t = 10; t < 1000; t++) {
            assertThat(paper.at(t) - paper.at(t + 1)).isCloseTo(SLOPE, org.assertj.core.api.Assertions.within(1e-18));
        }
    }

    @Test
    void withoutWarmupStartsAtMax() {
        Schedule s = new LinearSchedule(MAX, MIN, 0, 0.0, T);
        assertAt(s, 0, 3e-4);
        assertAt(s, 1, 2.9973e-4);        // 3e-4 − 2.7e-4 · 1/1000
        assertAt(s, 250, 2.325e-4);       // 3e-4 − 2.7e-4 · 1/4
        assertAt(s, 500, 1.65e-4);        // 3e-4 − 2.7e-4 · 1/2
        assertAt(s, 999, 3.027e-5);       // 3e-4 − 2.7e-4 · 999/1000
        assertAt(s, 1000, 3e-5);
        assertDecreasingWithSlopeAtMost(s, 0, 1000, 2.7e-7);   // 2.7e-4/1000 per step
    }

    @Test
    void warmupFromANonZeroValue() {
        Schedule s = new LinearSchedule(MAX, MIN, 10, 3e-5, T);
        assertAt(s, 0, 3e-5);
        assertAt(s, 1, 5.7e-5);           // 3e-5 + 2.7e-4 · 1/10
        assertAt(s, 5, 1.65e-4);          // 3e-5 + 2.7e-4 · 5/10
        assertAt(s, 10, 3e-4);
        assertAt(s, 505, 1.65e-4);        // the decay is unchanged
        assertContinuousAfter(s, 10, SLOPE);
    }

    @Test
    void warmupFractionRoundsToTheNearestStep() {
        assertThat(bind("{\"type\":\"linear\",\"max\":3e-4,\"min\":3e-5,\"warmup\":0.01}", T))
                .isEqualTo(new LinearSchedule(MAX, MIN, 10, 0.0, T));
        assertThat(bind("{\"type\":\"linear\",\"max\":3e-4,\"min\":3e-5,\"warmup\":0.005}", 100))
                .isEqualTo(new LinearSchedule(MAX, MIN, 1, 0.0, 100));   // Math.round(0.5) = 1
    }

    @Test
    void rejectsPhasesLongerThanTheSpan() {
        assertThatThrownBy(() -> new LinearSchedule(MAX, MIN, 1001, 0.0, T))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1001");
        assertThatThrownBy(() -> new LinearSchedule(MAX, MIN, 10, 0.0, -5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("span");

        Problems p = new Problems();
        // round(1.0 · 1000) = 1000 fits; warmupSteps 1200 does not
        assertThat(spec("{\"type\":\"linear\",\"max\":3e-4,\"min\":3e-5,\"warmupSteps\":1200}").bind(T, "stages[0].lr", p))
                .isNull();
        assertThat(p.all()).extracting(Object::toString)
                .containsExactly("stages[0].lr: phases take 1200 steps (warmup 1200) but the span has only 1000");
    }
}
