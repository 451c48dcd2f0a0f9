package dev.cpt.schedule;

/** Shapes of a decay from {@code from} to {@code to} as {@code progress} goes from 0 to 1. */
public enum Decay {
    LINEAR {
        @Override
        public double value(double from, double to, double progress) {
            return from + (to - from) * progress;
        }
    },
    COSINE {
        @Override
        public double value(double from, double to, double progress) {
            return to + (from - to) / 2 * (1 + Math.cos(Math.PI * progress));
        }
    },
    /** {@code to + (from − to)·(1 − √progress)}: fast at first, as in WSD's "1-sqrt" cooldown. */
    SQRT {
        @Override
        public double value(double from, double to, double progress) {
            return to + (from - to) * (1 - Math.sqrt(progress));
        }
    };

    public abstract double value(double from, double to, double progress);
}
