package dev.cpt.reproduce;

import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.record.StepRecord;
import dev.cpt.report.VariantResult;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/** The finished runs of a reproduction: experiment → variant (without its seed) → seed → run. */
public final class Outcomes {

    /** One finished run: its summary, its metrics (for the evaluations) and its plan. */
    public record Run(RunSummary summary, List<StepRecord> metrics, RunPlan plan) {

        public Double finalLoss(String dataset) {
            var d = summary.datasets().get(dataset);
            return d == null ? null : d.finalLoss();
        }

        public Double forgetting(String dataset) {
            var d = summary.datasets().get(dataset);
            return d == null ? null : d.forgetting();
        }

        public Double peakForgetting(String dataset) {
            var d = summary.datasets().get(dataset);
            return d == null ? null : d.peakForgetting();
        }

        /** The mean of the final losses on {@code a} and {@code b} (PAPER.md's average of D0 and D1). */
        public Double averageFinalLoss(String a, String b) {
            Double x = finalLoss(a), y = finalLoss(b);
            return x == null || y == null ? null : (x + y) / 2;
        }

        /** The steps of the first stage (pre-training, in the §6 runs). */
        public long firstStageSteps() {
            Stage first = plan.stages().getFirst();
            return first.end() - first.start();
        }

        /** {@code dataset}'s loss at the end of the first stage (the final-loss window mean there). */
        public Double firstStageEndLoss(String dataset) {
            var d = summary.datasets().get(dataset);
            return d == null ? null : d.stageEndLoss().get(plan.stages().getFirst().name());
        }

        /**
         * The least-squares slope of {@code dataset}'s validation loss against steps over the last
         * {@code share} of the first stage, in nats per 1,000 steps: how much pre-training was still
         * improving the model when the next stage began (near 0: it had converged on its budget).
         * Null with fewer than 3 evaluations in the window.
         */
        public Double boundarySlope(String dataset, double share) {
            Stage first = plan.stages().getFirst();
            double from = first.end() - share * (first.end() - first.start());
            List<double[]> points = new java.util.ArrayList<>();
            for (StepRecord r : metrics) {
                if (r.step() <= from || r.step() > first.end() || r.val() == null || r.val().get(dataset) == null) continue;
                points.add(new double[] {r.step(), r.val().get(dataset)});
            }
            if (points.size() < 3) return null;
            double mx = points.stream().mapToDouble(p -> p[0]).average().orElseThrow();
            double my = points.stream().mapToDouble(p -> p[1]).average().orElseThrow();
            double sxy = 0, sxx = 0;
            for (double[] p : points) {
                sxy += (p[0] - mx) * (p[1] - my);
                sxx += (p[0] - mx) * (p[0] - mx);
            }
            return sxx == 0 ? null : 1000 * sxy / sxx;
        }

        /**
         * The largest rise of {@code dataset}'s validation loss after the first stage over its loss at
         * the end of that stage (the "peak" of PAPER.md §7.1, also where the dataset is still trained on).
         */
        public Double peakRiseAfterFirstStage(String dataset) {
            Double base = firstStageEndLoss(dataset);
            if (base == null || plan.stages().size() < 2) return null;
            Stage first = plan.stages().getFirst();
            double max = Double.NEGATIVE_INFINITY;
            for (StepRecord r : metrics) {
                if (r.step() <= first.end() || r.val() == null) continue;
                Double v = r.val().get(dataset);
                if (v != null) max = Math.max(max, v - base);
            }
            return max == Double.NEGATIVE_INFINITY ? null : max;
        }
    }

    private final Map<String, Map<String, Map<Long, Run>>> runs = new TreeMap<>();
    private final SortedSet<Long> seeds = new TreeSet<>();

    /** Adds an experiment's finished runs (failed ones are absent, so comparisons on them decide nothing). */
    public void add(String experiment, List<VariantResult> results) {
        for (VariantResult r : results) {
            if (r.summary() == null) continue;
            long seed = r.plan().spec().seed();
            seeds.add(seed);
            runs.computeIfAbsent(experiment, k -> new TreeMap<>())
                    .computeIfAbsent(variantOf(r.name()), k -> new TreeMap<>())
                    .put(seed, new Run(r.summary(), r.metrics(), r.plan()));
        }
    }

    /** Adds one run directly (tests). */
    public void add(String experiment, String variant, long seed, Run run) {
        seeds.add(seed);
        runs.computeIfAbsent(experiment, k -> new TreeMap<>()).computeIfAbsent(variant, k -> new TreeMap<>()).put(seed, run);
    }

    /** The run, or null when it did not finish. */
    public Run get(String experiment, String variant, long seed) {
        var byVariant = runs.get(experiment);
        var bySeed = byVariant == null ? null : byVariant.get(variant);
        return bySeed == null ? null : bySeed.get(seed);
    }

    /** The variants of {@code experiment} with at least one finished run, in name order. */
    public SortedSet<String> variants(String experiment) {
        var byVariant = runs.get(experiment);
        return byVariant == null ? new TreeSet<>() : new TreeSet<>(byVariant.keySet());
    }

    public SortedSet<Long> seeds() {
        return seeds;
    }

    /** The variant a sweep run belongs to: its name without {@code @seed=N}. */
    static String variantOf(String runName) {
        int at = runName.lastIndexOf("@seed=");
        return at < 0 ? runName : runName.substring(0, at);
    }
}
