package dev.cpt.spec;

/** AdamW's settings; the defaults are PAPER.md's (β1 0.9, β2 0.95, eps 1e-8, grad clip 1.0). */
public record OptimizerSpec(Double beta1, Double beta2, Double eps, Double gradClip) {

    public static final OptimizerSpec DEFAULT = new OptimizerSpec(null, null, null, null);

    public OptimizerSpec {
        if (beta1 == null) beta1 = 0.9;
        if (beta2 == null) beta2 = 0.95;
        if (eps == null) eps = 1e-8;
        if (gradClip == null) gradClip = 1.0;
    }

    public void validate(String path, Problems p) {
        betaRange(Problems.child(path, "beta1"), beta1, p);
        betaRange(Problems.child(path, "beta2"), beta2, p);
        p.positive(Problems.child(path, "eps"), eps);
        p.finite(Problems.child(path, "eps"), eps);
        // 0 turns clipping off.
        p.nonNegative(Problems.child(path, "gradClip"), gradClip);
        p.finite(Problems.child(path, "gradClip"), gradClip);
    }

    private static void betaRange(String path, double beta, Problems p) {
        if (!(beta >= 0 && beta < 1)) p.add(path, Problems.format(beta) + " is not within [0, 1)");
    }
}
