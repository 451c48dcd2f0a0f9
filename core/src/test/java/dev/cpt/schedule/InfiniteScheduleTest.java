package dev.cpt.schedule;

import static dev.cpt.schedule.ScheduleAsserts.CONST;
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

import dev.cpt.schedule.InfiniteSchedule.CooldownShape;
import dev.cpt.spec.Problems;
import org.junit.jupiter.api.Test;

/**
 * PAPER.md §7.2, with the paper's values max 3e-4, const 1.65e-4, min 3e-5, warmup 1% and
 * cooldown 60% of T = 1000, and an anneal over the last 10%: W = 10, C = 600, A = 100, so
 * warmup [0, 10], cooldown (10, 610], constant (610, 900], anneal (900, 1000].
 * Expected numbers were computed by hand (python3) from the formulas, not by the code under test.
 */
class InfiniteScheduleTest {

    private static InfiniteSchedule infinite(long w, long c, long a, CooldownShape shape, double alpha, double from) {
        return new InfiniteSchedule(MAX, CONST, MIN, w, c, a, shape, alpha, from, T);
    }

    private final Schedule cosine = infinite(10, 600, 100, CooldownShape.COSINE, 1.0, 0.0);

    /** Largest cosine-cooldown step: (max − const)/2 · π/C = 1.35e-4/2 · π/600. */
    private static final double COSINE_COOLDOWN_SLOPE = 3.5342917352885166e-7;
    /** Largest anneal step bound: const · ln(const/min)/A = 1.65e-4 · ln 5.5 / 100. */
    private static final double ANNEAL_SLOPE = 2.812834352193402e-6;

    @Test
    void warmupRisesToMax() {
        assertAt(cosine, 0, 0.0);
        assertAt(cosine, 1, 3e-5);       // 3e-4 · 1/10
        assertAt(cosine, 5, 1.5e-4);     // 3e-4 · 5/10
        assertAt(cosine, 10, 3e-4);      // t_cd = W: max
    }

    @Test
    void cosineCooldownFromMaxToConst() {
        // const + (max − const)/2 · (1 + cos(π x)), x = (t − 10)/600, (max − const)/2 = 6.75e-5
        assertAt(cosine, 11, 2.999990747267013e-4);     // x = 1/600
        assertAt(cosine, 160, 2.8022970773009193e-4);   // x = 1/4: 1.65e-4 + 6.75e-5 · (1 + √2/2)
        assertAt(cosine, 310, 2.325e-4);                // x = 1/2: 1.65e-4 + 6.75e-5
        assertAt(cosine, 460, 1.8477029226990804e-4);   // x = 3/4: 1.65e-4 + 6.75e-5 · (1 − √2/2)
        assertAt(cosine, 609, 1.650009252732987e-4);    // x = 599/600
        assertAt(cosine, 610, 1.65e-4);                 // t_const: x = 1, const
    }

    @Test
    void constantPhase() {
        assertConstant(cosine, 610, 900, CONST);        // (610, 900], and 610 ends the cooldown at const
    }

    @Test
    void exponentialAnnealToMin() {
        // const · (min/const)^x, x = (t − 900)/100, min/const = 3e-5/1.65e-4 = 2/11
        assertAt(cosine, 901, 1.6221100585373104e-4);   // x = 0.01
        assertAt(cosine, 925, 1.0774404394472574e-4);   // x = 0.25
        assertAt(cosine, 950, 7.035623639735144e-5);    // x = 0.5: √(1.65e-4 · 3e-5)
        assertAt(cosine, 975, 4.594221470413179e-5);    // x = 0.75
        assertAt(cosine, 999, 3.0515808554097216e-5);   // x = 0.99
        assertAt(cosine, 1000, 3e-5);                   // x = 1: min, one past the last update
    }

    @Test
    void continuousAtEveryPhaseBoundary() {
        assertContinuousAfter(cosine, 10, COSINE_COOLDOWN_SLOPE);   // warmup → cooldown
        assertContinuousAfter(cosine, 610, 0.0);                    // cooldown → constant: no change at all
        assertContinuousAfter(cosine, 900, ANNEAL_SLOPE);           // constant → anneal
        assertDecreasingWithSlopeAtMost(cosine, 10, 610, COSINE_COOLDOWN_SLOPE);
        assertDecreasingWithSlopeAtMost(cosine, 900, 1000, ANNEAL_SLOPE);
        // The first anneal step, by hand: 1.65e-4 · (1 − (2/11)^0.01)
        assertThat(cosine.at(900) - cosine.at(901))
                .isCloseTo(2.7889941462689512e-6, org.assertj.core.api.Assertions.within(1e-15));
    }

