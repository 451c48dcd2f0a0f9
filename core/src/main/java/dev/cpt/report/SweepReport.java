package dev.cpt.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Share;
import dev.cpt.plan.Stage;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.Json;
import dev.cpt.spec.FinalLossSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A sweep's report: {@code report.md} with one table row per run, and the plots it shows.
 *
 * <ul>
 *   <li>{@code lr_schedules.png}: every run's learning rate against tokens, overlaid;</li>
 *   <li>{@code val_<dataset>.png}, one per dataset: its validation loss against tokens, one line per
 *       run, stage boundaries dashed (the layout of PAPER.md's Figures 4–10);</li>
 *   <li>{@code forgetting_adaptation.png}: each run's forgetting of the earliest dataset that has
 *       one against its adaptation to the last stage's dataset, labelled by run (when any run has both).</li>
 * </ul>
 * Failed runs are listed with their error; what they recorded before failing is still plotted.
 * Every file is written whole or not at all (temporary file, then rename).
 */
public final class SweepReport {
    public static final String MARKDOWN = "report.md";
    public static final String LR_PNG = "lr_schedules.png";
    public static final String SCATTER_PNG = "forgetting_adaptation.png";

    private SweepReport() {}

    /** The file name of a dataset's validation-loss plot. */
    public static String valPng(String dataset) {
        return "val_" + Charts.safe(dataset) + ".png";
    }

    public static Path write(Path outDir, List<VariantResult> results) throws IOException {
        return write(outDir, null, results);
    }

    /** Writes {@code report.md} and its plots into {@code outDir}; {@code title} is the sweep's name (or null). */
    public static Path write(Path outDir, String title, List<VariantResult> results) throws IOException {
        List<String> datasets = datasets(results);
        List<String[]> images = new ArrayList<>(); // {file, caption}
        String noFigures = Figures.unavailable().orElse(null);
        if (noFigures != null) {
            Path md = outDir.resolve(MARKDOWN);
            AtomicFiles.writeString(md, markdown(title, results, datasets, images) + "\n" + Figures.note(noFigures));
            return md;
        }

        if (!results.isEmpty()) {
            writeSchedules(outDir.resolve(LR_PNG), results);
            images.add(new String[] {LR_PNG, "Learning-rate schedules"});
        }
        Set<String> files = new HashSet<>();
        for (String d : datasets) {
            String file = valPng(d);
            for (int k = 2; !files.add(file); k++) file = "val_" + Charts.safe(d) + "-" + k + ".png";
            if (writeValidation(outDir.resolve(file), d, results)) images.add(new String[] {file, "Validation loss on " + d});
        }
        Pair pair = pair(results);
        if (pair != null && writeScatter(outDir.resolve(SCATTER_PNG), pair, results)) {
            images.add(new String[] {SCATTER_PNG, "Forgetting of " + pair.forgotten + " against adaptation to " + pair.adapted});
        }

        Path md = outDir.resolve(MARKDOWN);
        AtomicFiles.writeString(md, markdown(title, results, datasets, images));
        return md;
    }

    // --- markdown ----------------------------------------------------------------------------

    private static String markdown(String title, List<VariantResult> results, List<String> datasets, List<String[]> images) {
        StringBuilder md = new StringBuilder();
        md.append("# ").append(title != null ? "Sweep " + title : "Sweep report").append("\n\n");
        long failed = results.stream().filter(VariantResult::failed).count();
        md.append(results.size()).append(results.size() == 1 ? " run" : " runs");
        if (failed > 0) md.append(", ").append(failed).append(" failed");
        md.append("; each in `runs/<variant>/`. Losses are validation losses in nats.\n\n");

        List<Column> columns = columns(results, datasets);
        md.append("| variant |");
        for (Column c : columns) md.append(' ').append(c.title).append(" |");
        md.append(" average final loss |\n|---|");
        md.append("---:|".repeat(columns.size())).append("---:|\n");
        Double best = results.stream().map(r -> r.summary() == null ? null : r.summary().averageFinalLoss())
                .filter(Objects::nonNull).min(Double::compare).orElse(null);
        for (VariantResult r : results) {
            md.append("| `").append(r.name()).append('`').append(r.failed() ? " (failed)" : "").append(" |");
            for (Column c : columns) md.append(' ').append(r.summary() == null ? "—" : number(c.value.apply(r.summary()))).append(" |");
            Double avg = r.summary() == null ? null : r.summary().averageFinalLoss();
            String cell = number(avg);
            if (avg != null && avg.equals(best) && results.size() > 1) cell = "**" + cell + "**";
            md.append(' ').append(r.failed() ? "failed" : cell).append(" |\n");
        }
        md.append('\n');
        FinalLossSpec w = results.isEmpty() ? null : results.getFirst().plan().spec().finalLoss();
        if (w != null) {
            md.append("*Final loss*: the mean validation loss over a run's last ").append(w.lastSteps()).append(" steps, sampled every ")
              .append(w.every()).append(". *Forgetting* of a dataset: its final loss minus its loss at the end of the last stage that"
                      + " trained on it (higher: more forgotten). *Adaptation* to a dataset the last stage trains on: its loss before"
                      + " that stage minus its final loss (higher: adapted more). The best average is in bold.\n\n");
        }
        if (columns.stream().anyMatch(c -> c.title.startsWith("Δ "))) {
            md.append("*Benchmarks* (`eval.tasks`): a task's first metric at the end of the run, and *Δ* its change since the end of"
                    + " the first stage (since the start for one stage): forgetting on benchmarks beside forgetting in loss.\n\n");
        }

        if (results.stream().anyMatch(r -> !r.overrides().isEmpty())) {
            md.append("## Variants\n\n| variant | overrides of the base |\n|---|---|\n");
            for (VariantResult r : results) {
                List<String> parts = new ArrayList<>();
                r.overrides().forEach((path, value) -> parts.add("`" + path + "` = `" + json(value) + "`"));
                md.append("| `").append(r.name()).append("` | ").append(parts.isEmpty() ? "(the base)" : String.join(", ", parts).replace("|", "\\|"))
                  .append(" |\n");
            }
            md.append('\n');
        }

        if (failed > 0) {
            md.append("## Failed\n\n");
            for (VariantResult r : results) {
                if (!r.failed()) continue;
                md.append("### `").append(r.name()).append("`\n\n```text\n").append(r.error().strip()).append("\n```\n\n");
            }
        }

        if (!images.isEmpty()) {
            md.append("## Plots\n\n");
            for (String[] img : images) {
                md.append("### ").append(img[1]).append("\n\n![").append(img[1]).append("](").append(img[0]).append(")\n\n");
            }
        }
        return SyntheticDataNotice.prepend(results, md.toString());
    }

    private record Column(String title, Function<RunSummary, Double> value) {}

    /** Final loss of every dataset; forgetting and adaptation where some run has them. */
    private static List<Column> columns(List<VariantResult> results, List<String> datasets) {
        List<Column> cols = new ArrayList<>();
        List<RunSummary> summaries = results.stream().map(VariantResult::summary).filter(Objects::nonNull).toList();
        for (String d : datasets) {
            Function<RunSummary, Double> f = s -> s.datasets().get(d) == null ? null : s.datasets().get(d).finalLoss();
            if (summaries.isEmpty() || summaries.stream().anyMatch(s -> f.apply(s) != null)) cols.add(new Column("final " + d, f));
        }
        for (String d : datasets) {
            Function<RunSummary, Double> f = s -> s.datasets().get(d) == null ? null : s.datasets().get(d).forgetting();
            if (summaries.stream().anyMatch(s -> f.apply(s) != null)) cols.add(new Column("forgetting " + d, f));
        }
        for (String d : datasets) {
            Function<RunSummary, Double> f = s -> s.datasets().get(d) == null ? null : s.datasets().get(d).adaptation();
            if (summaries.stream().anyMatch(s -> f.apply(s) != null)) cols.add(new Column("adaptation " + d, f));
        }
        // Benchmarks: each task's first metric (acc; lambada's perplexity) at the end and its change.
        java.util.Map<String, String> firstMetric = new java.util.LinkedHashMap<>();
        for (RunSummary s : summaries) {
            if (s.tasks() == null) continue;
            s.tasks().forEach((task, t) -> {
                if (t.end() == null || firstMetric.containsKey(task)) return;
                t.end().keySet().stream().filter(k -> !k.contains("_stderr")).findFirst().ifPresent(k -> firstMetric.put(task, k));
            });
        }
        firstMetric.forEach((task, key) -> {
            String label = task + " " + key.substring(0, key.indexOf(',') < 0 ? key.length() : key.indexOf(','));
            cols.add(new Column(label, s -> {
                var t = s.tasks() == null ? null : s.tasks().get(task);
                return t == null || t.end() == null ? null : t.end().get(key);
            }));
            cols.add(new Column("Δ " + label, s -> {
                var t = s.tasks() == null ? null : s.tasks().get(task);
                if (t == null) return null;
                var change = t.changeFromFirstStageEnd() != null ? t.changeFromFirstStageEnd() : t.changeFromStart();
                return change == null ? null : change.get(key);
            }));
        });
        return cols;
    }

    /** Four decimals (losses and their differences in nats), or three significant digits for tiny values. */
    static String number(Double v) {
        if (v == null) return "—";
        if (v != 0 && Math.abs(v) < 0.01 && Double.isFinite(v)) return String.format(Locale.ROOT, "%.3g", v);
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static String json(JsonNode v) {
        try {
            return Json.MAPPER.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            return String.valueOf(v);
        }
    }

    /** Every run's datasets, in the order of the first run that names each. */
    static List<String> datasets(List<VariantResult> results) {
        Set<String> all = new LinkedHashSet<>();
        for (VariantResult r : results) all.addAll(r.plan().datasetNames());
        return List.copyOf(all);
    }

    private static String legend(VariantResult r) {
        return r.failed() ? r.name() + " (failed)" : r.name();
    }

    // --- plots ---------------------------------------------------------------------------------

    private static void writeSchedules(Path png, List<VariantResult> results) throws IOException {
        List<Charts.Curve> curves = new ArrayList<>();
        double max = 0;
        for (VariantResult r : results) {
            Charts.Curve c = Charts.schedule(r.plan(), r.plan()::lrAt);
            max = Math.max(max, Charts.max(c.y()));
            curves.add(c);
        }
        int e = Charts.exponent(max);
        XYChart chart = Charts.chart("Learning rate", "tokens", Charts.axisTitle("learning rate", e));
        // Runs with the same schedule (a replay grid, seeds) share one line, which says how many it stands for.
        boolean[] drawn = new boolean[results.size()];
        for (int i = 0; i < results.size(); i++) {
            if (drawn[i]) continue;
            int same = 0;
            for (int j = i + 1; j < results.size(); j++) {
                if (!drawn[j] && curves.get(i).sameAs(curves.get(j))) {
                    drawn[j] = true;
                    same++;
                }
            }
            String name = legend(results.get(i)) + (same == 0 ? "" : " (+" + same + " alike)");
            Charts.line(chart, name, Charts.scaled(curves.get(i), e));
        }
        double top = max > 0 ? max * Math.pow(10, -e) * 1.08 : 1.0;
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(top);
        chart.getStyler().setYAxisDecimalPattern(Charts.pattern(0, top));
        Charts.verticals(chart, sharedBoundaries(results));
        Charts.save(chart, png);
    }

    /** Stage boundaries of all runs (usually the same tokens for all). */
    private static Set<Double> sharedBoundaries(List<VariantResult> results) {
        Set<Double> xs = new LinkedHashSet<>();
        for (VariantResult r : results) xs.addAll(Charts.boundaries(r.plan()));
        return xs;
    }

    private static boolean writeValidation(Path png, String dataset, List<VariantResult> results) throws IOException {
        XYChart chart = Charts.chart("Validation loss on " + dataset, "tokens", "validation loss (nats)");
        List<Charts.Curve> curves = new ArrayList<>();
        for (VariantResult r : results) {
            Charts.Curve c = Charts.validation(r.metrics(), dataset);
            if (c.isEmpty()) continue;
            XYSeries s = Charts.line(chart, legend(r), c);
            if (c.x().length == 1) s.setMarker(SeriesMarkers.CIRCLE);
            curves.add(c);
        }
        if (curves.isEmpty()) return false;
        double[] range = Charts.fitLossRange(chart, curves);
        Charts.verticals(chart, sharedBoundaries(results));
        // Stage names, when every run has the same stages at the same tokens.
        RunPlan first = results.getFirst().plan();
        boolean same = results.stream().allMatch(r -> stageLayout(r.plan()).equals(stageLayout(first)));
        if (same) Charts.stageNames(chart, first, range[1] - (range[1] - range[0]) * 0.04);
        Charts.save(chart, png);
        return true;
    }

    private static List<String> stageLayout(RunPlan plan) {
        return plan.stages().stream().map(s -> s.name() + "@" + s.start() * plan.tokensPerStep()).toList();
    }

    /** Which forgetting and which adaptation the scatter shows. */
    private record Pair(String forgotten, String adapted) {}

    /**
     * Forgetting of the earliest trained dataset that has one, adaptation to the last stage's main
     * dataset that has one; taken from the first run that has both.
     */
    private static Pair pair(List<VariantResult> results) {
        for (VariantResult r : results) {
            RunSummary s = r.summary();
            if (s == null) continue;
            String forgotten = null;
            for (Stage st : r.plan().stages()) {
                for (Share sh : st.shares()) {
                    if (forgotten == null && sh.role() == Share.Role.NEW && s.datasets().get(sh.dataset()) != null
                            && s.datasets().get(sh.dataset()).forgetting() != null) {
                        forgotten = sh.dataset();
                    }
                }
            }
            String adapted = r.plan().stages().getLast().shares().stream()
                    .filter(sh -> sh.role() == Share.Role.NEW)
                    .sorted(Comparator.comparingDouble(Share::weight).reversed())
                    .map(Share::dataset)
                    .filter(d -> s.datasets().get(d) != null && s.datasets().get(d).adaptation() != null)
                    .findFirst().orElse(null);
            if (forgotten != null && adapted != null) return new Pair(forgotten, adapted);
        }
        return null;
    }

    private static boolean writeScatter(Path png, Pair pair, List<VariantResult> results) throws IOException {
        Map<String, double[]> points = new LinkedHashMap<>();
        for (VariantResult r : results) {
            RunSummary s = r.summary();
            if (s == null || s.datasets().get(pair.forgotten) == null || s.datasets().get(pair.adapted) == null) continue;
            Double f = s.datasets().get(pair.forgotten).forgetting();
            Double a = s.datasets().get(pair.adapted).adaptation();
            if (f != null && a != null && Double.isFinite(f) && Double.isFinite(a)) points.put(r.name(), new double[] {f, a});
        }
        if (points.isEmpty()) return false;
        XYChart chart = Charts.chart("Forgetting and adaptation", "forgetting of " + pair.forgotten + " (nats, lower is better)",
                "adaptation to " + pair.adapted + " (nats, higher is better)");
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(11);
        double[] xr = range(points.values().stream().mapToDouble(p -> p[0]).toArray());
        double[] yr = range(points.values().stream().mapToDouble(p -> p[1]).toArray());
        chart.getStyler().setxAxisTickLabelsFormattingFunction(null);
        chart.getStyler().setXAxisDecimalPattern(Charts.pattern(xr[0], xr[1]));
        chart.getStyler().setYAxisDecimalPattern(Charts.pattern(yr[0], yr[1]));
        chart.getStyler().setXAxisMin(xr[0]).setXAxisMax(xr[1]).setYAxisMin(yr[0]).setYAxisMax(yr[1]);
        for (var e : points.entrySet()) {
            XYSeries s = chart.addSeries(e.getKey(), new double[] {e.getValue()[0]}, new double[] {e.getValue()[1]});
            s.setMarker(SeriesMarkers.CIRCLE);
            chart.addAnnotation(new AnnotationText(e.getKey(), e.getValue()[0], e.getValue()[1] + (yr[1] - yr[0]) * 0.035, false));
        }
        if (xr[0] < 0 && xr[1] > 0) chart.addAnnotation(new AnnotationLine(0, true, false));
        if (yr[0] < 0 && yr[1] > 0) chart.addAnnotation(new AnnotationLine(0, false, false));
        Charts.save(chart, png);
        return true;
    }

    /** A padded axis range around {@code v}, never empty. */
    private static double[] range(double[] v) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        double span = hi - lo;
        if (!(span > 0)) span = Math.max(Math.abs(lo) * 0.2, 0.01);
        return new double[] {lo - span * 0.15, hi + span * 0.2};
    }
}
