package dev.cpt.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress as plain lines, for stderr that is not a terminal: one line at the start, one at most
 * every interval while the task runs, and a final one, e.g.
 * {@code sweep main (12 runs): 1,234 / 28,800 steps (4.3%), 412 steps/s, 1 min 07 s left}.
 * Never a carriage return, so a log holds one readable line per interval.
 *
 * <p>The rate is over the last {@link #RATE_WINDOW} or so (a sweep slows down and speeds up as its
 * runs start and finish; a rate since the start would lag behind), counted from the first update
 * or {@link #startAt}, so work done before this process (a resumed run's steps) never inflates it.
 * Time left is what remains at that rate. Lines are written when the task reports progress: a task
 * that makes none prints none until it does or ends.
 */
final class PlainProgress implements Progress.Meter {
    static final Duration RATE_WINDOW = Duration.ofSeconds(30);

    private record Sample(long nanos, long done) {}

    private final PrintWriter out;
    private final String task;
    private final Progress.Unit unit;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    /** Counts at the lines printed so far, oldest first; the first is the baseline until the window passes it. */
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private long total;
    private long done;
    private String note = "";
    private Sample start;
    private long lastLineNanos;
    private boolean closed;

    /** @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime}; a test's own) */
    PlainProgress(PrintWriter out, String task, Progress.Unit unit, long total, Duration interval, LongSupplier nanoClock) {
        if (interval.isNegative() || interval.isZero()) throw new IllegalArgumentException("interval must be positive: " + interval);
        this.out = out;
        this.task = task;
        this.unit = unit;
        this.total = total;
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /** Starts the meter at {@code done} (work finished before): prints the first line; the rate counts from here. */
    synchronized void startAt(long done) {
        if (start != null) return;
        long now = nanoClock.getAsLong();
        this.done = done;
        start = new Sample(now, done);
        samples.add(start);
        print(now, progressLine(now));
    }

    @Override
    public synchronized void stepTo(long done) {
        if (closed) return;
        if (start == null) {
            startAt(done);
            return;
        }
        this.done = done;
        long now = nanoClock.getAsLong();
        if (now - lastLineNanos >= intervalNanos) {
            print(now, progressLine(now));
            samples.add(new Sample(now, done));
        }
    }

    @Override
    public synchronized void maxHint(long total) {
        this.total = total;
    }

    @Override
    public synchronized void note(String note) {
        this.note = note == null ? "" : note.strip();
    }

    /** The final line (average rate and time taken), where the task ever started. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (start == null) return;
        long now = nanoClock.getAsLong();
        double seconds = (now - start.nanos()) / 1e9;
        double rate = seconds > 0 ? (done - start.done()) / (double) unit.size() / seconds : Double.NaN;
        boolean finished = total <= 0 || done >= total;
        print(now, task + ": " + counts() + ", " + rate(rate) + " " + unit.name() + "/s on average, "
                + (finished ? "done in " : "stopped after ") + duration(seconds) + noteSuffix());
    }

    private String progressLine(long now) {
        // The window's start: the newest sample at least RATE_WINDOW old (the baseline while the task is younger).
        while (samples.size() > 1 && now - second().nanos() >= RATE_WINDOW.toNanos()) samples.removeFirst();
        Sample from = samples.getFirst();
        double seconds = (now - from.nanos()) / 1e9;
        // At the first line no time has passed: no rate yet ("n/a"), rather than a rate of zero.
        double rate = seconds > 0 ? (done - from.done()) / (double) unit.size() / seconds : Double.NaN;
        String left;
        if (total > 0 && done >= total) left = "0 s left";
        else if (total > 0 && rate > 0) left = duration((total - done) / (double) unit.size() / rate) + " left";
        else left = "time left n/a";
        return task + ": " + counts() + ", " + rate(rate) + " " + unit.name() + "/s, " + left + noteSuffix();
    }

    private Sample second() {
        var it = samples.iterator();
        it.next();
        return it.next();
    }

    private void print(long now, String line) {
        lastLineNanos = now;
        out.println(line);
        out.flush();
    }

    private String noteSuffix() {
        return note.isEmpty() ? "" : ", " + note;
    }

    private String counts() {
        if (total <= 0) return amount(done) + " " + unit.name();
        return String.format(Locale.ROOT, "%s / %s %s (%.1f%%)", amount(done), amount(total), unit.name(), 100.0 * done / total);
    }

    private String amount(long raw) {
        return unit.size() == 1 ? String.format(Locale.ROOT, "%,d", raw) : String.format(Locale.ROOT, "%,.1f", raw / (double) unit.size());
    }

    /** Three significant figures or so: 412, 41.2, 4.12; "n/a" where there is no rate yet. */
    static String rate(double perSecond) {
        if (Double.isNaN(perSecond) || Double.isInfinite(perSecond)) return "n/a";
        if (perSecond >= 100) return String.format(Locale.ROOT, "%,.0f", perSecond);
        if (perSecond >= 10) return String.format(Locale.ROOT, "%.1f", perSecond);
        return String.format(Locale.ROOT, "%.2f", perSecond);
    }

    /** 42 s, 1 min 07 s, 2 h 05 min (rounded to the second). */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + " s";
        if (s < 3600) return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, s % 3600 / 60);
    }
}
