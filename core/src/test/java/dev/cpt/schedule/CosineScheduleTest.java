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
 * PAPER.md "Schedules": η(t) = from + (max − from)·t/W for t ≤ W, then
 * min + (max − min)/2·(1 + cos(π(t − W)/(T − W))). Paper values: max 3e-4, min 3e-5, W = 1% of T.
 * Expected numbers were computed by hand (python3) from the formula, not by the code under test.
 */
class CosineScheduleTest {

    /** T = 1000, W = round(0.01 · 1000) = 10. */
    private final Schedule paper = new CosineSchedule(MAX, MIN, 10, 0.0, T);

    /** Largest decay per step: (max − min)/2 · π/(T − W) = 2.7e-4/2 · π/990 = 4.283989982e-7. */
    private static final double DECAY_SLOPE = 4.283989982167899e-7;

    @Test
    void warmupRisesLinearlyFromZeroToMax() {
        assertAt(paper, 0, 0.0);       // 3e-4 · 0/10
        assertAt(paper, 1, 3e-5);      // 3e-4 · 1/10
        assertAt(paper, 5, 1.5e-4);    // 3e-4 · 5/10
        assertAt(paper, 9, 2.7e-4);    // 3e-4 · 9/10
        assertAt(paper, 10, 3e-4);     // t = W: max
    }

    @Test
    void cosineDecayInsideTheSpan() {
        // t = 11: p = 1/990; 3e-5 + 1.35e-4·(1 + cos(π/990))
        assertAt(paper, 11, 2.9999932027574935e-4);
        // t = 160: p = 150/990; 3e-5 + 1.35e-4·(1 + cos(0.151515…π))
        assertAt(paper, 160, 2.8499278556841465e-4);
        // t = 340: p = 1/3, cos(π/3) = 0.5: 3e-5 + 1.35e-4·1.5 = 2.325e-4
        assertAt(paper, 340, 2.325e-4);
        // t = 505: p = 1/2, cos(π/2) = 0: 3e-5 + 1.35e-4 = 1.65e-4
        assertAt(paper, 505, 1.65e-4);
        // t = 670: p = 2/3, cos(2π/3) = −0.5: 3e-5 + 1.35e-4·0.5 = 9.75e-5
        assertAt(paper, 670, 9.75e-5);
        // t = 999 (last update): p = 989/990; 3e-5 + 1.35e-4·(1 + cos(989π/990))
        assertAt(paper, 999, 3.0000679724250607e-5);
    }

    @Test
    void reachesMinOnePastTheLastUpdate() {
        assertAt(paper, 1000, MIN);    // p = 1, cos π = −1
        assertThat(paper.at(999)).isGreaterThan(MIN);
    }

    @Test
    void continuousAtTheWarmupEndAndDecreasingWithBoundedSlope() {
        // at(10) = max is the decay's value at p = 0; the first decay step moves it by far less than a slope.
        assertContinuousAfter(paper, 10, DECAY_SLOPE);
        assertDecreasingWithSlopeAtMost(paper, 10, 1000, DECAY_SLOPE);
    }

    @Test
    void withoutWarmupStartsAtMax() {
        Schedule s = new CosineSchedule(MAX, MIN, 0, 0.0, T);
        assertAt(s, 0, 3e-4);                         // p = 0
        assertAt(s, 1, 2.999993338022508e-4);         // 3e-5 + 1.35e-4·(1 + cos(π/1000))
        assertAt(s, 250, 2.604594154601839e-4);       // 3e-5 + 1.35e-4·(1 + √2/2)
        assertAt(s, 500, 1.65e-4);                    // 3e-5 + 1.35e-4
        assertAt(s, 750, 6.954058453981609e-5);       // 3e-5 + 1.35e-4·(1 − √2/2)
        assertAt(s, 999, 3.000066619774914e-5);       // 3e-5 + 1.35e-4·(1 + cos(999π/1000))
        assertAt(s, 1000, 3e-5);
        // (max − min)/2 · π/1000 = 4.2411500823e-7 per step at most
        assertDecreasingWithSlopeAtMost(s, 0, 1000, 4.2411500823462205e-7);
    }

    @Test
    void warmupFromANonZeroValue() {
        Schedule s = new CosineSchedule(MAX, MIN, 10, 3e-5, T);
        assertAt(s, 0, 3e-5);                    // from
        assertAt(s, 1, 5.7e-5);                  // 3e-5 + 2.7e-4 · 1/10
        assertAt(s, 5, 1.65e-4);                 // 3e-5 + 2.7e-4 · 5/10
        assertAt(s, 10, 3e-4);                   // max at t = W
        assertAt(s, 340, 2.325e-4);              // the decay does not depend on where warmup started
        assertAt(s, 1000, 3e-5);
        assertContinuousAfter(s, 10, DECAY_SLOPE);
    }

    @Test
    void warmupCoveringTheWholeSpanNeverDividesByZero() {
        Schedule s = new CosineSchedule(MAX, MIN, 1000, 0.0, T);
        assertAt(s, 500, 1.5e-4);                // 3e-4 · 500/1000
        assertAt(s, 1000, 3e-4);
    }

    @Test
    void warmupFractionRoundsToTheNearestStep() {
        assertThat(bind("{\"type\":\"cosine\",\"max\":3e-4,\"min\":3e-5,\"warmup\":0.01}", T))
                .isEqualTo(new CosineSchedule(MAX, MIN, 10, 0.0, T));       // 0.01 · 1000 = 10
        assertThat(bind("{\"type\":\"cosine\",\"max\":3e-4,\"min\":3e-5,\"warmup\":0.0125}", T))
                .isEqualTo(new CosineSchedule(MAX, MIN, 13, 0.0, T));       // Math.round(12.5) = 13
        assertThat(bind("{\"type\":\"cosine\",\"max\":3e-4,\"min\":3e-5,\"warmup\":0.0124}", T))
                .isEqualTo(new CosineSchedule(MAX, MIN, 12, 0.0, T));       // Math.round(12.4) = 12
        assertThat(bind("{\"type\":\"cosine\",\"max\":3e-4,\"min\":3e-5,\"warmupSteps\":7,\"warmupFrom\":1e-5}", T))
                .isEqualTo(new CosineSchedule(MAX, MIN, 7, 1e-5, T));
        assertThat(bind("{\"type\":\"cosine\",\"max\":3e-4,\"min\":3e-5}", T))
                .isEqualTo(new CosineSchedule(MAX, MIN, 0, 0.0, T));        // no warmup by default
    }

    @Test
    void rejectsPhasesLongerThanTheSpan() {
        assertThatThrownBy(() -> new CosineSchedule(MAX, MIN, 1001, 0.0, T))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1001").hasMessageContaining("1000");
        assertThatThrownBy(() -> new CosineSchedule(MAX, MIN, -1, 0.0, T))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        assertThatThrownBy(() -> new CosineSchedule(MAX, MIN, 0, 0.0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("span");

        Problems p = new Problems();
        assertThat(spec("{\"type\":\"cosine\",\"max\":3e-4,\"min\":3e-5,\"warmupSteps\":1001}").bind(T, "lr", p)).isNull();
        assertThat(p.all()).extracting(Object::toString)
                .containsExactly("lr: phases take 1001 steps (warmup 1001) but the span has only 1000");
    }
}
