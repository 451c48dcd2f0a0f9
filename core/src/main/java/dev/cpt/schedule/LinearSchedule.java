package dev.cpt.schedule;

/** Linear warmup over {@code warmup} steps, then a straight line from max to min at {@code t = span}. */
public record LinearSchedule(double max, double min, long warmup, double warmupFrom, long span)
        implements Schedule {

    public LinearSchedule {
        Phases.check(span, warmup);
    }

    @Override
    public double at(long t) {
        Warmup w = new Warmup(warmup, warmupFrom, max);
        if (w.covers(t)) return w.at(t);
        double progress = (double) (t - warmup) / (span - warmup);
        return Decay.LINEAR.value(max, min, progress);
    }
}