    @Test
    void inverseSqrtCooldownWithAlphaOne() {
        Schedule s = infinite(10, 600, 100, CooldownShape.INVSQRT, 1.0, 0.0);
        // max + (const − max)/h(1) · h(x), h(x) = 1/√(1 + x) − 1, h(1) = −0.2928932188
        assertAt(s, 10, 3e-4);                           // end of warmup; h(0) = 0
        assertAt(s, 11, 2.9961638043214764e-4);          // x = 1/600
        assertAt(s, 160, 2.513395042987019e-4);          // x = 1/4: h = 1/√1.25 − 1 = −0.1055728
        // x = 1/2: h = 1/√1.5 − 1 = −0.1835034191; 3e-4 − 1.35e-4 · 0.6265198621 = 2.154198186e-4
        assertAt(s, 310, 2.154198186113172e-4);
        assertAt(s, 460, 1.87503055137324e-4);           // x = 3/4
        assertAt(s, 609, 1.6513588444656287e-4);         // x = 599/600
        assertAt(s, 610, 1.65e-4);                       // x = 1: const
        assertAt(s, 750, 1.65e-4);
        assertAt(s, 950, 7.035623639735144e-5);          // the anneal does not depend on the cooldown shape
        // Steepest at x = 0: (max − const)/|h(1)| · α/2 / C = 1.35e-4/0.2928932 · 0.5/600
        double slope = 3.8409902576697305e-7;
        assertContinuousAfter(s, 10, slope);
        assertContinuousAfter(s, 610, 1e-18);            // equal up to rounding (h(1)/h(1))
        assertDecreasingWithSlopeAtMost(s, 10, 610, slope);
    }

    @Test
    void inverseSqrtCooldownWithOtherAlphas() {
        Schedule steep = infinite(10, 600, 100, CooldownShape.INVSQRT, 4.0, 0.0);
        // h(x) = 1/√(1 + 4x) − 1, h(1) = 1/√5 − 1 = −0.5527864
        assertAt(steep, 11, 2.9918999015917703e-4);
        assertAt(steep, 160, 2.2847041059995338e-4);     // x = 1/4: h = 1/√2 − 1
        assertAt(steep, 310, 1.967816263299649e-4);      // x = 1/2: h = 1/√3 − 1
        assertAt(steep, 460, 1.7789135287969105e-4);
        assertAt(steep, 609, 1.6507288442201945e-4);
        assertAt(steep, 610, 1.65e-4);
        double steepSlope = 8.140576474687262e-7;        // 1.35e-4/0.5527864 · 4/2 / 600
        assertContinuousAfter(steep, 10, steepSlope);
        assertDecreasingWithSlopeAtMost(steep, 10, 610, steepSlope);

        Schedule gentle = infinite(10, 600, 100, CooldownShape.INVSQRT, 0.5, 0.0);
        // h(x) = 1/√(1 + x/2) − 1, h(1) = 1/√1.5 − 1
        assertAt(gentle, 11, 2.996936576526449e-4);
        assertAt(gentle, 160, 2.579256919274046e-4);
        assertAt(gentle, 310, 2.223320781320265e-4);
        assertAt(gentle, 460, 1.9170984786859023e-4);
        assertAt(gentle, 609, 1.651669254208339e-4);
        assertAt(gentle, 610, 1.65e-4);
        assertDecreasingWithSlopeAtMost(gentle, 10, 610, 3.065337980315539e-7);
    }

    @Test
    void withoutAnnealTheRunEndsOnTheConstant() {
        Schedule s = infinite(10, 600, 0, CooldownShape.COSINE, 1.0, 0.0);
        assertAt(s, 310, 2.325e-4);
        assertConstant(s, 610, 1000, CONST);              // the pre-anneal checkpoint is at const
    }

