package dev.cpt.reproduce;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The claims C1–C13 of PAPER.md as comparisons between the runs of {@code examples/paper/}. Written
 * before any result was seen; the rules are {@link Rule}'s. Notation: D0 = {@code en}; D1 = {@code en-b}
 * (weak shift) or {@code de} (strong shift); {@code F} = forgetting of D0 (its final loss minus its
 * loss at the end of pre-training); {@code L1} = D1's final loss (lower: adapted more); {@code Avg}
 * = the mean of D0's and D1's final losses; {@code L} = the reference loss a tolerance is a share of.
 */
public final class Claims {
    private Claims() {}

    static final String D0 = "en";
    static final List<String> SHIFTS = List.of("weak", "strong");

    static String d1(String shift) {
        return shift.equals("weak") ? "en-b" : "de";
    }

    /** C1–C13 at the specs' own scale. */
    public static List<Claim> all() {
        return all(ModelScale.TOY_XS);
    }

    /**
     * C1–C13 on the runs of one model scale (its experiments' keys in {@link Outcomes}). A claim whose
     * experiments or variants the scale does not run measures nothing there ({@link #measuredAnything}).
     */
    public static List<Claim> all(ModelScale scale) {
        String rewarm = scale.key("rewarm"), replay = scale.key("replay"), recipe = scale.key("recipe");
        String noShift = scale.key("no-shift"), infinite = scale.key("infinite"), iidSplits = scale.key("iid-splits");
        List<Claim> claims = new ArrayList<>();

        List<Comparison> c1 = new ArrayList<>();
        for (String s : SHIFTS) {
            for (String other : List.of("rewarm-constant", "redecay-0.5x", "redecay-1x", "redecay-2x")) {
                c1.add(diff("F(constant η_min) − F(" + other + "), " + s, Rule.less(), rewarm,
                        s + "-constant-min", s + "-" + other, forgetting(), d0Loss()));
            }
        }
        claims.add(new Claim("C1", "Constant η_min forgets least on D0 (both shifts).",
                "§6.1: D0 forgetting of constant η_min against each re-warming variant, both shifts.", c1));

        List<Comparison> c2 = new ArrayList<>();
        for (String other : List.of("rewarm-constant", "redecay-0.5x", "redecay-1x", "redecay-2x")) {
            c2.add(diff("L1(constant η_min) − L1(" + other + "), strong", Rule.greater(), rewarm,
                    "strong-constant-min", "strong-" + other, d1Loss("strong"), d1Loss("strong")));
        }
        c2.add(diff("L1(constant η_min) − L1(rewarm-constant), weak", Rule.less(), rewarm,
                "weak-constant-min", "weak-rewarm-constant", d1Loss("weak"), d1Loss("weak")));
        claims.add(new Claim("C2", "Constant η_min adapts least to D1 under strong shift; under weak shift it adapts more than constant η_max.",
                "§6.1: D1 final loss of constant η_min against every re-warming variant (strong), and against re-warm to a constant η_max (weak).", c2));

        List<Comparison> c3 = new ArrayList<>();
        for (String s : SHIFTS) {
            for (String other : List.of("constant-min", "rewarm-constant")) {
                c3.add(diff("L1(redecay-1x) − L1(" + other + "), " + s, Rule.clearlyLess(), rewarm,
                        s + "-redecay-1x", s + "-" + other, d1Loss(s), d1Loss(s)));
            }
        }
        claims.add(new Claim("C3", "Re-warm + re-decay adapts to D1 clearly better than both constant baselines.",
                "§6.1: D1 final loss of re-warm + cosine re-decay (1× η_max) against constant η_min and constant η_max.", c3));

        List<Comparison> c4 = new ArrayList<>();
        for (String s : SHIFTS) {
            c4.add(diff("F(1x) − F(0.5x), " + s, Rule.greater(), rewarm, s + "-redecay-1x", s + "-redecay-0.5x", forgetting(), d0Loss()));
            c4.add(diff("F(2x) − F(1x), " + s, Rule.greater(), rewarm, s + "-redecay-2x", s + "-redecay-1x", forgetting(), d0Loss()));
            c4.add(diff("L1(1x) − L1(0.5x), " + s, Rule.less(), rewarm, s + "-redecay-1x", s + "-redecay-0.5x", d1Loss(s), d1Loss(s)));
            c4.add(diff("L1(2x) − L1(1x), " + s, Rule.less(), rewarm, s + "-redecay-2x", s + "-redecay-1x", d1Loss(s), d1Loss(s)));
        }
        claims.add(new Claim("C4", "Higher η_max → more forgetting and more adaptation (½× < 1× < 2×).",
                "§6.1: D0 forgetting and D1 final loss of re-warm + re-decay at ½×, 1×, 2× η_max, both shifts.", c4));

        List<Comparison> c5 = new ArrayList<>();
        for (String s : SHIFTS) {
            for (String w : List.of("0.5pct", "2pct")) {
                String v = s + "-redecay-1x-warmup-" + w;
                c5.add(diff("F(warmup " + w + ") − F(warmup 1%), " + s, Rule.within(), rewarm, v, s + "-redecay-1x", forgetting(), d0Loss()));
                c5.add(diff("L1(warmup " + w + ") − L1(warmup 1%), " + s, Rule.within(), rewarm, v, s + "-redecay-1x", d1Loss(s), d1Loss(s)));
            }
        }
        claims.add(new Claim("C5", "Warmup length has no notable effect on forgetting or adaptation.",
                "§6.1: D0 forgetting and D1 final loss with warmup 0.5% and 2% against 1% (re-warm + re-decay 1×).", c5));

        List<Comparison> c6 = new ArrayList<>();
        for (String s : SHIFTS) {
            c6.add(diff("F(replay 1%) − F(replay 0%), " + s, Rule.clearlyLess(), replay, s + "-replay-1pct", s + "-replay-0pct",
                    forgetting(), d0Loss()));
        }
        c6.add(new Comparison("[F(0%) − F(1%)] strong − [F(0%) − F(1%)] weak", Rule.greater(),
                at -> sub(sub(val(forgetting(), at.run(replay, "strong-replay-0pct")), val(forgetting(), at.run(replay, "strong-replay-1pct"))),
                        sub(val(forgetting(), at.run(replay, "weak-replay-0pct")), val(forgetting(), at.run(replay, "weak-replay-1pct")))),
                at -> val(d0Loss(), at.run(replay, "strong-replay-0pct"))));
        claims.add(new Claim("C6", "Even 1% replay markedly reduces D0 forgetting; the effect is larger under strong shift.",
                "§6.2: D0 forgetting with 1% replay against none, both shifts; the reduction strong against weak.", c6));

        List<Comparison> c7 = new ArrayList<>();
        for (String s : SHIFTS) {
            for (String r : List.of("1", "5", "10")) {
                c7.add(diff("L1(replay " + r + "%) − L1(replay 0%), " + s, Rule.atMost(), replay, s + "-replay-" + r + "pct",
                        s + "-replay-0pct", d1Loss(s), d1Loss(s)));
            }
            c7.add(diff("L1(replay 50%) − L1(replay 0%), " + s, Rule.clearlyGreater(), replay, s + "-replay-50pct",
                    s + "-replay-0pct", d1Loss(s), d1Loss(s)));
        }
        claims.add(new Claim("C7", "1–10% replay barely hurts D1 adaptation; 50% replay adapts clearly worse.",
                "§6.2: D1 final loss with 1, 5, 10 and 50% replay against none, both shifts.", c7));

        List<Comparison> c8 = new ArrayList<>();
        for (String s : SHIFTS) {
            String recipeRun = s + "-recipe-replay-" + (s.equals("weak") ? "5" : "25") + "pct";
            c8.add(diff("Avg(recipe) − Avg(union), " + s, Rule.atMost(), recipe, recipeRun, s + "-union", average(s), average(s)));
        }
        claims.add(new Claim("C8", "Re-warm + re-decay + suitable replay (5% weak, 25% strong) reaches an average final loss close to the union baseline.",
                "§6.3: average of D0 and D1 final losses, the recipe against union (D0∪D1 from scratch); one-sided: better than union is no failure.", c8));

        List<Comparison> c9 = new ArrayList<>();
        for (String s : SHIFTS) {
            String recipeRun = s + "-recipe-replay-" + (s.equals("weak") ? "5" : "25") + "pct";
            c9.add(diff("Avg(recipe) − Avg(D1-only), " + s, Rule.less(), recipe, recipeRun, s + "-d1-only", average(s), average(s)));
        }
        claims.add(new Claim("C9", "Continually pre-trained models beat the D1-only-from-scratch baseline on average loss.",
                "§6.3: average final loss of the recipe against D1 only from scratch (stage 1's steps).", c9));

        List<Comparison> c10 = new ArrayList<>();
        c10.add(diff("F(strong) − F(weak), re-warm + re-decay 1×, no replay", Rule.greater(), rewarm,
                "strong-redecay-1x", "weak-redecay-1x", forgetting(), d0Loss()));
        c10.add(new Comparison("[F(0%) − F(25%)] − ½·F(0%), strong: 25% replay removes most of the forgetting", Rule.greater(),
                at -> {
                    Double f0 = val(forgetting(), at.run(replay, "strong-replay-0pct"));
                    Double f25 = val(forgetting(), at.run(replay, "strong-replay-25pct"));
                    return f0 == null || f25 == null ? null : (f0 - f25) - 0.5 * f0;
                },
                at -> val(d0Loss(), at.run(replay, "strong-replay-0pct"))));
        claims.add(new Claim("C10", "Stronger shift → more forgetting; 25% replay removes most of it.",
                "§6.1/§6.2: D0 forgetting strong against weak (1×, no replay); how much of the strong shift's forgetting 25% replay removes.", c10));

        List<Comparison> c11 = new ArrayList<>();
        c11.add(single("peak rise of D0 loss, same data, 1×", Rule.greater(), noShift, "same-data-redecay-1x",
                r -> r.peakRiseAfterFirstStage(D0), r -> r.firstStageEndLoss(D0)));
        c11.add(diff("rise(2x) − rise(1x), same data", Rule.greater(), noShift, "same-data-redecay-2x", "same-data-redecay-1x",
                r -> r.peakRiseAfterFirstStage(D0), r -> r.firstStageEndLoss(D0)));
        c11.add(diff("rise(same data) − rise(weak shift), 1×", Rule.less(), noShift, "same-data-redecay-1x", "weak-redecay-1x",
                r -> r.peakRiseAfterFirstStage(D0), r -> r.firstStageEndLoss(D0)));
        claims.add(new Claim("C11", "Re-warming on the same data (no shift) still raises loss, more for larger η_max (and less than under a shift).",
                "§7.1: the largest rise of D0's validation loss after the boundary over its loss at the end of pre-training, D0 = D1 = en, at 1× and 2× η_max; against the weak shift at 1×.", c11));

        List<Comparison> c12 = new ArrayList<>();
        for (String v : List.of("infinite-cosine", "infinite-invsqrt")) {
            c12.add(diff("L(" + v + ") − L(cosine)", Rule.within(), infinite, v, "cosine", d0Loss(), d0Loss()));
        }
        claims.add(new Claim("C12", "Infinite schedules match cosine decay's final loss on one dataset.",
                "§7.3: final loss on en of the infinite schedule (cosine and inverse-sqrt cooldown, annealed) against cosine decay.", c12));

        List<Comparison> c13 = new ArrayList<>();
        for (String v : List.of("infinite-cosine", "infinite-invsqrt")) {
            c13.add(single("peak forgetting of splits 1–2, " + v, Rule.atMost(), iidSplits, v,
                    Claims::splitPeakForgetting, r -> r.finalLoss("en-1")));
        }
        claims.add(new Claim("C13", "On 3 IID splits, infinite schedules show negligible forgetting across boundaries.",
                "§7.4: the largest rise of an earlier split's validation loss over its loss at the end of its stage (max over splits 1 and 2), infinite schedules; repeated cosine is in the experiment's table for contrast.", c13));
        return claims;
    }

