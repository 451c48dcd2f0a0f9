package dev.cpt.cli;

import dev.cpt.metrics.RunSummary;
import java.util.Locale;
import java.util.StringJoiner;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress on stderr (stdout stays for results) and one-line summaries. */
final class Progress {
    private Progress() {}

    static ProgressBar bar(String task, long total) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" steps", 1)
                .setStyle(ProgressBarStyle.ASCII).showSpeed().setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }

    /** A sweep's progress bar: made when the sweep starts (titled by {@code title} and its run count), closed by {@link #close}. */
    static final class SweepBar implements dev.cpt.sweep.SweepListener, AutoCloseable {
        private final String title;
        private ProgressBar bar;

        SweepBar(String title) {
            this.title = title;
        }

        @Override
        public void sweepStarted(java.util.List<String> variants, long done, long total) {
            bar = Progress.bar(title.replace("{runs}", variants.size() + " runs"), total);
            bar.stepTo(done);
        }

        @Override
        public void stepDone(String variant, long variantDone, long done, long total) {
            bar.stepTo(done);
        }

        @Override
        public void variantFailed(String variant, String error) {
            if (bar != null) bar.setExtraMessage(" " + variant + " failed");
        }

        @Override
        public void close() {
            if (bar != null) bar.close();
            bar = null;
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
