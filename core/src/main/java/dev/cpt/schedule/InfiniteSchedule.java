package dev.cpt.schedule;

/**
 * The infinite learning-rate schedule of PAPER.md §7.2, in four phases over a span of T steps:
 * <ol>
 *   <li>warmup to {@code max} over {@code warmup} steps: {@code t ∈ [0, t_cd]}, {@code t_cd = W};</li>
 *   <li>cooldown from {@code max} to {@code constant}: {@code t ∈ (t_cd, t_const]},
 *       {@code t_const = t_cd + cooldown}, shaped by {@link CooldownShape};</li>
 *   <li>constant {@code constant}: {@code t ∈ (t_const, t_ann]}, {@code t_ann = T − anneal};</li>
 *   <li>anneal: {@code constant · (min/constant)^((t − t_ann)/(T − t_ann))}, reaching {@code min} at
 *       {@code t = T}. With {@code anneal = 0} there is none: the run ends on the constant phase,
 *       the "pre-anneal" checkpoint one continues from.</li>
 * </ol>
 */
public record InfiniteSchedule(double max, double constant, double min, long warmup, long cooldown,
                               long anneal, CooldownShape cooldownShape, double alpha,
                               double warmupFrom, long span) implements Schedule {

    public enum CooldownShape { COSINE, INVSQRT }

    public InfiniteSchedule {
        Phases.check(span, warmup, cooldown, anneal);
        if (cooldownShape == CooldownShape.INVSQRT && !(alpha > 0)) {
            throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        }
    }

    @Override
    public double at(long t) {
        Warmup w = new Warmup(warmup, warmupFrom, max);
        if (w.covers(t)) return w.at(t);
        long tCd = warmup;
        long tConst = tCd + cooldown;
        long tAnn = span - anneal;
        if (t <= tConst && cooldown > 0) {
            double x = (double) (t - tCd) / (tConst - tCd);
            return switch (cooldownShape) {
                case COSINE -> Decay.COSINE.value(max, constant, x);
                case INVSQRT -> max + (constant - max) / h(1) * h(x);
            };
        }
        if (t <= tAnn || anneal == 0) return constant;
        double x = (double) (t - tAnn) / (span - tAnn);
        return constant * Math.pow(min / constant, x);
    }

    /** {@code h(x) = 1/√(1 + αx) − 1}: zero at 0, so the inverse-sqrt cooldown starts at max. */
    private double h(double x) {
        return 1 / Math.sqrt(1 + alpha * x) - 1;
    }
}
