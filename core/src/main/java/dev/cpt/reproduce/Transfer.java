package dev.cpt.reproduce;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Whether what a toy sweep decides holds at a larger model: for the §6.1 and §6.2 variants of one
 * shift, the ranking by a quantity (average final loss of D0 and D1, or D0 forgetting; lower is
 * better) at each of two scales, Kendall's τ-b between the scales per seed (the same seed's runs at
 * both, so data order is the same), and whether the best variant is the same. This is what a user
 * relies on when promoting a toy config; it is reported whether it holds or not.
 */
public final class Transfer {
    private Transfer() {}

    /** One quantity of one experiment and shift at two scales. */
    public record Row(String experiment, String shift, String quantity, List<String> smallRanking, List<String> largeRanking,
                      List<Long> seeds, List<Double> tau, double meanTau, double spreadTau, boolean sameBest, String why) {}

    /** The experiments and quantities of the table, in its order. */
    static final List<String> EXPERIMENTS = List.of("rewarm", "replay");

    public static List<Row> rows(Outcomes outcomes, ModelScale small, ModelScale large) {
        Map<String, Function<Outcomes.Run, Double>> quantities = new LinkedHashMap<>();
        List<Row> rows = new ArrayList<>();
        for (String experiment : EXPERIMENTS) {
            for (String shift : Claims.SHIFTS) {
                quantities.clear();
                quantities.put("average final loss (D0, D1)", Claims.average(shift));
                quantities.put("forgetting of D0", Claims.forgetting());
                for (var q : quantities.entrySet()) rows.add(row(outcomes, small, large, experiment, shift, q.getKey(), q.getValue()));
            }
        }
        return rows;
    }

    static Row row(Outcomes outcomes, ModelScale small, ModelScale large, String experiment, String shift, String quantity,
                   Function<Outcomes.Run, Double> q) {
        String a = small.key(experiment), b = large.key(experiment);
        // The variants of this shift run at both scales with the quantity defined (a baseline trained on
        // D0 to the end has no forgetting).
        List<String> variants = new ArrayList<>();
        for (String v : outcomes.variants(a)) {
            if (!v.startsWith(shift + "-") || !outcomes.variants(b).contains(v)) continue;
            boolean defined = true;
            for (long s : outcomes.seeds()) {
                Outcomes.Run x = outcomes.get(a, v, s), y = outcomes.get(b, v, s);
                if (x == null || y == null || q.apply(x) == null || q.apply(y) == null) defined = false;
            }
            if (defined) variants.add(v);
        }
        List<Long> seeds = new ArrayList<>();
        List<Double> tau = new ArrayList<>();
        String why = null;
        if (variants.size() < 2) {
            why = "fewer than 2 variants ran at both scales";
        } else {
            for (long s : outcomes.seeds()) {
                double[] x = new double[variants.size()], y = new double[variants.size()];
                for (int i = 0; i < variants.size(); i++) {
                    x[i] = q.apply(outcomes.get(a, variants.get(i), s));
                    y[i] = q.apply(outcomes.get(b, variants.get(i), s));
                }
                double t = KendallTau.tauB(x, y);
                if (Double.isFinite(t)) {
                    seeds.add(s);
                    tau.add(t);
                }
            }
            if (tau.isEmpty()) why = "τ undefined: a scoring was constant";
        }
        List<String> smallRanking = ranking(outcomes, a, variants, q, shift);
        List<String> largeRanking = ranking(outcomes, b, variants, q, shift);
        boolean sameBest = !smallRanking.isEmpty() && smallRanking.getFirst().equals(largeRanking.getFirst());
        return new Row(experiment, shift, quantity, smallRanking, largeRanking, seeds, tau,
                tau.isEmpty() ? Double.NaN : Rule.mean(tau), tau.isEmpty() ? Double.NaN : Rule.spread(tau), sameBest, why);
    }

    /** The variants best (lowest mean over seeds) first, named without their shift. */
    static List<String> ranking(Outcomes outcomes, String experiment, List<String> variants, Function<Outcomes.Run, Double> q, String shift) {
        Map<String, Double> mean = new LinkedHashMap<>();
        for (String v : variants) {
            List<Double> values = new ArrayList<>();
            for (long s : outcomes.seeds()) values.add(q.apply(outcomes.get(experiment, v, s)));
            mean.put(v, Rule.mean(values));
        }
        return mean.entrySet().stream().sorted(Map.Entry.comparingByValue(Comparator.naturalOrder()))
                .map(e -> e.getKey().substring(shift.length() + 1)).toList();
    }
}