    @Test
    void withoutWarmupTheCooldownStartsAtMax() {
        Schedule s = infinite(0, 600, 100, CooldownShape.COSINE, 1.0, 0.0);
        assertAt(s, 0, 3e-4);                             // x = 0
        assertAt(s, 1, 2.999990747267013e-4);             // x = 1/600
        assertAt(s, 150, 2.8022970773009193e-4);          // x = 1/4
        assertAt(s, 300, 2.325e-4);                       // x = 1/2
        assertAt(s, 599, 1.650009252732987e-4);
        assertAt(s, 600, 1.65e-4);
        assertConstant(s, 600, 900, CONST);
        assertAt(s, 950, 7.035623639735144e-5);
        assertAt(s, 1000, 3e-5);
        assertDecreasingWithSlopeAtMost(s, 0, 600, COSINE_COOLDOWN_SLOPE);

        Schedule inv = infinite(0, 600, 100, CooldownShape.INVSQRT, 1.0, 0.0);
        assertAt(inv, 0, 3e-4);                           // h(0) = 0
        assertAt(inv, 300, 2.154198186113172e-4);         // x = 1/2, as with warmup
    }

    @Test
    void warmupFromANonZeroValue() {
        Schedule s = infinite(10, 600, 100, CooldownShape.COSINE, 1.0, 3e-5);
        assertAt(s, 0, 3e-5);
        assertAt(s, 5, 1.65e-4);                          // 3e-5 + 2.7e-4 · 5/10
        assertAt(s, 10, 3e-4);
        assertAt(s, 310, 2.325e-4);
        assertContinuousAfter(s, 10, COSINE_COOLDOWN_SLOPE);
    }

    @Test
    void phaseFractionsRoundToTheNearestStep() {
        String json = "{\"type\":\"infinite\",\"max\":3e-4,\"const\":1.65e-4,\"min\":3e-5,"
                + "\"warmup\":0.01,\"cooldown\":0.6,\"anneal\":0.1}";
        // round(10.0) = 10, round(600.0) = 600, round(100.0) = 100; shape cosine and alpha 1 by default
        assertThat(bind(json, T)).isEqualTo(infinite(10, 600, 100, CooldownShape.COSINE, 1.0, 0.0));

        String inv = "{\"type\":\"infinite\",\"max\":3e-4,\"const\":1.65e-4,\"min\":3e-5,"
                + "\"warmup\":0.01,\"cooldown\":0.6,\"cooldownShape\":\"invsqrt\",\"alpha\":4}";
        // T = 1234: round(12.34) = 12, round(740.4) = 740, no anneal
        assertThat(bind(inv, 1234)).isEqualTo(
                new InfiniteSchedule(MAX, CONST, MIN, 12, 740, 0, CooldownShape.INVSQRT, 4.0, 0.0, 1234));
    }

    @Test
    void rejectsPhasesLongerThanTheSpanAndABadAlpha() {
        // 10 + 600 + 391 = 1001 > 1000
        assertThatThrownBy(() -> infinite(10, 600, 391, CooldownShape.COSINE, 1.0, 0.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1001").hasMessageContaining("1000");
        assertThat(infinite(10, 600, 390, CooldownShape.COSINE, 1.0, 0.0).at(1000)).isCloseTo(MIN,
                org.assertj.core.api.Assertions.within(1e-15));   // exactly filling the span is fine
        assertThatThrownBy(() -> infinite(10, -1, 100, CooldownShape.COSINE, 1.0, 0.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        assertThatThrownBy(() -> infinite(10, 600, 100, CooldownShape.INVSQRT, 0.0, 0.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alpha");
        assertThatThrownBy(() -> infinite(10, 600, 100, CooldownShape.INVSQRT, -1.0, 0.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alpha");

        Problems p = new Problems();
        String json = "{\"type\":\"infinite\",\"max\":3e-4,\"const\":1.65e-4,\"min\":3e-5,"
                + "\"warmup\":0.01,\"cooldown\":0.6,\"anneal\":0.4}";
        assertThat(spec(json).bind(T, "lr", p)).isNull();
        assertThat(p.all()).extracting(Object::toString).containsExactly(
                "lr: phases take 1010 steps (warmup 10 + cooldown 600 + anneal 400) but the span has only 1000");
    }
}
