package dev.cpt.schedule;

import static dev.cpt.schedule.ScheduleAsserts.T;
import static dev.cpt.schedule.ScheduleAsserts.assertConstant;
import static dev.cpt.schedule.ScheduleAsserts.bind;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Constant: the same value at every step, e.g. PAPER.md §6.1's constant η_min 3e-5, weight decay 0.1. */
class ConstantScheduleTest {

    @Test
    void sameValueAtEveryStepIncludingOnePastTheEnd() {
        Schedule s = new ConstantSchedule(3e-5, T);
        assertConstant(s, 0, 1000, 3e-5);
        assertThat(s.span()).isEqualTo(T);
    }

    @Test
    void bindsFromASpec() {
        Schedule s = bind("{\"type\":\"constant\",\"value\":0.1}", 500);
        assertThat(s).isEqualTo(new ConstantSchedule(0.1, 500));
        assertConstant(s, 0, 500, 0.1);
    }
}
