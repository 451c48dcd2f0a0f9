package dev.cpt.cli;

import dev.cpt.plan.BoundSchedule;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.schedule.CosineSchedule;
import dev.cpt.schedule.InfiniteSchedule;
import dev.cpt.schedule.LinearSchedule;
import dev.cpt.schedule.PiecewiseSchedule;
import dev.cpt.schedule.Schedule;
import dev.cpt.schedule.WsdSchedule;
import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongToDoubleFunction;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The PNG of {@code cpt schedule --png}: the learning rate above, the weight decay below, against
 * the global step, with a line at each stage boundary.
 */
final class ScheduleChart {
    private ScheduleChart() {}

    /** Points of the even grid a long run is downsampled to (boundary and phase points come on top). */
    static final int GRID_POINTS = 2000;

    private static final int WIDTH = 1000;
    private static final int HEIGHT = 380;

    static void write(RunPlan plan, Path png) {
        dev.cpt.report.Figures.unavailable().ifPresent(reason -> {
            throw new CliException("--png " + png + ": Java cannot render text on this machine (" + reason
                    + "); install fonts (Debian/Ubuntu: " + dev.cpt.report.Figures.INSTALL + ")");
        });
        long[] steps = plotSteps(plan, GRID_POINTS);
        double[] x = new double[steps.length];
        for (int i = 0; i < steps.length; i++) x[i] = steps[i];
        XYChart lr = chart(plan, "learning rate", x, values(steps, plan::lrAt), new Color(31, 119, 180));
        XYChart wd = chart(plan, "weight decay", x, values(steps, plan::weightDecayAt), new Color(214, 39, 40));
        lr.setTitle(plan.spec().name());
        lr.getStyler().setChartTitleVisible(true);
        lr.setXAxisTitle("step");
        wd.setXAxisTitle("step");
        labelStages(plan, lr);
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(List.of(lr, wd), 2, 1, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /**
     * The steps to plot, ascending: every step of a short run; for a long one an even grid of
     * {@code gridPoints} steps plus each stage's first and last step and the steps around each
     * schedule phase change (end of warmup, start of a decay, a piecewise jump), so that peaks,
     * jumps and re-warmings stay sharp.
     */
    static long[] plotSteps(RunPlan plan, int gridPoints) {
        long total = plan.totalSteps();
        if (total <= gridPoints) {
            long[] all = new long[(int) total];
            for (int i = 0; i < all.length; i++) all[i] = i;
            return all;
        }
        LongList points = new LongList(gridPoints + 16 * plan.stages().size());
        for (int i = 0; i < gridPoints; i++) points.add(Math.round((double) i * (total - 1) / (gridPoints - 1)));
        for (Stage s : plan.stages()) {
            points.add(s.start());
            points.add(s.end() - 1);
            addPhaseChanges(s, s.lr(), points);
            addPhaseChanges(s, s.weightDecay(), points);
        }
        return points.sortedDistinct();
    }

    private static void addPhaseChanges(Stage stage, BoundSchedule bound, LongList points) {
        for (long local : phaseChanges(bound.schedule())) {
            long global = bound.origin() + local;
            for (long t = global - 1; t <= global + 1; t++) {
                if (stage.contains(t)) points.add(t);
            }
        }
    }

    /** Steps (within the schedule's span) where a schedule changes its formula. */
    private static long[] phaseChanges(Schedule s) {
        return switch (s) {
            case CosineSchedule c -> new long[] {c.warmup()};
            case LinearSchedule l -> new long[] {l.warmup()};
            case WsdSchedule w -> new long[] {w.warmup(), w.span() - w.decay()};
            case InfiniteSchedule i -> new long[] {i.warmup(), i.warmup() + i.cooldown(), i.span() - i.anneal()};
            case PiecewiseSchedule p -> p.untilSteps();
            default -> new long[0];
        };
    }

    private static double[] values(long[] steps, LongToDoubleFunction f) {
        double[] v = new double[steps.length];
        for (int i = 0; i < steps.length; i++) v[i] = f.applyAsDouble(steps[i]);
        return v;
    }

    private static XYChart chart(RunPlan plan, String what, double[] x, double[] y, Color color) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).yAxisTitle(what).build();
        var styler = chart.getStyler();
        styler.setChartTitleVisible(false);
        styler.setLegendVisible(false);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        styler.setPlotBorderColor(new Color(160, 160, 160));
        styler.setAnnotationLineColor(new Color(120, 120, 120));
        styler.setAnnotationLineStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {4f, 4f}, 0f));
        styler.setAnnotationTextFontColor(new Color(90, 90, 90));
        styler.setXAxisMin(0.0);
        styler.setXAxisMax((double) Math.max(1, plan.totalSteps() - 1));
        styler.setXAxisDecimalPattern("#,##0");
        double max = Arrays.stream(y).max().orElse(0);
        double min = Arrays.stream(y).min().orElse(0);
        styler.setYAxisMin(Math.min(0.0, min));
        styler.setYAxisMax(max > 0 ? max * 1.12 : min < 0 ? 0.0 : 1.0);
        // Small learning rates read best as 3.0E-4; 0 as 0 rather than 0.0E0.
        java.text.DecimalFormat ticks = new java.text.DecimalFormat(max > 0 && max < 1e-2 ? "0.0##E0" : "0.0##",
                java.text.DecimalFormatSymbols.getInstance(java.util.Locale.ROOT));
        styler.setyAxisTickLabelsFormattingFunction(v -> v == 0 ? "0" : ticks.format(v));
        // The same width left of both plots, so that their step axes line up.
        styler.setYAxisLeftWidthHint(100);
        styler.setLegendPosition(Styler.LegendPosition.InsideNE);
        XYSeries series = chart.addSeries(what, x, y);
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(color);
        series.setLineWidth(1.8f);
        for (Stage s : plan.stages()) {
            if (s.start() > 0) chart.addAnnotation(new AnnotationLine(s.start() - 0.5, true, false));
        }
        return chart;
    }

    /** Stage names along the top of the learning-rate plot, when there is more than one stage. */
    private static void labelStages(RunPlan plan, XYChart chart) {
        if (plan.stages().size() < 2) return;
        Double top = chart.getStyler().getYAxisMax();
        if (top == null) return;
        for (Stage s : plan.stages()) {
            double mid = s.start() + (s.steps() - 1) / 2.0;
            chart.addAnnotation(new AnnotationText(s.name(), mid, top * 0.955, false));
        }
    }

    /** A growable list of longs. */
    private static final class LongList {
        private long[] a;
        private int n;

        LongList(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        void add(long v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        long[] sortedDistinct() {
            long[] s = Arrays.copyOf(a, n);
            Arrays.sort(s);
            int k = 0;
            for (int i = 0; i < s.length; i++) {
                if (k == 0 || s[i] != s[k - 1]) s[k++] = s[i];
            }
            return Arrays.copyOf(s, k);
        }
    }
}
