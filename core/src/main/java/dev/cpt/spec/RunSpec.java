package dev.cpt.spec;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A run: what to train, on which data, in which stages, under which schedules. This is the public
 * contract of a spec file (README, "Run spec"); {@link SpecReader} reads it and reports every problem.
 *
 * <p>{@code lr} and {@code weightDecay} here span the whole run (e.g. an infinite schedule across
 * datasets); a stage's own schedule wins over them for that stage. Without any weight decay
 * schedule, weight decay is PAPER.md's constant 0.1.
 */
public record RunSpec(String name, Long seed, ModelSpec model, OptimizerSpec optimizer, BatchSpec batch,
                      Map<String, DatasetSpec> datasets, List<StageSpec> stages, ScheduleSpec lr,
                      ScheduleSpec weightDecay, EvalSpec eval, FinalLossSpec finalLoss,
                      CheckpointSpec checkpoint, ParallelSpec parallel) {

    public static final double DEFAULT_WEIGHT_DECAY = 0.1;

    /** The ZeRO stage of {@code parallel}, 0 without one (left null, so that specs without it read and write as before). */
    public int zeroStage() {
        return parallel == null ? 0 : parallel.zeroStage();
    }

    public RunSpec {
        if (seed == null) seed = 0L;
        if (optimizer == null) optimizer = OptimizerSpec.DEFAULT;
        if (eval == null) eval = EvalSpec.DEFAULT;
        if (finalLoss == null) finalLoss = FinalLossSpec.DEFAULT;
        if (checkpoint == null) checkpoint = CheckpointSpec.DEFAULT;
    }

    /** This spec with {@link ModelSpec#withInitShape()}'s model; call only on a validated spec. */
    public RunSpec withInitShape() {
        if (model == null || model.init() == null) return this;
        return new RunSpec(name, seed, model.withInitShape(), optimizer, batch, datasets, stages, lr, weightDecay, eval, finalLoss,
                checkpoint, parallel);
    }

    /** Checks fields and cross-references that need no span lengths. */
    public void validate(Problems p) {
        if (p.require("name", name) && name.isBlank()) p.add("name", "is empty");
        if (p.require("model", model)) model.validate("model", p);
        optimizer.validate("optimizer", p);
        if (p.require("batch", batch)) batch.validate("batch", p);
        eval.validate("eval", p);
        finalLoss.validate("finalLoss", p);
        checkpoint.validate("checkpoint", p);
        if (parallel != null) parallel.validate("parallel", p);
        if (lr != null) lr.validate("lr", p);
        if (weightDecay != null) weightDecay.validate("weightDecay", p);

        if (p.require("datasets", datasets)) {
            if (datasets.isEmpty()) p.add("datasets", "names no dataset");
            datasets.forEach((key, d) -> {
                String at = Problems.child("datasets", key);
                if (d == null) p.addUnlessCovered(at, "missing");
                else d.validate(at, p);
            });
        }
        if (p.require("stages", stages)) {
            if (stages.isEmpty()) p.add("stages", "needs at least one stage");
            validateStages(p);
        }
        // Checked along with every other problem, not only when there is none: other mistakes elsewhere
        // do not make the model's context length unknown.
        if (batch != null && batch.seqLen() != null && batch.seqLen() > 0) {
            Integer context = knownContextLength(p);
            if (context != null && batch.seqLen() > context) {
                p.add("batch.seqLen", batch.seqLen() + " is longer than the model's context of " + context + " tokens");
            }
        }
        if (eval.hasGenerativeTask()) {
            Integer context = knownContextLength(p);
            if (context != null && context <= EvalSpec.MAX_GEN_TOKENS) {
                p.add("eval.tasks", "a generative task (triviaqa, nq_open) draws up to " + EvalSpec.MAX_GEN_TOKENS + " tokens (the"
                        + " harness's max_gen_toks) after a prompt cut to the rest of the context, and the model's context of "
                        + context + " tokens leaves no room for a prompt; score it with cpt eval --max-gen-toks N instead");
            }
        }
    }

    /** The model's context length, its own or else its preset's; null where a problem makes it unknown. */
    private Integer knownContextLength(Problems p) {
        if (model == null || p.coveredBy("model.contextLength") || p.coveredBy("model.preset")) return null;
        if (model.init() != null) {
            try {
                return model.shape().contextLength();
            } catch (RuntimeException unreadable) {
                return null; // model.init's own problem says why
            }
        }
        if (model.contextLength() != null) return model.contextLength() > 0 ? model.contextLength() : null;
        ModelSpec.Shape preset = model.preset() == null ? null : ModelSpec.PRESETS.get(model.preset());
        return preset == null ? null : preset.contextLength();
    }

    private void validateStages(Problems p) {
        Set<String> names = new HashSet<>();
        Set<String> trainedBefore = new HashSet<>();
        for (int i = 0; i < stages.size(); i++) {
            String at = Problems.index("stages", i);
            StageSpec s = stages.get(i);
            if (s == null) {
                p.addUnlessCovered(at, "missing");
                continue;
            }
            s.validate(at, p);
            if (s.name() != null && !names.add(s.name())) {
                p.add(Problems.child(at, "name"), "\"" + s.name() + "\" names an earlier stage too");
            }
            if (s.mix() != null) {
                s.mix().keySet().forEach(d -> checkTrainable(Problems.child(Problems.child(at, "mix"), d), d, p));
            }
            if (s.replay() != null && s.replay().from() != null) {
                String fromPath = Problems.child(Problems.child(at, "replay"), "from");
                for (var e : s.replay().from().entrySet()) {
                    String d = e.getKey();
                    String dPath = Problems.child(fromPath, d);
                    if (!checkTrainable(dPath, d, p)) continue;
                    boolean positive = e.getValue() != null && e.getValue() > 0;
                    if (positive && s.replay().pool() == ReplaySpec.Pool.CONSUMED && !trainedBefore.contains(d)) {
                        p.add(dPath, "no earlier stage trained on \"" + d + "\", so there is nothing consumed to replay"
                                + " (train on it first, or set replay.pool to \"full\")");
                    }
                }
            }
            if (s.lr() == null && lr == null) {
                p.addUnlessCovered(Problems.child(at, "lr"), "missing, and the run has no lr of its own to span all stages");
            }
            if (s.mix() != null) {
                s.mix().forEach((d, w) -> {
                    if (w != null && w > 0) trainedBefore.add(d);
                });
            }
        }
    }

    private boolean checkTrainable(String path, String dataset, Problems p) {
        if (datasets == null) return false;
        if (!datasets.containsKey(dataset)) {
            p.add(path, "unknown dataset \"" + dataset + "\"; the spec's datasets are " + String.join(", ", datasets.keySet()));
            return false;
        }
        DatasetSpec d = datasets.get(dataset);
        if (d != null && d.train() == null) {
            p.add(path, "dataset \"" + dataset + "\" has no train tokens");
            return false;
        }
        return true;
    }
}
