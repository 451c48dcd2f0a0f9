package dev.cpt.reproduce;

import dev.cpt.plan.ModelSize;
import dev.cpt.plan.RunPlan;
import dev.cpt.sweep.SharedStages;
import dev.cpt.sweep.SweepRunner;
import dev.cpt.sweep.SweepSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a reproduction has left to train, part by part, before it starts: so that a two-hour run can
 * say how long it has left in all, not only in the experiment at hand. Each part's work is the
 * training FLOPs of the steps it will train ({@link ModelSize#flopsPerToken} × tokens a step), which
 * puts a toy-s step (about 6× a toy-xs one) on the same scale as a toy-xs step.
 *
 * <p>The steps follow the rules the run itself follows, in the same order: a run whose
 * {@code summary.json} is on disk trains nothing; one whose spec an earlier part trains is copied
 * ({@link Reproduction}); one that resumes trains from its latest checkpoint; and, with shared
 * stages, a run that agrees with an earlier one up to a stage end ({@link SharedStages#keys}) trains
 * only what follows the deepest such end. Evaluation is not counted: it costs about the same share of
 * every run, so it changes the total, not how it divides.
 *
 * @param parts the parts in the order they run
 * @param flops per part, the training FLOPs it has left
 * @param steps per part, the training steps it has left
 */
public record Workload(List<Reproduction.Part> parts, List<Double> flops, List<Long> steps) {

    public Workload {
        if (parts.size() != flops.size() || parts.size() != steps.size()) {
            throw new IllegalArgumentException("one figure per part: " + parts.size() + " parts, " + flops.size() + " and "
                    + steps.size() + " figures");
        }
        parts = List.copyOf(parts);
        flops = List.copyOf(flops);
        steps = List.copyOf(steps);
    }

    /** Training FLOPs left in all. */
    public double totalFlops() {
        return flops.stream().mapToDouble(Double::doubleValue).sum();
    }

    /** Training FLOPs left in the parts before {@code index}. */
    public double flopsBefore(int index) {
        double sum = 0;
        for (int i = 0; i < index; i++) sum += flops.get(i);
        return sum;
    }

    /**
     * The work {@code parts} leave for a reproduction writing to {@code out}; {@code share}: whether
     * runs share stages ({@link SharedStages#enabled}).
     */
    public static Workload of(List<Reproduction.Part> parts, Path out, boolean share) {
        Set<String> trained = new HashSet<>(); // specs (without their names) that an earlier run trains
        Set<String> stageEnds = new HashSet<>(); // stage keys some run reaches before this one starts
        List<Double> flops = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        for (Reproduction.Part part : parts) {
            Path dir = out.resolve(part.key());
            double partFlops = 0;
            long partSteps = 0;
            List<String> specs = new ArrayList<>();
            for (SweepSpec.Variant v : part.sweep().variants()) {
                RunPlan plan = v.plan();
                Path runDir = SweepRunner.runDir(dir, v.name());
                List<String> keys = SharedStages.keys(plan);
                String spec = Reproduction.key(v);
                specs.add(spec);
                // Copied from an earlier part's run (a run of this part is not copied within it).
                boolean copied = trained.contains(spec) && !Files.exists(runDir.resolve("spec.json"));
                long left;
                if (Files.exists(runDir.resolve("summary.json")) || copied) {
                    left = 0;
                } else {
                    long from = resumeStep(runDir, plan);
                    long start = from;
                    if (share && from == 0) {
                        for (int k = plan.stages().size() - 2; k >= 0; k--) {
                            if (stageEnds.contains(keys.get(k))) {
                                start = plan.stages().get(k).end();
                                break;
                            }
                        }
                    }
                    left = plan.totalSteps() - start;
                }
                // Its stage ends are there for later runs, whether it trains them, resumes past them or
                // finished them earlier (the sweep registers a finished run's checkpoints).
                if (share) stageEnds.addAll(keys.subList(0, keys.size() - 1));
                partSteps += left;
                partFlops += left * flopsPerStep(plan);
            }
            trained.addAll(specs);
            flops.add(partFlops);
            steps.add(partSteps);
        }
        return new Workload(parts, flops, steps);
    }

    /** Training FLOPs of one step of {@code plan}. */
    static double flopsPerStep(RunPlan plan) {
        return ModelSize.flopsPerToken(plan.spec().model().shape(), plan.spec().batch().seqLen()) * plan.tokensPerStep();
    }

    /** The step an interrupted run in {@code runDir} resumes from (0 when nothing of it is there). */
    private static long resumeStep(Path runDir, RunPlan plan) {
        try {
            return SweepRunner.resumeStep(runDir, plan.spec());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            // A directory the sweep will refuse (another spec) or start over: counted as all to do.
            return 0;
        }
    }
}
