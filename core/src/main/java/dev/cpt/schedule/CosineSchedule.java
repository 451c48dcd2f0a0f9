package dev.cpt.schedule;

/**
 * Linear warmup over {@code warmup} steps, then half a cosine from {@code max} down to
 * {@code min}, reached at {@code t = span}:
 * {@code η(t) = min + (max − min)/2 · (1 + cos(π (t − W)/(T − W)))}.
 */
public record CosineSchedule(double max, double min, long warmup, double warmupFrom, long span)
        implements Schedule {

    public CosineSchedule {
        Phases.check(span, warmup);
    }

    @Override
    public double at(long t) {
        Warmup w = new Warmup(warmup, warmupFrom, max);
        if (w.covers(t)) return w.at(t);
        double progress = (double) (t - warmup) / (span - warmup);
        return Decay.COSINE.value(max, min, progress);
    }
}
