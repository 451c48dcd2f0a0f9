package dev.cpt.cli;

import dev.cpt.reproduce.Workload;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * How far a whole {@code cpt reproduce} is, for its progress lines: which part of how many runs now,
 * and how long all of them have left. A full run is ten parts over an hour or two, each with its own
 * progress line; this adds {@code [3/10]} to the line's title and, once a minute of work has shown
 * the pace, {@code about 1 h 05 min left in all}.
 *
 * <p>Work is counted in training FLOPs ({@link Workload}), so that a toy-s step weighs about six
 * toy-xs steps; the pace is the FLOPs done since this invocation started over the time since, which
 * the first parts (JIT warm-up, the smaller model's lower efficiency) make a little rough: "about".
 */
final class ReproduceProgress {
    /** No time left is said before this much work has set the pace. */
    static final long MIN_PACE_NANOS = 60_000_000_000L;

    private final LongSupplier nanoClock;
    private Workload work;
    private long startNanos;
    private int part = -1;

    ReproduceProgress(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** The reproduction starts: what it has to train. */
    void started(Workload work) {
        this.work = work;
        this.startNanos = nanoClock.getAsLong();
        this.part = -1;
    }

    /** The next part starts; returns the prefix of its title, e.g. {@code "[3/10] "}. */
    String nextPart() {
        part++;
        if (work == null) return "";
        return "[" + (part + 1) + "/" + work.parts().size() + "] ";
    }

    /**
     * What to say after the current part's counts when {@code share} (0 to 1) of its work is done:
     * the time all parts have left, or null while the pace is not known yet (or nothing is left to
     * train but this part).
     */
    String context(double share) {
        if (work == null || part < 0 || part >= work.parts().size()) return null;
        double total = work.totalFlops();
        double done = work.flopsBefore(part) + work.flops().get(part) * share;
        long elapsed = nanoClock.getAsLong() - startNanos;
        if (elapsed < MIN_PACE_NANOS || done <= 0 || total <= 0) return null;
        double secondsLeft = (total - done) / (done / (elapsed / 1e9));
        return "about " + PlainProgress.duration(secondsLeft) + " left in all";
    }

    /** One line before the first part: how many parts and training steps there are to go. */
    static String summary(Workload work) {
        java.util.Map<String, Long> byModel = new java.util.LinkedHashMap<>();
        for (int i = 0; i < work.parts().size(); i++) byModel.merge(work.parts().get(i).model().name(), work.steps().get(i), Long::sum);
        long steps = byModel.values().stream().mapToLong(Long::longValue).sum();
        int parts = work.parts().size();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "cpt reproduce: %d part%s, %,d training steps to go",
                parts, parts == 1 ? "" : "s", steps));
        if (byModel.size() > 1) {
            java.util.StringJoiner j = new java.util.StringJoiner(", ", " (", ")");
            byModel.forEach((model, n) -> j.add(String.format(Locale.ROOT, "%s %,d", model, n)));
            line.append(j);
        }
        return line.toString();
    }
}
