package dev.cpt.reproduce;

import java.util.List;

/**
 * A model size the experiments run at. The specs are written for the first, {@code toy-xs}; the
 * second, {@code toy-s} (about 8× the parameters), reruns the §6 experiments with the same token
 * budgets so that C14 (larger models forget less) gets a verdict and the rankings of §6.1 and §6.2
 * can be compared across scale. Only the model preset changes: batch, steps, rates, data and seeds
 * are the specs'.
 *
 * @param preset       the model preset every run of the scale uses
 * @param experiments  the experiments run at this scale, by id
 * @param skipVariants variant-name fragments left out at this scale (with why in {@link #skipReason})
 * @param skipReason   why they are left out, for the report; null when nothing is
 */
public record ModelScale(String preset, List<String> experiments, List<String> skipVariants, String skipReason) {

    /** The specs' own scale: every experiment, every variant. */
    public static final ModelScale TOY_XS = new ModelScale("toy-xs", Experiment.ALL.stream().map(Experiment::id).toList(), List.of(), null);

    /**
     * The larger scale: the §6 experiments, without the warmup-length variants. C5 (warmup length) is
     * the one §6 claim it then cannot test; the four runs a seed would cost 56 ms × 4,800 steps each,
     * which the 90-minute budget on two cores does not have.
     */
    public static final ModelScale TOY_S = new ModelScale("toy-s", List.of("rewarm", "replay", "recipe"), List.of("-warmup-"),
            "the warmup-length variants (C5) run at toy-xs only, for time");

    public static final List<ModelScale> ALL = List.of(TOY_XS, TOY_S);

    /** The first scale is the specs' and keeps their layout ({@code OUT/<experiment>}); others go under {@code OUT/<preset>/}. */
    public boolean isFirst() {
        return this.equals(TOY_XS);
    }

    /** The key of {@code experiment} at this scale in {@link Outcomes} and the output directory: {@code rewarm}, {@code toy-s/rewarm}. */
    public String key(String experiment) {
        return isFirst() ? experiment : preset + "/" + experiment;
    }

    public boolean runs(String experiment) {
        return experiments.contains(experiment);
    }

    public boolean keeps(String variant) {
        return skipVariants.stream().noneMatch(variant::contains);
    }

    public static ModelScale byPreset(String preset) {
        for (ModelScale s : ALL) if (s.preset.equals(preset)) return s;
        throw new IllegalArgumentException("no model scale \"" + preset + "\"; known: "
                + String.join(", ", ALL.stream().map(ModelScale::preset).toList()));
    }
}
