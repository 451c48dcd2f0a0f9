package dev.cpt.schedule;

/** Argument checks shared by the schedules; the spec reports these earlier with JSON paths. */
final class Phases {
    private Phases() {}

    static void check(long span, long... phases) {
        if (span <= 0) throw new IllegalArgumentException("span must be positive, got " + span);
        long sum = 0;
        for (long p : phases) {
            if (p < 0) throw new IllegalArgumentException("phase length must not be negative, got " + p);
            sum += p;
        }
        if (sum > span) {
            throw new IllegalArgumentException("phases take " + sum + " steps but the span has only " + span);
        }
    }
}
