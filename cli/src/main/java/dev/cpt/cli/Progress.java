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