    /**
     * C14, larger models forget less: D0 forgetting of the same variant and seed at the larger scale
     * minus at the smaller, for re-warm + re-decay 1× without replay (the paper's 0.23 against 0.27
     * nats), both shifts. Data order and schedule are the same seed's; only the model differs.
     */
    public static Claim c14(ModelScale small, ModelScale large) {
        List<Comparison> c = new ArrayList<>();
        for (String s : SHIFTS) {
            String v = s + "-redecay-1x";
            c.add(new Comparison("F(" + large.preset() + ") − F(" + small.preset() + "), re-warm + re-decay 1×, " + s, Rule.less(),
                    at -> sub(val(forgetting(), at.run(large.key("rewarm"), v)), val(forgetting(), at.run(small.key("rewarm"), v))),
                    at -> val(d0Loss(), at.run(small.key("rewarm"), v))));
        }
        return new Claim("C14", "Larger models forget less.",
                "§6.1 at two scales: D0 forgetting of re-warm + re-decay 1× (no replay) at " + large.preset() + " against "
                        + small.preset() + ", both shifts, the same seed's runs; L is the " + small.preset() + " run's D0 final loss.", c);
    }

    /** Whether any comparison of {@code r} had a run to measure (a claim a scale does not run has none). */
    public static boolean measuredAnything(Claim.Result r) {
        return r.comparisons().stream().anyMatch(c -> !c.seeds().isEmpty());
    }

