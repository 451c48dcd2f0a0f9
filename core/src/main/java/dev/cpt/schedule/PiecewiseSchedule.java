package dev.cpt.schedule;

import java.util.Arrays;

/**
 * Piecewise constant: the value of the first piece whose end step is above {@code t}.
 * SlimPajama-DC's progressive weight decay (0 → 0.5 → 0.1 by thirds) is one.
 *
 * @param untilSteps strictly increasing exclusive end steps; the last is at least {@code span}
 */
public record PiecewiseSchedule(long[] untilSteps, double[] values, long span) implements Schedule {

    public PiecewiseSchedule {
        if (untilSteps.length == 0 || untilSteps.length != values.length) {
            throw new IllegalArgumentException("need one value per piece and at least one piece");
        }
        for (int i = 1; i < untilSteps.length; i++) {
            if (untilSteps[i] <= untilSteps[i - 1]) {
                throw new IllegalArgumentException("piece ends must increase: " + Arrays.toString(untilSteps));
            }
        }
        if (untilSteps[untilSteps.length - 1] < span) {
            throw new IllegalArgumentException("the last piece ends at step " + untilSteps[untilSteps.length - 1]
                    + ", before the span's " + span + " steps");
        }
        untilSteps = untilSteps.clone();
        values = values.clone();
    }

    /** A copy: the schedule's own ends cannot be changed through it. */
    @Override
    public long[] untilSteps() {
        return untilSteps.clone();
    }

    /** A copy: the schedule's own values cannot be changed through it. */
    @Override
    public double[] values() {
        return values.clone();
    }

    @Override
    public double at(long t) {
        for (int i = 0; i < untilSteps.length; i++) {
            if (t < untilSteps[i]) return values[i];
        }
        return values[values.length - 1];
    }
}
