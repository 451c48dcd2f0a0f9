package dev.cpt.plan;

import dev.cpt.schedule.ConstantSchedule;
import dev.cpt.schedule.Schedule;
import dev.cpt.spec.Problems;
import dev.cpt.spec.RunSpec;
import dev.cpt.spec.ScheduleSpec;
import dev.cpt.spec.SpecException;
import dev.cpt.spec.SpecReader;
import dev.cpt.spec.StageSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A spec resolved into what the training loop needs: stages with step counts on one global step
 * axis, learning-rate and weight-decay schedules bound to global steps, and each stage's sources.
 */
public record RunPlan(RunSpec spec, List<Stage> stages, long totalSteps) {

    /** Reads, validates and plans a spec file; every problem is reported in one {@link SpecException}. */
    public static RunPlan load(Path file) {
        return of(SpecReader.read(file), file.toString());
    }

    public static RunPlan of(RunSpec spec) {
        return of(spec, spec.name());
    }

    /** Plans a validated spec; span-dependent problems (phases longer than a stage, …) are reported here. */
    public static RunPlan of(RunSpec spec, String source) {
        Problems p = new Problems();
        long tokensPerStep = spec.batch().tokensPerStep();

        long[] steps = new long[spec.stages().size()];
        long total = 0;
        for (int i = 0; i < steps.length; i++) {
            StageSpec s = spec.stages().get(i);
            steps[i] = s.stepCount(tokensPerStep);
            if (steps[i] == 0) {
                p.add(Problems.child(Problems.index("stages", i), "tokens"), s.tokens() + " tokens are less than one step of "
                        + spec.batch().sequences() + " × " + spec.batch().seqLen() + " = " + tokensPerStep + " tokens");
            }
            total += steps[i];
        }
        if (!p.isEmpty()) throw new SpecException(source, p.all());

        BoundSchedule runLr = bind(spec.lr(), total, 0, "lr", p);
        ScheduleSpec runWdSpec = spec.weightDecay();
        BoundSchedule runWd = runWdSpec != null
                ? bind(runWdSpec, total, 0, "weightDecay", p)
                : new BoundSchedule(new ConstantSchedule(RunSpec.DEFAULT_WEIGHT_DECAY, total), 0);

        List<Stage> stages = new ArrayList<>();
        long start = 0;
        for (int i = 0; i < steps.length; i++) {
            StageSpec s = spec.stages().get(i);
            String at = Problems.index("stages", i);
            BoundSchedule lr = s.lr() != null ? bind(s.lr(), steps[i], start, Problems.child(at, "lr"), p) : runLr;
            BoundSchedule wd = s.weightDecay() != null
                    ? bind(s.weightDecay(), steps[i], start, Problems.child(at, "weightDecay"), p) : runWd;
            var pool = s.replay() != null ? s.replay().pool() : dev.cpt.spec.ReplaySpec.Pool.CONSUMED;
            stages.add(new Stage(i, s.name(), start, steps[i], shares(s), pool, lr, wd, s.resetOptimizer()));
            start += steps[i];
        }
        if (!p.isEmpty()) throw new SpecException(source, p.all());
        return new RunPlan(spec, List.copyOf(stages), total);
    }

    private static BoundSchedule bind(ScheduleSpec s, long span, long origin, String path, Problems p) {
        if (s == null) return null;
        Schedule bound = s.bind(span, path, p);
        return bound == null ? null : new BoundSchedule(bound, origin);
    }

    /** New data takes {@code 1 − r} of the sequences by the mix weights, replay {@code r} by its own. */
    private static List<Share> shares(StageSpec s) {
        double r = s.replay() != null ? s.replay().fraction() : 0;
        List<Share> shares = new ArrayList<>();
        addNormalized(shares, s.mix(), Share.Role.NEW, 1 - r);
        if (r > 0) addNormalized(shares, s.replay().from(), Share.Role.REPLAY, r);
        return List.copyOf(shares);
    }

    private static void addNormalized(List<Share> out, Map<String, Double> weights, Share.Role role, double total) {
        double sum = weights.values().stream().mapToDouble(Double::doubleValue).sum();
        // Sorted by name: the spec's map order must not change which sequences a run sees.
        weights.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            double w = total * e.getValue() / sum;
            if (w > 0) out.add(new Share(e.getKey(), role, w));
        });
    }

    public long tokensPerStep() {
        return spec.batch().tokensPerStep();
    }

    public Stage stageAt(long step) {
        for (Stage s : stages) {
            if (step < s.end()) return s;
        }
        return stages.getLast();
    }

    public double lrAt(long step) {
        return stageAt(step).lr().at(step);
    }

    public double weightDecayAt(long step) {
        return stageAt(step).weightDecay().at(step);
    }

    /** Names of every dataset of the spec, in the spec's order. */
    public List<String> datasetNames() {
        return List.copyOf(spec.datasets().keySet());
    }
}
