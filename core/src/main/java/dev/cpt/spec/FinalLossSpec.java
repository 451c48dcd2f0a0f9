package dev.cpt.spec;

/**
 * PAPER.md's final loss: the mean validation loss over the last {@code lastSteps} steps, sampled
 * every {@code every} steps (100 and 10: ten evaluations). The same window gives each stage's end loss.
 */
public record FinalLossSpec(Long lastSteps, Long every) {

    public static final FinalLossSpec DEFAULT = new FinalLossSpec(null, null);

    public FinalLossSpec {
        if (lastSteps == null) lastSteps = 100L;
        if (every == null) every = 10L;
    }

    public void validate(String path, Problems p) {
        p.positive(Problems.child(path, "lastSteps"), lastSteps);
        p.positive(Problems.child(path, "every"), every);
        if (every > 0 && lastSteps > 0 && every > lastSteps) {
            p.add(Problems.child(path, "every"), every + " is more than lastSteps " + lastSteps);
        }
    }

    /** Evaluations in a full window: lastSteps ÷ every, rounded down. */
    public long samples() {
        return lastSteps / every;
    }
}
