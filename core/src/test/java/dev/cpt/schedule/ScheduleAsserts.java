package dev.cpt.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.cpt.spec.Problems;
import dev.cpt.spec.ScheduleSpec;
import dev.cpt.spec.SpecReader;

/** Shared checks for the schedule tests: hand-computed values, continuity, binding a JSON schedule. */
final class ScheduleAsserts {
    private ScheduleAsserts() {}

    /** Paper-scale learning rates are about 1e-4: 1e-15 is a relative error of about 1e-11. */
    static final double LR_TOLERANCE = 1e-15;

    /** The paper's values (PAPER.md "Schedules", §7.2). */
    static final double MAX = 3e-4;
    static final double MIN = 3e-5;
    static final double CONST = 1.65e-4;
    static final long T = 1000;

    /** {@code s.at(t)} equals a value computed by hand (independently of the code). */
    static void assertAt(Schedule s, long t, double expected) {
        assertThat(s.at(t)).as("at(%d) of %s", t, s).isCloseTo(expected, within(LR_TOLERANCE));
    }

    /**
     * No jump at the boundary between the step {@code b} (last of a phase, whose value is the next
     * phase's left limit) and {@code b + 1} (first of the next phase): the step moves the value by at
     * most {@code slope}, the next phase's largest change per step (computed from its formula).
     */
    static void assertContinuousAfter(Schedule s, long b, double slope) {
        double jump = Math.abs(s.at(b + 1) - s.at(b));
        assertThat(jump).as("|at(%d) - at(%d)| of %s", b + 1, b, s).isLessThanOrEqualTo(slope * (1 + 1e-9));
    }

    /** Every step in {@code [from, to)} moves the value by at most {@code slope}, and never up. */
    static void assertDecreasingWithSlopeAtMost(Schedule s, long from, long to, double slope) {
        for (long t = from; t < to; t++) {
            double d = s.at(t) - s.at(t + 1);
            assertThat(d).as("at(%d) - at(%d) of %s", t, t + 1, s).isBetween(0.0, slope * (1 + 1e-9));
        }
    }

    /** Every step in {@code [from, to]} has exactly {@code value}. */
    static void assertConstant(Schedule s, long from, long to, double value) {
        for (long t = from; t <= to; t++) {
            assertThat(s.at(t)).as("at(%d) of %s", t, s).isEqualTo(value);
        }
    }

    /** Reads a schedule as a spec writes it and binds it to a span; fails on any problem. */
    static Schedule bind(String json, long span) {
        Problems p = new Problems();
        Schedule s = spec(json).bind(span, "lr", p);
        assertThat(p.all()).as("problems binding %s", json).isEmpty();
        assertThat(s).isNotNull();
        return s;
    }

    static ScheduleSpec spec(String json) {
        try {
            return SpecReader.mapper().readValue(json, ScheduleSpec.class);
        } catch (Exception e) {
            throw new AssertionError("cannot read " + json, e);
        }
    }
}
