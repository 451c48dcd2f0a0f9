package dev.cpt.reproduce;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One measured comparison behind a claim: a per-seed difference {@code d_s}, the reference loss
 * {@code L} its tolerance is a share of, and the {@link Rule} that judges it.
 *
 * @param label      what is compared, for the report (e.g. {@code F(constant η_min) − F(re-warm 1×), weak})
 * @param rule       how it is judged
 * @param difference {@code d} for one seed's runs, null where a run is missing
 * @param reference  {@code L} for one seed's runs, null where a run is missing
 */
public record Comparison(String label, Rule rule, Function<Seeded, Double> difference, Function<Seeded, Double> reference) {

    /** The outcomes seen from one seed. */
    public record Seeded(Outcomes outcomes, long seed) {
        public Outcomes.Run run(String experiment, String variant) {
            return outcomes.get(experiment, variant, seed);
        }
    }

    /** The measured comparison: per-seed differences, their mean and spread, the reference loss and the verdict. */
    public record Result(String label, Rule rule, List<Long> seeds, List<Double> differences, double mean, double spread,
                         double reference, Verdict verdict, String missing) {}

    public Result measure(Outcomes outcomes) {
        List<Long> seeds = new ArrayList<>();
        List<Double> d = new ArrayList<>();
        List<Double> refs = new ArrayList<>();
        List<Long> missing = new ArrayList<>();
        for (long s : outcomes.seeds()) {
            Seeded at = new Seeded(outcomes, s);
            Double x = difference.apply(at), l = reference.apply(at);
            if (x == null || l == null || !Double.isFinite(x) || !Double.isFinite(l)) {
                missing.add(s);
                continue;
            }
            seeds.add(s);
            d.add(x);
            refs.add(l);
        }
        double ref = Rule.mean(refs);
        Verdict v = rule.judge(d, ref);
        String why = missing.isEmpty() ? null : "no result for seed" + (missing.size() > 1 ? "s " : " ") + missing
                + " (a run failed or was not run)";
        if (d.size() < 2 && why == null) why = "needs at least 2 seeds";
        return new Result(label, rule, seeds, d, Rule.mean(d), Rule.spread(d), ref, v, why);
    }
}
