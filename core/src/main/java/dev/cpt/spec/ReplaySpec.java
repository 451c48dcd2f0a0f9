package dev.cpt.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * Compute-equivalent replay (PAPER.md §6.2): {@code fraction} of the stage's sequences come from
 * earlier datasets, weighted by {@code from}, and replace the same number of new-data sequences.
 * {@code pool} says what may be replayed: only the windows earlier stages actually trained on
 * ({@code consumed}, the default), or the whole earlier training set ({@code full}).
 */
public record ReplaySpec(Double fraction, Map<String, Double> from, Pool pool) {

    public enum Pool {
        @JsonProperty("consumed") CONSUMED,
        @JsonProperty("full") FULL
    }

    public ReplaySpec {
        if (pool == null) pool = Pool.CONSUMED;
    }

    public void validate(String path, Problems p) {
        String fractionPath = Problems.child(path, "fraction");
        if (p.require(fractionPath, fraction)) p.within(fractionPath, fraction, 0, 1);
        String fromPath = Problems.child(path, "from");
        if (fraction != null && fraction > 0 && p.require(fromPath, from)) {
            Weights.validate(fromPath, from, p);
        } else if (from != null) {
            Weights.validate(fromPath, from, p);
        }
    }
}
