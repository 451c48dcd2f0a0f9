package dev.cpt.report;

import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.StepRecord;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.function.LongToDoubleFunction;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The look shared by report plots, and the curves they draw. Rendering is headless (PNG only). */
final class Charts {
    private Charts() {}

    static final int WIDTH = 1000;
    static final int HEIGHT = 520;

    /** Buckets a long curve is reduced to; each keeps its first, last, lowest and highest point. */
    static final int BUCKETS = 1000;

    /** matplotlib's tab10: ten colours that stay apart (XChart's default theme repeats a yellow). */
    static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

    /** A curve: x and y of equal length. */
    record Curve(double[] x, double[] y) {
        boolean isEmpty() {
            return x.length == 0;
        }

        boolean sameAs(Curve o) {
            return Arrays.equals(x, o.x) && Arrays.equals(y, o.y);
        }
    }

    static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title == null ? "" : title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        var s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotGridLinesColor(new Color(225, 225, 225));
        s.setPlotBorderColor(new Color(160, 160, 160));
        s.setLegendBorderColor(new Color(200, 200, 200));
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setAnnotationLineColor(new Color(120, 120, 120));
        s.setAnnotationLineStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
        s.setAnnotationTextFontColor(new Color(90, 90, 90));
        s.setxAxisTickLabelsFormattingFunction(Charts::tokens);
        s.setYAxisLeftWidthHint(90);
        s.setSeriesColors(PALETTE);
        return chart;
    }

    static XYSeries line(XYChart chart, String name, Curve c) {
        XYSeries series = chart.addSeries(name, c.x(), c.y());
        series.setMarker(SeriesMarkers.NONE);
        series.setLineWidth(1.6f);
        return series;
    }

    /** Dashed vertical lines at the given x (stage boundaries). */
    static void verticals(XYChart chart, Collection<Double> xs) {
        for (double x : xs) chart.addAnnotation(new AnnotationLine(x, true, false));
    }

    /** Stage names along the top of the plot, centred on each stage. */
    static void stageNames(XYChart chart, RunPlan plan, double top) {
        if (plan.stages().size() < 2) return;
        for (Stage s : plan.stages()) {
            double mid = (s.start() + s.steps() / 2.0) * plan.tokensPerStep();
            chart.addAnnotation(new AnnotationText(s.name(), mid, top, false));
        }
    }

    /** Tokens where a stage after the first begins. */
    static List<Double> boundaries(RunPlan plan) {
        List<Double> xs = new ArrayList<>();
        for (Stage s : plan.stages()) if (s.start() > 0) xs.add((double) s.start() * plan.tokensPerStep());
        return xs;
    }

    /**
     * Sets the y range to the curves' values, leaving out the first 5% of the x range for the top
     * (a model's first losses are far above the rest and would flatten the differences that matter).
     */
    static double[] fitLossRange(XYChart chart, List<Curve> curves) {
        double xMax = 0;
        for (Curve c : curves) for (double x : c.x()) xMax = Math.max(xMax, x);
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, all = Double.NEGATIVE_INFINITY;
        for (Curve c : curves) {
            for (int i = 0; i < c.x().length; i++) {
                double y = c.y()[i];
                if (!Double.isFinite(y)) continue;
                lo = Math.min(lo, y);
                all = Math.max(all, y);
                if (c.x()[i] >= 0.05 * xMax) hi = Math.max(hi, y);
            }
        }
        if (lo == Double.POSITIVE_INFINITY) return new double[] {0, 1};
        if (hi == Double.NEGATIVE_INFINITY) hi = all;
        if (!(hi > lo)) hi = lo + Math.max(0.1, Math.abs(lo) * 0.05);
        double pad = (hi - lo) * 0.06;
        double min = lo - pad, max = hi + pad * 2;
        chart.getStyler().setYAxisMin(min);
        chart.getStyler().setYAxisMax(max);
        chart.getStyler().setYAxisDecimalPattern(pattern(min, max));
        return new double[] {min, max};
    }

    /**
     * The power of ten a rate axis is labelled in: {@code -4} for rates around 3e-4 (the axis then
     * reads 0 to 3 and its title says ×1e-4), 0 for rates that read well as they are.
     */
    static int exponent(double max) {
        if (!(max > 0) || (max >= 1e-2 && max < 1e5)) return 0;
        return (int) Math.floor(Math.log10(max));
    }

    /** {@code c} with its y values divided by {@code 10^exponent}. */
    static Curve scaled(Curve c, int exponent) {
        if (exponent == 0) return c;
        double f = Math.pow(10, -exponent);
        double[] y = c.y().clone();
        for (int i = 0; i < y.length; i++) y[i] *= f;
        return new Curve(c.x(), y);
    }

    static String axisTitle(String what, int exponent) {
        return exponent == 0 ? what : what + " (×1e" + exponent + ")";
    }

    /**
     * A tick pattern for an axis spanning {@code lo} to {@code hi}: as many decimals as ticks about a
     * tenth of the span apart need, no trailing zeros. (A pattern, not a formatting function: with
     * one, XChart puts the y ticks at the data's values when there are few.)
     */
    static String pattern(double lo, double hi) {
        double span = Math.abs(hi - lo);
        int decimals = span > 0 ? (int) Math.max(0, Math.min(12, Math.ceil(-Math.log10(span / 10)) + 1)) : 2;
        return decimals == 0 ? "0" : "0." + "#".repeat(decimals);
    }

    static void save(XYChart chart, Path png) throws IOException {
        regularXTicks(chart);
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    static void save(List<XYChart> charts, Path png) throws IOException {
        charts.forEach(Charts::regularXTicks);
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(charts, charts.size(), 1, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /**
     * XChart puts the x ticks at the data's x values when those are equally spaced (one point per
     * step, evaluations every n steps) or few, which reads badly (8.58k, 17.15k, ...). A hidden
     * point at an uneven x (y NaN: not drawn) makes it choose round ticks as for any other data.
     */
    private static void regularXTicks(XYChart chart) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (XYSeries s : chart.getSeriesMap().values()) {
            for (double x : s.getXData()) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
        }
        if (!(hi > lo) || chart.getSeriesMap().containsKey(HIDDEN)) return;
        XYSeries h = chart.addSeries(HIDDEN, new double[] {lo + (hi - lo) * 0.3819660112501051}, new double[] {Double.NaN});
        h.setShowInLegend(false);
        h.setMarker(SeriesMarkers.NONE);
        h.setLineColor(new Color(0, 0, 0, 0));
    }

    /** The hidden series' name; no run or dataset is named so (names have no spaces). */
    private static final String HIDDEN = " ";

    /** A schedule over the run against tokens, reduced to {@link #BUCKETS} buckets keeping peaks, jumps and stage edges. */
    static Curve schedule(RunPlan plan, LongToDoubleFunction f) {
        long total = plan.totalSteps();
        TreeSet<Long> steps = new TreeSet<>();
        if (total <= 4L * BUCKETS) {
            for (long s = 0; s < total; s++) steps.add(s);
        } else {
            long size = (total + BUCKETS - 1) / BUCKETS;
            for (long a = 0; a < total; a += size) {
                long b = Math.min(total, a + size);
                long argMin = a, argMax = a;
                double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
                for (long s = a; s < b; s++) {
                    double v = f.applyAsDouble(s);
                    if (v < min) {
                        min = v;
                        argMin = s;
                    }
                    if (v > max) {
                        max = v;
                        argMax = s;
                    }
                }
                steps.addAll(List.of(a, argMin, argMax, b - 1));
            }
            for (Stage s : plan.stages()) {
                steps.add(s.start());
                if (s.start() > 0) steps.add(s.start() - 1);
                steps.add(s.end() - 1);
            }
        }
        double[] x = new double[steps.size()], y = new double[steps.size()];
        int i = 0;
        for (long s : steps) {
            x[i] = (double) s * plan.tokensPerStep();
            y[i++] = f.applyAsDouble(s);
        }
        return new Curve(x, y);
    }

    /** The validation losses on {@code dataset} recorded in {@code metrics}, against tokens. */
    static Curve validation(List<StepRecord> metrics, String dataset) {
        List<double[]> points = new ArrayList<>();
        for (StepRecord r : metrics) {
            if (r.val() == null) continue;
            Double v = r.val().get(dataset);
            if (v != null && Double.isFinite(v)) points.add(new double[] {r.tokens(), v});
        }
        double[] x = new double[points.size()], y = new double[points.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = points.get(i)[0];
            y[i] = points.get(i)[1];
        }
        return new Curve(x, y);
    }

    static double max(double[] v) {
        return Arrays.stream(v).filter(Double::isFinite).max().orElse(0);
    }

    /** A share as a percentage: 100%, 75%, 2.5%, 33.33%. */
    static String percent(double fraction) {
        return trim(fraction * 100) + "%";
    }

    /** Token counts as 0, 512, 20k, 1.5M, 10B. */
    static String tokens(double v) {
        double a = Math.abs(v);
        if (a < 1e3) return trim(v);
        if (a < 1e6) return trim(v / 1e3) + "k";
        if (a < 1e9) return trim(v / 1e6) + "M";
        if (a < 1e12) return trim(v / 1e9) + "B";
        return trim(v / 1e12) + "T";
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.2f", v);
        if (s.contains(".")) s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        return s.equals("-0") ? "0" : s;
    }

    /** A file-name-safe form of a dataset's name (letters, digits, {@code . _ + -}; anything else {@code _}). */
    static String safe(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || ".-_+".indexOf(c) >= 0 ? c : '_');
        }
        return b.isEmpty() ? "_" : b.toString();
    }
}