    /** The larger peak forgetting of the first two splits. */
    static Double splitPeakForgetting(Outcomes.Run r) {
        Double a = r.peakForgetting("en-1"), b = r.peakForgetting("en-2");
        return a == null || b == null ? null : Math.max(a, b);
    }

    // --- the small vocabulary the claims are written in --------------------------------------------

    static Function<Outcomes.Run, Double> forgetting() {
        return r -> r.forgetting(D0);
    }

    static Function<Outcomes.Run, Double> d0Loss() {
        return r -> r.finalLoss(D0);
    }

    static Function<Outcomes.Run, Double> d1Loss(String shift) {
        return r -> r.finalLoss(d1(shift));
    }

    static Function<Outcomes.Run, Double> average(String shift) {
        return r -> r.averageFinalLoss(D0, d1(shift));
    }

    /** {@code q(a) − q(b)} for the same seed's runs; {@code L} from b. */
    static Comparison diff(String label, Rule rule, String experiment, String a, String b,
                           Function<Outcomes.Run, Double> q, Function<Outcomes.Run, Double> reference) {
        return new Comparison(label, rule,
                at -> sub(val(q, at.run(experiment, a)), val(q, at.run(experiment, b))),
                at -> val(reference, at.run(experiment, b)));
    }

    /** {@code q(a)} itself, against zero. */
    static Comparison single(String label, Rule rule, String experiment, String a,
                             Function<Outcomes.Run, Double> q, Function<Outcomes.Run, Double> reference) {
        return new Comparison(label, rule, at -> val(q, at.run(experiment, a)), at -> val(reference, at.run(experiment, a)));
    }

    static Double val(Function<Outcomes.Run, Double> q, Outcomes.Run r) {
        return r == null ? null : q.apply(r);
    }

    static Double sub(Double a, Double b) {
        return a == null || b == null ? null : a - b;
    }
}
