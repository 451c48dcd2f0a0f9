package dev.cpt.reproduce;

import java.util.List;
import java.util.stream.Stream;

/**
 * A model size (and pre-training length) the experiments run at. The specs are written for the
 * first, {@code toy-xs}; the second, {@code toy-s} (about 7× the parameters), reruns the §6
 * experiments with the same token budgets so that C14 (larger models forget less) gets a verdict and
 * the rankings of §6.1 and §6.2 can be compared across scale. Only the model preset changes: batch,
 * steps, rates, data and seeds are the specs'.
 *
 * <p>The long-pre-training scales ({@link #LONG}, opt-in) pre-train for {@code pretrainSteps}
 * instead of the specs' 1,200, so that the pre-trained model has (nearly) stopped improving when
 * continued pre-training begins: the premise of C2, C7 and C8, which did not reproduce with the
 * specs' budget. The union baseline grows with pre-training (it trains both stages' tokens); the
 * continued-pre-training stage keeps its 1,200 steps. They run only the variants those three claims
 * compare, and judge only those claims.
 *
 * @param name          how the user names it ({@code --models}); its runs go to {@code OUT/<name>/}
 * @param preset        the model preset every run of the scale uses
 * @param experiments   the experiments run at this scale, by id
 * @param skipVariants  variant-name fragments left out at this scale
 * @param keepVariants  when not empty, the only variants run (exact names), whatever the experiment
 * @param pretrainSteps the pre-training stage's steps before {@code --scale} (0: the specs' own)
 * @param claims        when not empty, the only claims judged at this scale (ids)
 * @param about         what differs from the specs, for the report; null when nothing but the preset
 */
public record ModelScale(String name, String preset, List<String> experiments, List<String> skipVariants, List<String> keepVariants,
                         long pretrainSteps, List<String> claims, String about) {

    /** The specs' own scale: every experiment, every variant. */
    public static final ModelScale TOY_XS = new ModelScale("toy-xs", "toy-xs", Experiment.ALL.stream().map(Experiment::id).toList(),
            List.of(), List.of(), 0, List.of(), null);

    /**
     * The larger scale: the §6 experiments, without the warmup-length variants. C5 (warmup length) is
     * the one §6 claim it then cannot test; the four runs a seed would cost 56 ms × 4,800 steps each,
     * which the 90-minute budget on two cores does not have.
     */
    public static final ModelScale TOY_S = new ModelScale("toy-s", "toy-s", List.of("rewarm", "replay", "recipe"), List.of("-warmup-"),
            List.of(), 0, List.of(), "the warmup-length variants (C5) run at toy-xs only, for time");

    /** What C2, C7 and C8 compare: the only variants the long-pre-training scales run. */
    static final List<String> LONG_VARIANTS = List.of(
            // C2 (and the boundary table's redecay-1x)
            "strong-constant-min", "strong-rewarm-constant", "strong-redecay-0.5x", "strong-redecay-1x", "strong-redecay-2x",
            "weak-constant-min", "weak-rewarm-constant", "weak-redecay-1x",
            // C7 (replay 0% is redecay-1x, trained once)
            "weak-replay-0pct", "weak-replay-1pct", "weak-replay-5pct", "weak-replay-10pct", "weak-replay-50pct",
            "strong-replay-0pct", "strong-replay-1pct", "strong-replay-5pct", "strong-replay-10pct", "strong-replay-50pct",
            // C8 (the weak recipe is replay 5%, reused)
            "weak-recipe-replay-5pct", "strong-recipe-replay-25pct", "weak-union", "strong-union");

    private static ModelScale longPretraining(String preset, long steps, String why) {
        return new ModelScale(preset + "-long", preset, List.of("rewarm", "replay", "recipe"), List.of(), LONG_VARIANTS, steps,
                List.of("C2", "C7", "C8"), String.format(java.util.Locale.ROOT,
                        "pre-training of %,d steps instead of 1,200 (%s), the union baseline %,d steps with D0 and D1 in proportion to their stages; only the variants C2, C7 and C8 compare",
                        steps, why, steps + 1200));
    }

    /**
     * toy-xs pre-trained 8× longer: 9.8 M tokens, about 80 per parameter (four times the
     * compute-optimal 20). Single runs of its pre-training alone (docs/reproduction/long-pretraining.md)
     * change D0 by −0.009 nats over the last 20% at 4,800 steps and −0.021 at 19,200, against −0.042 at 1,200.
     */
    public static final ModelScale TOY_XS_LONG = longPretraining("toy-xs", 9_600, "about 80 tokens per parameter");

    /**
     * toy-s pre-trained 4× longer: as long as fits beside the rest on two cores; its loss still falls
     * there (the boundary table says how fast), so its verdicts carry that caveat.
     */
    public static final ModelScale TOY_S_LONG = longPretraining("toy-s", 4_800, "about 6 tokens per parameter, what two cores afford");

    /** The default run: the specs' scale and the larger model at the same budgets. */
    public static final List<ModelScale> ALL = List.of(TOY_XS, TOY_S);

    /** The opt-in long-pre-training scales. */
    public static final List<ModelScale> LONG = List.of(TOY_XS_LONG, TOY_S_LONG);

    public static final List<ModelScale> KNOWN = Stream.concat(ALL.stream(), LONG.stream()).toList();

    /** The first scale is the specs' and keeps their layout ({@code OUT/<experiment>}); others go under {@code OUT/<name>/}. */
    public boolean isFirst() {
        return this.equals(TOY_XS);
    }

    /** The key of {@code experiment} at this scale in {@link Outcomes} and the output directory: {@code rewarm}, {@code toy-s/rewarm}. */
    public String key(String experiment) {
        return isFirst() ? experiment : name + "/" + experiment;
    }

    public boolean runs(String experiment) {
        return experiments.contains(experiment);
    }

    public boolean keeps(String variant) {
        return (keepVariants.isEmpty() || keepVariants.contains(variant)) && skipVariants.stream().noneMatch(variant::contains);
    }

    /** Whether this scale judges claim {@code id} (and so shows it in the claims table). */
    public boolean judges(String id) {
        return claims.isEmpty() || claims.contains(id);
    }

    public static ModelScale byName(String name) {
        for (ModelScale s : KNOWN) if (s.name.equals(name)) return s;
        throw new IllegalArgumentException("no model scale \"" + name + "\"; known: "
                + String.join(", ", KNOWN.stream().map(ModelScale::name).toList()));
    }
}
