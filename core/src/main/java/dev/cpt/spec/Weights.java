package dev.cpt.spec;

import java.util.Map;

/** Dataset → weight maps ({@code mix}, {@code replay.from}): non-negative, not all zero; normalized on use. */
final class Weights {
    private Weights() {}

    static void validate(String path, Map<String, Double> weights, Problems p) {
        if (weights.isEmpty()) {
            p.add(path, "names no dataset");
            return;
        }
        double sum = 0;
        boolean reported = false;
        for (var e : weights.entrySet()) {
            String at = Problems.child(path, e.getKey());
            Double w = e.getValue();
            if (w == null) {
                p.addUnlessCovered(at, "missing weight");
                reported = true;
                continue;
            }
            if (!Double.isFinite(w) || w < 0) {
                p.add(at, "weight " + Problems.format(w) + " must be a non-negative number");
                reported = true;
                continue;
            }
            sum += w;
        }
        // A weight that is missing or wrong is reported already: "all zero" would only repeat it.
        if (sum == 0 && !reported && !p.coveredBy(path)) p.add(path, "weights are all zero");
    }
}
