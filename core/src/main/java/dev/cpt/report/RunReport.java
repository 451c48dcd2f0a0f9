package dev.cpt.report;

import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Share;
import dev.cpt.plan.Stage;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.Json;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.StepRecord;
import dev.cpt.spec.SpecReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * One run's report, written into its run directory: {@code report.md} (the summary's numbers per
 * dataset and the stages), {@code lr.png} (learning rate and weight decay against tokens) and
 * {@code val.png} (every dataset's validation loss against tokens, stage boundaries dashed). An
 * unfinished run (no {@code summary.json} yet) gets its plots and a note instead of the numbers.
 */
public final class RunReport {
    public static final String MARKDOWN = "report.md";
    public static final String LR_PNG = "lr.png";
    public static final String VAL_PNG = "val.png";

    private RunReport() {}

    /** Reads the run in {@code runDir} (spec.json, metrics.jsonl, summary.json if there) and writes its report. */
    public static Path write(Path runDir) throws IOException {
        Path specFile = runDir.resolve("spec.json");
        if (!Files.exists(specFile)) throw new IOException(runDir + " holds no run: it has no spec.json");
        RunPlan plan = RunPlan.of(SpecReader.readStored(specFile), specFile.toString());
        Path summaryFile = runDir.resolve("summary.json");
        RunSummary summary = Files.exists(summaryFile) ? Json.MAPPER.readValue(summaryFile.toFile(), RunSummary.class) : null;
        return write(runDir, plan, summary, MetricsLog.read(runDir.resolve("metrics.jsonl")));
    }

    /** Writes the report of a run whose plan, summary (null if unfinished) and metrics are at hand. */
    public static Path write(Path runDir, RunPlan plan, RunSummary summary, List<StepRecord> metrics) throws IOException {
        var noFigures = Figures.unavailable();
        boolean val = false;
        if (noFigures.isEmpty()) {
            writeSchedules(runDir.resolve(LR_PNG), plan);
            val = writeValidation(runDir.resolve(VAL_PNG), plan, metrics);
        }
        Path md = runDir.resolve(MARKDOWN);
        AtomicFiles.writeString(md, markdown(plan, summary, metrics, val, noFigures.orElse(null)));
        return md;
    }

    private static String markdown(RunPlan plan, RunSummary summary, List<StepRecord> metrics, boolean val, String noFigures) {
        StringBuilder md = new StringBuilder();
        md.append("# Run ").append(plan.spec().name()).append("\n\n");
        md.append(String.format(Locale.ROOT, "%,d steps of %,d tokens (%s tokens) in %d %s.", plan.totalSteps(), plan.tokensPerStep(),
                Charts.tokens(plan.totalSteps() * plan.tokensPerStep()), plan.stages().size(), plan.stages().size() == 1 ? "stage" : "stages"));
        if (summary != null && summary.wallSeconds() != null) {
            md.append(String.format(Locale.ROOT, " Trained in %.1f s (this session).", summary.wallSeconds()));
        }
        md.append("\n\n| stage | steps | tokens | data |\n|---|---:|---:|---|\n");
        for (Stage s : plan.stages()) {
            List<String> shares = new ArrayList<>();
            for (Share sh : s.shares()) {
                shares.add((sh.role() == Share.Role.REPLAY ? "replay " : "") + sh.dataset() + " " + Charts.percent(sh.weight()));
            }
            md.append(String.format(Locale.ROOT, "| %s | %,d–%,d | %s | %s%s |\n", s.name(), s.start(), s.end() - 1,
                    Charts.tokens(s.steps() * plan.tokensPerStep()), String.join(", ", shares),
                    s.resetOptimizer() && s.start() > 0 ? "; optimizer reset" : ""));
        }
        md.append('\n');

        if (summary == null) {
            long last = metrics.isEmpty() ? 0 : metrics.getLast().step();
            md.append("**Unfinished**: no `summary.json` yet; the metrics reach step ").append(last).append(" of ")
              .append(plan.totalSteps()).append(".\n\n");
        } else {
            md.append("| dataset | final loss |");
            for (Stage s : plan.stages()) md.append(" end of ").append(s.name()).append(" |");
            md.append(" forgetting | peak forgetting | adaptation |\n|---|---:|");
            md.append("---:|".repeat(plan.stages().size())).append("---:|---:|---:|\n");
            summary.datasets().forEach((d, x) -> {
                md.append("| ").append(d).append(" | ").append(SweepReport.number(x.finalLoss())).append(" |");
                for (Stage s : plan.stages()) {
                    md.append(' ').append(SweepReport.number(x.stageEndLoss() == null ? null : x.stageEndLoss().get(s.name()))).append(" |");
                }
                md.append(' ').append(SweepReport.number(x.forgetting())).append(" | ").append(SweepReport.number(x.peakForgetting()))
                  .append(" | ").append(SweepReport.number(x.adaptation())).append(" |\n");
            });
            md.append("\nAverage final loss: **").append(SweepReport.number(summary.averageFinalLoss())).append("**. ");
            var w = plan.spec().finalLoss();
            md.append("Losses are validation losses in nats; a final or stage-end loss is the mean over the last ").append(w.lastSteps())
              .append(" steps (of the run, of the stage), sampled every ").append(w.every()).append(".\n\n");
            if (summary.tasks() != null && !summary.tasks().isEmpty()) md.append(benchmarks(plan, summary));
        }
        if (noFigures != null) {
            md.append(Figures.note(noFigures));
            return md.toString();
        }
        md.append("![Learning rate and weight decay](").append(LR_PNG).append(")\n\n");
        if (val) md.append("![Validation loss](").append(VAL_PNG).append(")\n");
        return md.toString();
    }

    /** eval.tasks' metrics at the start and every stage end, and their change: forgetting on benchmarks beside forgetting in loss. */
    static String benchmarks(RunPlan plan, RunSummary summary) {
        boolean stages = plan.stages().size() > 1;
        String first = plan.stages().getFirst().name();
        StringBuilder md = new StringBuilder("| benchmark | metric | start |");
        for (Stage s : plan.stages()) md.append(" end of ").append(s.name()).append(" |");
        md.append(" change from start |");
        if (stages) md.append(" change from end of ").append(first).append(" |");
        md.append("\n|---|---|---:|").append("---:|".repeat(plan.stages().size() + (stages ? 2 : 1))).append('\n');
        summary.tasks().forEach((task, t) -> {
            if (t.end() == null) return;
            for (String key : t.end().keySet()) {
                if (key.contains("_stderr")) continue;
                String metric = key.substring(0, key.indexOf(',') < 0 ? key.length() : key.indexOf(','));
                String stderrKey = metric + "_stderr" + key.substring(metric.length());
                md.append("| ").append(task).append(" | ").append(metric).append(" | ").append(score(t.start(), key, stderrKey)).append(" |");
                for (Stage s : plan.stages()) {
                    md.append(' ').append(score(t.stageEnd() == null ? null : t.stageEnd().get(s.name()), key, stderrKey)).append(" |");
                }
                md.append(' ').append(signed(t.changeFromStart(), key)).append(" |");
                if (stages) md.append(' ').append(signed(t.changeFromFirstStageEnd(), key)).append(" |");
                md.append('\n');
            }
        });
        md.append("\nBenchmarks (`eval.tasks`) are scored as `cpt eval` scores a checkpoint (zero-shot, every item) on the model at"
                + " the start of the run and at each stage's end; ± is the standard error.\n\n");
        return md.toString();
    }

    private static String score(java.util.Map<String, Double> m, String key, String stderrKey) {
        Double v = m == null ? null : m.get(key);
        if (v == null) return "–";
        Double se = m.get(stderrKey);
        return String.format(Locale.ROOT, "%.4f", v) + (se == null ? "" : String.format(Locale.ROOT, " ± %.4f", se));
    }

    private static String signed(java.util.Map<String, Double> m, String key) {
        Double v = m == null ? null : m.get(key);
        return v == null ? "–" : String.format(Locale.ROOT, "%+.4f", v);
    }

    private static void writeSchedules(Path png, RunPlan plan) throws IOException {
        Charts.Curve lrCurve = Charts.schedule(plan, plan::lrAt);
        Charts.Curve wdCurve = Charts.schedule(plan, plan::weightDecayAt);
        double lrMax = Charts.max(lrCurve.y()), wdMax = Charts.max(wdCurve.y());
        int lrE = Charts.exponent(lrMax), wdE = Charts.exponent(wdMax);
        XYChart lr = Charts.chart(plan.spec().name(), "tokens", Charts.axisTitle("learning rate", lrE));
        XYChart wd = Charts.chart(null, "tokens", Charts.axisTitle("weight decay", wdE));
        Charts.line(lr, "learning rate", Charts.scaled(lrCurve, lrE));
        Charts.line(wd, "weight decay", Charts.scaled(wdCurve, wdE));
        double lrTop = lrMax > 0 ? lrMax * Math.pow(10, -lrE) * 1.12 : 1.0;
        double wdTop = wdMax > 0 ? wdMax * Math.pow(10, -wdE) * 1.12 : 1.0;
        lr.getStyler().setYAxisMin(0.0).setYAxisMax(lrTop);
        wd.getStyler().setYAxisMin(0.0).setYAxisMax(wdTop);
        lr.getStyler().setYAxisDecimalPattern(Charts.pattern(0, lrTop));
        wd.getStyler().setYAxisDecimalPattern(Charts.pattern(0, wdTop));
        for (XYChart c : List.of(lr, wd)) {
            c.getStyler().setLegendVisible(false);
            Charts.verticals(c, Charts.boundaries(plan));
        }
        wd.getStyler().setChartTitleVisible(false);
        Charts.stageNames(lr, plan, lrTop * 0.955);
        Charts.save(List.of(lr, wd), png);
    }

    private static boolean writeValidation(Path png, RunPlan plan, List<StepRecord> metrics) throws IOException {
        XYChart chart = Charts.chart("Validation loss: " + plan.spec().name(), "tokens", "validation loss (nats)");
        List<Charts.Curve> curves = new ArrayList<>();
        for (String d : plan.datasetNames()) {
            Charts.Curve c = Charts.validation(metrics, d);
            if (c.isEmpty()) continue;
            XYSeries s = Charts.line(chart, d, c);
            if (c.x().length == 1) s.setMarker(SeriesMarkers.CIRCLE);
            curves.add(c);
        }
        if (curves.isEmpty()) return false;
        double[] range = Charts.fitLossRange(chart, curves);
        Charts.verticals(chart, Charts.boundaries(plan));
        Charts.stageNames(chart, plan, range[1] - (range[1] - range[0]) * 0.04);
        Charts.save(chart, png);
        return true;
    }
}
