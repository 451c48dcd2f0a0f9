package dev.cpt.spec;

/**
 * Checkpoints: always at every stage's end (kept: they are the models one continues from), and
 * also every {@code every} steps when positive, of which the newest {@code keep} are kept.
 */
public record CheckpointSpec(Long every, Integer keep) {

    public static final CheckpointSpec DEFAULT = new CheckpointSpec(null, null);

    public CheckpointSpec {
        if (every == null) every = 0L;
        if (keep == null) keep = 1;
    }

    public void validate(String path, Problems p) {
        p.nonNegative(Problems.child(path, "every"), every);
        p.positive(Problems.child(path, "keep"), keep);
    }
}
