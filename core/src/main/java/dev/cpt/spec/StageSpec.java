package dev.cpt.spec;

import java.util.Map;

/**
 * One stage of a run: a length ({@code steps}, or {@code tokens} ÷ tokens per step rounded down),
 * a data mixture, optional replay, an optional optimizer reset at its start, and optionally its own
 * schedules (re-warming and re-decaying), which win over the run's.
 */
public record StageSpec(String name, Long steps, Long tokens, Map<String, Double> mix, ReplaySpec replay,
                        Boolean resetOptimizer, ScheduleSpec lr, ScheduleSpec weightDecay) {

    public StageSpec {
        if (resetOptimizer == null) resetOptimizer = false;
    }

    public void validate(String path, Problems p) {
        String namePath = Problems.child(path, "name");
        if (p.require(namePath, name) && name.isBlank()) p.add(namePath, "is empty");
        if (steps != null && tokens != null) {
            p.add(Problems.child(path, "steps"), "give steps or tokens, not both");
        } else if (steps == null && tokens == null && !p.coveredBy(Problems.child(path, "tokens"))) {
            p.addUnlessCovered(Problems.child(path, "steps"), "missing: give steps or tokens");
        }
        p.positive(Problems.child(path, "steps"), steps);
        p.positive(Problems.child(path, "tokens"), tokens);
        String mixPath = Problems.child(path, "mix");
        if (p.require(mixPath, mix)) Weights.validate(mixPath, mix, p);
        if (replay != null) replay.validate(Problems.child(path, "replay"), p);
        if (lr != null) lr.validate(Problems.child(path, "lr"), p);
        if (weightDecay != null) weightDecay.validate(Problems.child(path, "weightDecay"), p);
    }

    /** The stage's length in steps for batches of {@code tokensPerStep} tokens. */
    public long stepCount(long tokensPerStep) {
        return steps != null ? steps : tokens / tokensPerStep;
    }
}
