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
 *       sweep's shared base, are reported but not averaged;</li>
 *   <li><b>tasks</b> (with {@code eval.tasks}): each benchmark's metrics, as {@code cpt eval} writes
 *       them for the model of that moment, at the start, at every stage end and at the end of the
 *       run; and the change of each metric (not of its standard error) from the start and from the
 *       end of the first stage to the end: forgetting on benchmarks beside forgetting in loss.</li>
 * </ul>
 */
public record RunSummary(String name, long steps, long tokens, Map<String, DatasetSummary> datasets,
                         Double averageFinalLoss, FinalLossSpec finalLossWindow, Double wallSeconds,
                         Map<String, TaskSummary> tasks) {

    /** A summary without benchmark scores. */
    public RunSummary(String name, long steps, long tokens, Map<String, DatasetSummary> datasets, Double averageFinalLoss,
                      FinalLossSpec finalLossWindow, Double wallSeconds) {
        this(name, steps, tokens, datasets, averageFinalLoss, finalLossWindow, wallSeconds, null);
    }

    public record DatasetSummary(Double finalLoss, Map<String, Double> stageEndLoss, Double forgetting,
                                 Double peakForgetting, Double adaptation) {}

    /**
     * One benchmark over the run; metrics keyed as results.json keys them ({@code "acc,none"}).
     *
     * @param start on the model the run starts from (its init, or random weights)
     * @param stageEnd per stage, at its end; the last stage's end is the end of the run
     * @param end at the end of the run
     * @param changeFromStart per metric (standard errors left out), end − start
     * @param changeFromFirstStageEnd per metric, end − the end of the first stage; null for one stage
     */
    public record TaskSummary(Map<String, Double> start, Map<String, Map<String, Double>> stageEnd, Map<String, Double> end,
                              Map<String, Double> changeFromStart, Map<String, Double> changeFromFirstStageEnd) {}

    public static RunSummary compute(RunPlan plan, List<EvalPoint> evals, Double wallSeconds) {
        return compute(plan, evals, Map.of(), wallSeconds);
    }

    /**
     * As {@link #compute(RunPlan, List, Double)}, with benchmark scores by step (step → task →
     * metric); scores at step 0 and at the stage ends are summarized, others are ignored.
     */
    public static RunSummary compute(RunPlan plan, List<EvalPoint> evals, Map<Long, Map<String, Map<String, Double>>> taskScores,
                                     Double wallSeconds) {
        RunSummary s = computeLosses(plan, evals, wallSeconds);
        Map<String, TaskSummary> tasks = taskSummaries(plan, taskScores);
        return tasks.isEmpty() ? s : new RunSummary(s.name, s.steps, s.tokens, s.datasets, s.averageFinalLoss, s.finalLossWindow,
                s.wallSeconds, tasks);
    }

    private static Map<String, TaskSummary> taskSummaries(RunPlan plan, Map<Long, Map<String, Map<String, Double>>> byStep) {
        Map<String, TaskSummary> out = new LinkedHashMap<>();
        if (byStep.isEmpty()) return out;
        List<Stage> stages = plan.stages();
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        for (Stage s : stages) {
            var at = byStep.get(s.end());
            if (at != null) names.addAll(at.keySet());
        }
        for (String task : names) {
            Map<String, Double> start = scoresAt(byStep, 0, task);
            Map<String, Map<String, Double>> stageEnd = new LinkedHashMap<>();
            for (Stage s : stages) stageEnd.put(s.name(), scoresAt(byStep, s.end(), task));
            Map<String, Double> end = stageEnd.get(stages.getLast().name());
            Map<String, Double> firstEnd = stages.size() > 1 ? stageEnd.get(stages.getFirst().name()) : null;
            out.put(task, new TaskSummary(start, stageEnd, end, change(start, end),
                    stages.size() > 1 ? change(firstEnd, end) : null));
        }
        return out;
    }

    private static Map<String, Double> scoresAt(Map<Long, Map<String, Map<String, Double>>> byStep, long step, String task) {
        var at = byStep.get(step);
        return at == null ? null : at.get(task);
    }

    /** {@code to − from} for every metric both have, standard errors left out; null without both. */
    private static Map<String, Double> change(Map<String, Double> from, Map<String, Double> to) {
        if (from == null || to == null) return null;
        Map<String, Double> d = new LinkedHashMap<>();
        to.forEach((k, v) -> {
            Double before = from.get(k);
            if (!k.contains("_stderr") && before != null && v != null) d.put(k, v - before);
        });
        return d;
    }

    private static RunSummary computeLosses(RunPlan plan, List<EvalPoint> evals, Double wallSeconds) {
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
