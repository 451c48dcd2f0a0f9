package dev.cpt.reproduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.spec.ScheduleSpec;
import dev.cpt.sweep.SweepSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ScaledSweepTest {

    static final Path SPECS = Path.of("..", "examples", "paper");

    @Test
    void everyExperimentReadsAtAnyScaleWithSeedsOneToN() {
        assertThat(ScaledSweep.hasAll(SPECS)).isTrue();
        for (Experiment e : Experiment.ALL) {
            SweepSpec full = ScaledSweep.read(SPECS.resolve(e.file()), 1, 2);
            SweepSpec quick = ScaledSweep.read(SPECS.resolve(e.file()), 1.0 / 3, 2);
            assertThat(full.variants()).hasSameSizeAs(quick.variants());
            assertThat(full.variants()).allSatisfy(v -> assertThat(v.name()).matches(".+@seed=[12]"));
            for (int i = 0; i < full.variants().size(); i++) {
                long a = full.variants().get(i).plan().totalSteps(), b = quick.variants().get(i).plan().totalSteps();
                assertThat((double) b).as(e.id() + " " + full.variants().get(i).name()).isCloseTo(a / 3.0, org.assertj.core.data.Offset.offset(2.0));
            }
        }
    }

    @Test
    void stepCountsScaleInTheBaseInVariantsAndInStepPhasesButRatesAndFractionsDoNot() {
        SweepSpec rewarm = ScaledSweep.read(SPECS.resolve("rewarm.json"), 0.5, 1);
        var v = rewarm.variant("weak-redecay-2x@seed=1");
        assertThat(v.plan().stages()).extracting(s -> s.end() - s.start()).containsExactly(600L, 600L);
        assertThat(v.spec().eval().every()).isEqualTo(25L);
        assertThat(v.spec().finalLoss().lastSteps()).isEqualTo(50L);
        assertThat(((ScheduleSpec.Cosine) v.spec().stages().get(1).lr()).max()).isEqualTo(0.006);
        // a variant that replaces the stages (the union baseline) is scaled too
        assertThat(rewarm.variant("weak-union@seed=1").plan().totalSteps()).isEqualTo(1200L);

        SweepSpec splits = ScaledSweep.read(SPECS.resolve("iid-splits.json"), 0.5, 1);
        var inf = (ScheduleSpec.Infinite) splits.variant("infinite-cosine@seed=1").spec().lr();
        assertThat(inf.cooldownSteps()).isEqualTo(240L);
        assertThat(inf.annealSteps()).isEqualTo(120L);
    }

    @Test
    void aLongPretrainingScaleLengthensPretrainingAndTheUnionAndKeepsOnlyWhatC2C7C8Compare() {
        ModelScale m = ModelScale.TOY_XS_LONG;
        long p = m.pretrainSteps();
        java.util.Set<String> ran = new java.util.HashSet<>();
        for (String id : m.experiments()) {
            SweepSpec sweep = ScaledSweep.read(SPECS.resolve(id + ".json"), 1, 1, m);
            for (SweepSpec.Variant v : sweep.variants()) {
                String name = v.name().replace("@seed=1", "");
                ran.add(name);
                assertThat(v.spec().model().preset()).isEqualTo("toy-xs");
                var steps = v.plan().stages().stream().map(s -> s.end() - s.start()).toList();
                if (name.endsWith("-union")) {
                    assertThat(steps).as(name).containsExactly(p + 1200); // both stages' tokens, from scratch
                    // each dataset in proportion to its stage: the data the sequential runs see, each once
                    var mix = v.spec().stages().getFirst().mix();
                    assertThat(mix.get("en")).isCloseTo((double) p / (p + 1200), org.assertj.core.data.Offset.offset(1e-12));
                    assertThat(mix.get(name.startsWith("weak") ? "en-b" : "de")).isCloseTo(1200.0 / (p + 1200), org.assertj.core.data.Offset.offset(1e-12));
                } else {
                    assertThat(steps).as(name).containsExactly(p, 1200L); // continued pre-training keeps its budget
                }
            }
        }
        assertThat(ran).containsExactlyInAnyOrderElementsOf(ModelScale.LONG_VARIANTS);

        // --scale applies after: every phase keeps its share.
        SweepSpec quick = ScaledSweep.read(SPECS.resolve("recipe.json"), 0.5, 1, m);
        assertThat(quick.variant("weak-union@seed=1").plan().totalSteps()).isEqualTo((p + 1200) / 2);
        assertThat(quick.variant("strong-recipe-replay-25pct@seed=1").plan().stages().getFirst().end()).isEqualTo(p / 2);

        // A D0-only variant (one "pretrain" stage) is pre-training alone, as long as the scale's.
        ModelScale withD0 = new ModelScale("d0", "toy-xs", java.util.List.of("recipe"), java.util.List.of(),
                java.util.List.of("d0-only", "weak-d1-only"), 3000, java.util.List.of(), null);
        SweepSpec recipe = ScaledSweep.read(SPECS.resolve("recipe.json"), 1, 1, withD0);
        assertThat(recipe.variant("d0-only@seed=1").plan().totalSteps()).isEqualTo(3000L);
        assertThat(recipe.variant("weak-d1-only@seed=1").plan().totalSteps()).isEqualTo(1200L);
    }

    @Test
    void aLongPretrainingScaleNamesASweepWithoutAPretrainingStage(@org.junit.jupiter.api.io.TempDir Path tmp) throws java.io.IOException {
        String base = java.nio.file.Files.readString(SPECS.resolve("base.json")).replace("\"name\": \"pretrain\"", "\"name\": \"warm\"");
        java.nio.file.Files.writeString(tmp.resolve("base.json"), base);
        java.nio.file.Files.writeString(tmp.resolve("rewarm.json"), java.nio.file.Files.readString(SPECS.resolve("rewarm.json")));
        assertThatThrownBy(() -> ScaledSweep.read(tmp.resolve("rewarm.json"), 1, 1, ModelScale.TOY_XS_LONG))
                .hasMessageContaining("rewarm.json").hasMessageContaining("base.stages[0]")
                .hasMessageContaining("expected the pre-training stage (named \"pretrain\", with steps) to lengthen");
    }

    @Test
    void badArgumentsAreRefused() {
        assertThatThrownBy(() -> ScaledSweep.read(SPECS.resolve("rewarm.json"), 0, 2)).hasMessageContaining("scale must be positive");
        assertThatThrownBy(() -> ScaledSweep.read(SPECS.resolve("rewarm.json"), 1, 0)).hasMessageContaining("seeds must be at least 1");
    }
}
