package dev.cpt.metrics;

import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.spec.FinalLossSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * {@code summary.json}: the numbers a run is judged by (PAPER.md §1).
 *
 * <ul>
 *   <li><b>final loss</b> of a dataset: the mean of its validation losses over the last
 *       {@code lastSteps} steps sampled every {@code every} (the run's end window);</li>
 *   <li><b>stage-end loss</b>: the same window mean at the end of each stage;</li>
 *   <li><b>forgetting</b> of a dataset that an earlier stage trained on but the last stage does
 *       not: its final loss minus its loss at the end of the last stage that trained on it;
 *       <b>peak forgetting</b>: the largest single evaluation above that loss since;</li>
 *   <li><b>adaptation</b> of a dataset the last stage trains on: how far its loss fell during that
 *       stage (loss before the stage, the previous stage-end loss or the initial loss, minus the
 *       final loss);</li>
 *   <li><b>average final loss</b>: the mean of the final losses over the datasets the run trains on
 *       (PAPER.md averages D0 and D1); datasets only evaluated, such as another shift's D1 in a
 *       sweep's shared base, are reported but not averaged.</li>
 * </ul>
 */
public record RunSummary(String name, long steps, long tokens, Map<String, DatasetSummary> datasets,
                         Double averageFinalLoss, FinalLossSpec finalLossWindow, Double wallSeconds) {

    public record DatasetSummary(Double finalLoss, Map<String, Double> stageEndLoss, Double forgetting,
                                 Double peakForgetting, Double adaptation) {}

    public static RunSummary compute(RunPlan plan, List<EvalPoint> evals, Double wallSeconds) {
        NavigableMap<Long, Map<String, Double>> byStep = new TreeMap<>();
        for (EvalPoint e : evals) byStep.put(e.step(), e.val());
        FinalLossSpec window = plan.spec().finalLoss();
        List<Stage> stages = plan.stages();
        Stage last = stages.getLast();

        Map<String, DatasetSummary> out = new LinkedHashMap<>();
        double sum = 0;
        int counted = 0;
        for (String d : plan.datasetNames()) {
            if (byStep.values().stream().noneMatch(v -> v.containsKey(d))) continue;
            Map<String, Double> stageEnd = new LinkedHashMap<>();
            for (Stage s : stages) stageEnd.put(s.name(), windowMean(byStep, d, s, window));
            Double fin = stageEnd.get(last.name());

            Double forgetting = null, peak = null, adaptation = null;
            Stage trainedLast = null;
            for (Stage s : stages) if (s.trainsOn(d)) trainedLast = s;
            if (trainedLast != null && trainedLast != last) {
                Double base = stageEnd.get(trainedLast.name());
                if (base != null && fin != null) forgetting = fin - base;
                double max = Double.NEGATIVE_INFINITY;
                for (var e : byStep.tailMap(trainedLast.end(), false).entrySet()) {
                    Double v = e.getValue().get(d);
                    if (v != null) max = Math.max(max, v - base);
                }
                if (base != null && max > Double.NEGATIVE_INFINITY) peak = max;
            }
            if (last.trainsOn(d) && fin != null) {
                Double before = last.index() > 0 ? stageEnd.get(stages.get(last.index() - 1).name()) : at(byStep, d, 0);
                if (before != null) adaptation = before - fin;
            }
            out.put(d, new DatasetSummary(fin, stageEnd, forgetting, peak, adaptation));
            boolean trained = stages.stream().anyMatch(st -> st.trainsOn(d));
            if (fin != null && trained) {
                sum += fin;
                counted++;
            }
        }
        return new RunSummary(plan.spec().name(), plan.totalSteps(), plan.totalSteps() * plan.tokensPerStep(), out,
                counted > 0 ? sum / counted : null, window, wallSeconds);
    }

    /** The mean over the evaluations at {@code end − k·every}, {@code k < lastSteps/every}, inside the stage. */
    static Double windowMean(NavigableMap<Long, Map<String, Double>> byStep, String d, Stage s, FinalLossSpec w) {
        double sum = 0;
        int n = 0;
        for (long k = 0; k < Math.max(1, w.samples()); k++) {
            long step = s.end() - k * w.every();
            if (step <= s.start()) break;
            Double v = at(byStep, d, step);
            if (v != null) {
                sum += v;
                n++;
            }
        }
        return n > 0 ? sum / n : null;
    }

    private static Double at(NavigableMap<Long, Map<String, Double>> byStep, String d, long step) {
        Map<String, Double> v = byStep.get(step);
        return v == null ? null : v.get(d);
    }

    /** The evaluation steps the final-loss windows need: every stage's end window. */
    public static boolean inWindow(RunPlan plan, long step) {
        FinalLossSpec w = plan.spec().finalLoss();
        for (Stage s : plan.stages()) {
            long back = s.end() - step;
            if (step > s.start() && back >= 0 && back % w.every() == 0 && back / w.every() < Math.max(1, w.samples())) {
                return true;
            }
        }
        return false;
    }
}
