package dev.cpt.cli;

import dev.cpt.metrics.RunSummary;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.StringJoiner;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress on stderr (stdout stays for results) and one-line summaries. On a terminal progress is a
 * bar redrawn in place; anywhere else (a log file, a pipe, CI) it is a plain line every few seconds,
 * since redraws there pile up into one endless line of carriage returns.
 */
final class Progress {
    private Progress() {}

    /** {@code plain}, {@code bar} or {@code auto} (the default: a bar only where stderr is a terminal). */
    static final String STYLE_ENV = "CPT_PROGRESS";
    /** Seconds between plain lines (default 5). */
    static final String INTERVAL_ENV = "CPT_PROGRESS_INTERVAL";
    /**
     * {@code true} or {@code false}: whether the caller's stderr is a terminal, set by the {@code ./cpt}
     * launcher. The JVM cannot see it: the launcher passes stderr through a filter (a pipe), and
     * {@link java.io.Console#isTerminal} looks at stdin and stdout only.
     */
    static final String TERMINAL_PROPERTY = "cpt.stderr.terminal";
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

    enum Style { BAR, PLAIN }

    /** What a meter counts, and how many raw counts make one of it (bytes to MB). */
    record Unit(String name, long size) {
        static final Unit STEPS = new Unit("steps", 1);
        static final Unit REQUESTS = new Unit("requests", 1);
        static final Unit WINDOWS = new Unit("windows", 1);
        static final Unit MB = new Unit("MB", 1_000_000);
    }

    /** One task's progress on stderr; counts are raw (bytes for {@link Unit#MB}). */
    interface Meter extends AutoCloseable {
        void stepTo(long done);

        /** The total, where it becomes known or changes while the task runs. */
        void maxHint(long total);

        /** Shown after the counts until replaced, e.g. {@code "loss 3.214"}; empty for none. */
        void note(String note);

        /** Ends the task's progress: the bar's last draw, or the plain final line. */
        @Override
        void close();
    }

    /** A meter whose rate counts from its first update (a resumed run's first step is not known up front). */
    static Meter meter(PrintWriter err, String task, Unit unit, long total) {
        return switch (style()) {
            case BAR -> new BarMeter(bar(task, unit, total, 0));
            case PLAIN -> new PlainProgress(err, task, unit, total, interval(System.getenv(INTERVAL_ENV)), System::nanoTime);
        };
    }

    /** A meter starting at {@code done} of {@code total} (work finished earlier): its rate counts only what follows. */
    static Meter meterFrom(PrintWriter err, String task, Unit unit, long total, long done) {
        return switch (style()) {
            case BAR -> new BarMeter(bar(task, unit, total, done));
            case PLAIN -> {
                PlainProgress p = new PlainProgress(err, task, unit, total, interval(System.getenv(INTERVAL_ENV)), System::nanoTime);
                p.startAt(done);
                yield p;
            }
        };
    }

    static Style style() {
        java.io.Console console = System.console();
        // Since Java 22 System.console() is there even when the streams are redirected; isTerminal() tells.
        return style(System.getenv(STYLE_ENV), System.getProperty(TERMINAL_PROPERTY), console != null && console.isTerminal());
    }

