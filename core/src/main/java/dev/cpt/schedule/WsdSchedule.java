package dev.cpt.schedule;

/**
 * Warmup-stable-decay: warmup to {@code max}, stable at {@code max}, then over the last
 * {@code decay} steps a decay to {@code min} (reached at {@code t = span}) of the given shape.
 */
public record WsdSchedule(double max, double min, long warmup, long decay, Decay decayShape,
                          double warmupFrom, long span) implements Schedule {

    public WsdSchedule {
        Phases.check(span, warmup, decay);
    }

    @Override
    public double at(long t) {
        Warmup w = new Warmup(warmup, warmupFrom, max);
        if (w.covers(t)) return w.at(t);
        long decayStart = span - decay;
        if (t <= decayStart || decay == 0) return max;
        double progress = (double) (t - decayStart) / decay;
        return decayShape.value(max, min, progress);
    }
}
