package dev.cpt.spec;

/**
 * A phase of a schedule given either as a fraction of the span ({@code warmup: 0.01}) or in
 * steps ({@code warmupSteps: 10}). Fractions round to the nearest step.
 */
final class PhaseLength {
    private PhaseLength() {}

    static void validate(String path, String name, Double fraction, Long steps, boolean required, Problems p) {
        String fractionPath = Problems.child(path, name);
        String stepsPath = Problems.child(path, name + "Steps");
        if (fraction != null && steps != null) {
            p.add(fractionPath, "give " + name + " (a fraction of the span) or " + name + "Steps, not both");
        } else if (fraction == null && steps == null && required && !p.coveredBy(stepsPath)) {
            p.addUnlessCovered(fractionPath, "missing: give " + name + " (a fraction of the span) or " + name + "Steps");
        }
        p.within(fractionPath, fraction, 0, 1);
        p.nonNegative(stepsPath, steps);
    }

    static long steps(Double fraction, Long steps, long span) {
        if (steps != null) return steps;
        if (fraction != null) return Math.round(fraction * span);
        return 0;
    }

    /** Smallest step count {@code k} with {@code t < k ⟺ t/span < fraction}, forgiving rounding noise. */
    static long ceilSteps(double fraction, long span) {
        double x = fraction * span;
        return (long) Math.ceil(x - 1e-9 * Math.max(1, Math.abs(x)));
    }

    /** Reports phases that do not fit into the span. */
    static boolean fit(String path, long span, Problems p, String[] names, long... lengths) {
        long sum = 0;
        StringBuilder parts = new StringBuilder();
        for (int i = 0; i < lengths.length; i++) {
            sum += lengths[i];
            if (lengths[i] > 0) parts.append(parts.isEmpty() ? "" : " + ").append(names[i]).append(' ').append(lengths[i]);
        }
        if (sum > span) {
            p.add(path, "phases take " + sum + " steps (" + parts + ") but the span has only " + span);
            return false;
        }
        return true;
    }
}
