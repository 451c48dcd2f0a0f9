package dev.cpt.reproduce;

import java.util.List;
import java.util.Locale;

/**
 * How one comparison is judged from its per-seed paired differences {@code d_s} (the same seed's
 * runs compared, so that data order and initialisation cancel). With {@code m} their mean and the
 * spread their half-range {@code (max − min) / 2}, and a tolerance or minimum effect given as a
 * share of the reference loss {@code L} (the loss level the quantity is measured on):
 *
 * <ul>
 *   <li>{@link #less}/{@link #greater} (the claim: {@code d < 0} / {@code d > 0}, by at least
 *       {@code e·L}): reproduced when {@code m} has the claimed sign beyond the spread and
 *       {@code |m| ≥ e·L}; not reproduced when {@code m} has the other sign beyond the spread, or
 *       when even {@code |m| + spread} stays below {@code e·L} (no effect); else inconclusive.</li>
 *   <li>{@link #within} (the claim: no notable difference, {@code |d| ≤ t·L}): reproduced when
 *       {@code |m| + spread ≤ t·L}; not reproduced when {@code |m| − spread > t·L}; else
 *       inconclusive.</li>
 *   <li>{@link #atMost} (the claim: {@code d ≤ t·L}, one-sided, e.g. "close to the union
 *       baseline" where being better is no failure): reproduced when {@code m + spread ≤ t·L}; not
 *       reproduced when {@code m − spread > t·L}; else inconclusive.</li>
 * </ul>
 * Fewer than two seeds decide nothing: a verdict needs the seed-to-seed spread.
 */
public record Rule(Kind kind, double share) {

    public enum Kind { LESS, GREATER, WITHIN, AT_MOST }

    /**
     * Share of the reference loss that counts as "no notable difference" (the paper's "within 0.02
     * nats" on ≈ 2.2 nats per GPT-NeoX token is ≈ 1%; our losses are per byte, another scale, so a
     * share transfers and an absolute number would not).
     */
    public static final double MATCH = 0.01;
    /** Share of the reference loss a plain "more"/"less" difference must reach. */
    public static final double EFFECT = 0.001;

    public static Rule less() { return new Rule(Kind.LESS, EFFECT); }
    public static Rule greater() { return new Rule(Kind.GREATER, EFFECT); }
    /** "Clearly" / "markedly": the difference must exceed what {@link #within} would call a match. */
    public static Rule clearlyLess() { return new Rule(Kind.LESS, MATCH); }
    public static Rule clearlyGreater() { return new Rule(Kind.GREATER, MATCH); }
    public static Rule within() { return new Rule(Kind.WITHIN, MATCH); }
    public static Rule atMost() { return new Rule(Kind.AT_MOST, MATCH); }

    /** The verdict on paired differences {@code d} at reference loss {@code reference}. */
    public Verdict judge(List<Double> d, double reference) {
        if (d.size() < 2 || !Double.isFinite(reference)) return Verdict.INCONCLUSIVE;
        double m = mean(d), spread = spread(d), limit = share * Math.abs(reference);
        return switch (kind) {
            case LESS, GREATER -> {
                double signed = kind == Kind.LESS ? -m : m;
                if (signed > spread && signed >= limit) yield Verdict.REPRODUCED;
                if (-signed > spread || Math.abs(m) + spread < limit) yield Verdict.NOT_REPRODUCED;
                yield Verdict.INCONCLUSIVE;
            }
            case WITHIN -> Math.abs(m) + spread <= limit ? Verdict.REPRODUCED
                    : Math.abs(m) - spread > limit ? Verdict.NOT_REPRODUCED : Verdict.INCONCLUSIVE;
            case AT_MOST -> m + spread <= limit ? Verdict.REPRODUCED
                    : m - spread > limit ? Verdict.NOT_REPRODUCED : Verdict.INCONCLUSIVE;
        };
    }

    /** The rule as the report states it, e.g. {@code d < 0 by ≥ 1% of L} or {@code |d| ≤ 1% of L}. */
    public String describe() {
        String pct = String.format(Locale.ROOT, "%s%% of L", share * 100 == Math.rint(share * 100)
                ? String.valueOf((long) (share * 100)) : String.valueOf(share * 100));
        return switch (kind) {
            case LESS -> "d < 0, |d| ≥ " + pct;
            case GREATER -> "d > 0, d ≥ " + pct;
            case WITHIN -> "|d| ≤ " + pct;
            case AT_MOST -> "d ≤ " + pct;
        };
    }

    static double mean(List<Double> d) {
        return d.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    static double spread(List<Double> d) {
        double lo = d.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        double hi = d.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        return (hi - lo) / 2;
    }
}