    /**
     * The style for a {@value #STYLE_ENV} setting (null or blank: auto), what the launcher says of
     * stderr (null where it says nothing), and whether the JVM's console is a terminal.
     */
    static Style style(String setting, String stderrTerminal, boolean consoleIsTerminal) {
        String s = setting == null ? "" : setting.strip().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "plain" -> Style.PLAIN;
            case "bar" -> Style.BAR;
            case "", "auto" -> {
                if ("true".equals(stderrTerminal)) yield Style.BAR;
                if ("false".equals(stderrTerminal)) yield Style.PLAIN;
                yield consoleIsTerminal ? Style.BAR : Style.PLAIN;
            }
            default -> throw new CliException(STYLE_ENV + "=" + setting + ": expected plain, bar or auto");
        };
    }

    /** The plain lines' interval for a {@value #INTERVAL_ENV} setting in seconds (null or blank: 5 s). */
    static Duration interval(String seconds) {
        if (seconds == null || seconds.isBlank()) return DEFAULT_INTERVAL;
        double s;
        try {
            s = Double.parseDouble(seconds.strip());
        } catch (NumberFormatException e) {
            s = Double.NaN;
        }
        if (!(s > 0) || s > 86_400) {
            throw new CliException(INTERVAL_ENV + "=" + seconds + ": expected seconds between plain progress lines, "
                    + "a number above 0 and at most 86400");
        }
        return Duration.ofNanos(Math.round(s * 1e9));
    }

    private static ProgressBar bar(String task, Unit unit, long total, long done) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit.name(), unit.size())
                .setStyle(ProgressBarStyle.ASCII).showSpeed().setUpdateIntervalMillis(500).continuousUpdate()
                .startsFrom(done, Duration.ZERO).setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }

    private record BarMeter(ProgressBar bar) implements Meter {
        @Override
        public void stepTo(long done) {
            bar.stepTo(done);
        }

        @Override
        public void maxHint(long total) {
            bar.maxHint(total);
        }

        @Override
        public void note(String note) {
            bar.setExtraMessage(note.isEmpty() ? "" : " " + note);
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    /** A sweep's progress: made when the sweep starts (titled by {@code title} and its run count), closed by {@link #close}. */
    static final class SweepBar implements dev.cpt.sweep.SweepListener, AutoCloseable {
        private final PrintWriter err;
        private final String title;
        /** What to say after the counts, given the share of this sweep's own work done (0 to 1); null: nothing. */
        private final java.util.function.DoubleFunction<String> context;
        private Meter meter;
        private long startDone;
        private String failed = "";

        SweepBar(PrintWriter err, String title) {
            this(err, title, null);
        }

        SweepBar(PrintWriter err, String title, java.util.function.DoubleFunction<String> context) {
            this.err = err;
            this.title = title;
            this.context = context;
        }

        @Override
        public void sweepStarted(java.util.List<String> variants, long done, long total) {
            startDone = done;
            meter = Progress.meterFrom(err, title.replace("{runs}", variants.size() + " runs"), Unit.STEPS, total, done);
            note(done, total);
        }

        @Override
        public void stepDone(String variant, long variantDone, long done, long total) {
            meter.maxHint(total);
            note(done, total);
            meter.stepTo(done);
        }

        @Override
        public void variantFailed(String variant, String error) {
            failed = failed.isEmpty() ? variant + " failed" : failed + ", " + variant + " failed";
            if (meter != null) meter.note(failed);
        }

        private void note(long done, long total) {
            if (context == null) return;
            // The share of what this invocation trains in this sweep (steps done before it are not its work).
            double share = total > startDone ? Math.clamp((done - startDone) / (double) (total - startDone), 0, 1) : 1;
            String c = context.apply(share);
            meter.note(c == null || c.isEmpty() ? failed : failed.isEmpty() ? c : c + ", " + failed);
        }

        @Override
        public void close() {
            if (meter != null) meter.close();
            meter = null;
        }
    }

    /** A "report: …" line, with why its figures are missing where this machine cannot draw them. */
    static String withFigureNote(String reportLine) {
        return dev.cpt.report.Figures.unavailable()
                .map(reason -> reportLine + " (without figures: Java cannot render text here: " + reason
                        + "; " + dev.cpt.report.Figures.INSTALL + ")")
                .orElse(reportLine);
    }

    static String describe(RunSummary s) {
        StringJoiner j = new StringJoiner("; ");
        s.datasets().forEach((d, x) -> {
            StringBuilder b = new StringBuilder(d).append(" final ").append(fmt(x.finalLoss()));
            if (x.forgetting() != null) b.append(", forgetting ").append(fmt(x.forgetting()));
            if (x.adaptation() != null) b.append(", adaptation ").append(fmt(x.adaptation()));
            j.add(b);
        });
        if (s.averageFinalLoss() != null) j.add("average " + fmt(s.averageFinalLoss()));
        return j.toString();
    }

    private static String fmt(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
    }
}
