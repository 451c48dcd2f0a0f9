package dev.cpt.schedule;

/**
 * Linear warmup from {@code from} to {@code to} over {@code steps} steps: the value is
 * {@code from + (to - from) * t / steps} for {@code t <= steps}, so it reaches {@code to} exactly
 * at {@code t = steps}. With {@code from = 0} this is PAPER.md's {@code η_max · t / W}.
 */
record Warmup(long steps, double from, double to) {

    boolean covers(long t) {
        return steps > 0 && t <= steps;
    }

    double at(long t) {
        return from + (to - from) * t / steps;
    }
}
