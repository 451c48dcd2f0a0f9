package dev.cpt.spec;

/** Validation: every {@code every} steps, {@code batches} batches of each dataset's validation tokens. */
public record EvalSpec(Long every, Integer batches) {

    public static final EvalSpec DEFAULT = new EvalSpec(null, null);

    public EvalSpec {
        if (every == null) every = 50L;
        if (batches == null) batches = 8;
    }

    public void validate(String path, Problems p) {
        p.positive(Problems.child(path, "every"), every);
        p.positive(Problems.child(path, "batches"), batches);
    }
}
