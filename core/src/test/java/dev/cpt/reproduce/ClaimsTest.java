package dev.cpt.reproduce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.metrics.RunSummary;
import dev.cpt.record.StepRecord;
import dev.cpt.sweep.SweepSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClaimsTest {

    static final Path SPECS = Path.of("..", "examples", "paper");

    @Test
    void thereAreThirteenClaimsInOrder() {
        assertThat(Claims.all()).extracting(Claim::id)
                .containsExactly("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C12", "C13");
        assertThat(Claims.all()).allSatisfy(c -> assertThat(c.comparisons()).isNotEmpty());
    }

    /** Every run a claim compares is a variant of its experiment's spec: a renamed variant would leave a claim untested. */
    @Test
    void everyComparedRunExistsInTheExperimentSpecs() {
        Outcomes outcomes = new Outcomes();
        for (Experiment e : Experiment.ALL) {
            SweepSpec sweep = ScaledSweep.read(SPECS.resolve(e.file()), 0.05, 2);
            for (SweepSpec.Variant v : sweep.variants()) {
                outcomes.add(e.id(), Outcomes.variantOf(v.name()), v.spec().seed(), fakeRun(v));
            }
        }
        for (Claim c : Claims.all()) {
            for (Comparison.Result r : c.measure(outcomes).comparisons()) {
                assertThat(r.missing()).as(c.id() + ": " + r.label()).isNull();
                assertThat(r.seeds()).as(c.id() + ": " + r.label()).containsExactly(1L, 2L);
            }
        }
    }

    @Test
    void comparisonsPairTheSameSeedsRuns() {
        Outcomes o = new Outcomes();
        // seed 1: constant-min forgets 0.10 vs re-warm 0.30; seed 2: 0.12 vs 0.25
        o.add("rewarm", "weak-constant-min", 1, run(0.10, 2.0));
        o.add("rewarm", "weak-rewarm-constant", 1, run(0.30, 2.0));
        o.add("rewarm", "weak-constant-min", 2, run(0.12, 2.2));
        o.add("rewarm", "weak-rewarm-constant", 2, run(0.25, 2.2));
        Comparison c = Claims.diff("F", Rule.less(), "rewarm", "weak-constant-min", "weak-rewarm-constant",
                Claims.forgetting(), Claims.d0Loss());
        Comparison.Result r = c.measure(o);
        var eps = org.assertj.core.data.Offset.offset(1e-12);
        assertThat(r.seeds()).containsExactly(1L, 2L);
        assertThat(r.differences().get(0)).isCloseTo(-0.20, eps);
        assertThat(r.differences().get(1)).isCloseTo(-0.13, eps);
        assertThat(r.mean()).isCloseTo(-0.165, eps);
        assertThat(r.spread()).isCloseTo(0.035, eps);
        assertThat(r.reference()).isCloseTo(2.1, eps);
        assertThat(r.verdict()).isEqualTo(Verdict.REPRODUCED);
        assertThat(r.missing()).isNull();

        // a seed whose run is missing decides nothing, and the report says which
        o.add("rewarm", "weak-constant-min", 3, run(0.0, 2.0));
        Comparison.Result partial = c.measure(o);
        assertThat(partial.seeds()).containsExactly(1L, 2L);
        assertThat(partial.missing()).contains("seed [3]");
    }

    /** At toy-s every claim whose experiments it runs finds every run; C5 (its warmup variants are left out) finds none. */
    @Test
    void atTheSecondScaleTheClaimsItRunsFindTheirRuns() {
        Outcomes outcomes = new Outcomes();
        for (ModelScale m : ModelScale.ALL) {
            for (Experiment e : Experiment.ALL) {
                if (!m.runs(e.id())) continue;
                for (SweepSpec.Variant v : ScaledSweep.read(SPECS.resolve(e.file()), 0.05, 2, m).variants()) {
                    assertThat(v.spec().model().preset()).isEqualTo(m.preset());
                    outcomes.add(m.key(e.id()), Outcomes.variantOf(v.name()), v.spec().seed(), fakeRun(v));
                }
            }
        }
        List<String> measured = new java.util.ArrayList<>();
        for (Claim c : Claims.all(ModelScale.TOY_S)) {
            Claim.Result r = c.measure(outcomes);
            if (!Claims.measuredAnything(r)) continue;
            measured.add(c.id());
            for (Comparison.Result x : r.comparisons()) assertThat(x.missing()).as(c.id() + ": " + x.label()).isNull();
        }
        assertThat(measured).containsExactly("C1", "C2", "C3", "C4", "C6", "C7", "C8", "C9", "C10");
        Claim.Result c14 = Claims.c14(ModelScale.TOY_XS, ModelScale.TOY_S).measure(outcomes);
        assertThat(c14.comparisons()).hasSize(2).allSatisfy(x -> assertThat(x.seeds()).containsExactly(1L, 2L));
    }

    @Test
    void c14ComparesForgettingOfTheSameSeedAcrossScales() {
        Outcomes o = new Outcomes();
        for (String shift : List.of("weak", "strong")) {
            o.add("rewarm", shift + "-redecay-1x", 1, run(0.30, 2.0));
            o.add("rewarm", shift + "-redecay-1x", 2, run(0.28, 2.2));
            o.add("toy-s/rewarm", shift + "-redecay-1x", 1, run(0.20, 1.8));
            o.add("toy-s/rewarm", shift + "-redecay-1x", 2, run(0.25, 1.9));
        }
        Claim.Result r = Claims.c14(ModelScale.TOY_XS, ModelScale.TOY_S).measure(o);
        var eps = org.assertj.core.data.Offset.offset(1e-12);
        Comparison.Result weak = r.comparisons().getFirst();
        assertThat(weak.differences().get(0)).isCloseTo(-0.10, eps);
        assertThat(weak.differences().get(1)).isCloseTo(-0.03, eps);
        assertThat(weak.reference()).isCloseTo(2.1, eps); // the smaller model's D0 loss
        assertThat(r.verdict()).isEqualTo(Verdict.REPRODUCED);

        // the larger model forgetting more on one seed beyond the other's margin: not reproduced
        o.add("toy-s/rewarm", "strong-redecay-1x", 2, run(0.60, 1.9));
        assertThat(Claims.c14(ModelScale.TOY_XS, ModelScale.TOY_S).measure(o).verdict()).isEqualTo(Verdict.INCONCLUSIVE);
    }

    static Outcomes.Run run(double forgetting, double d0Loss) {
        var d = new RunSummary.DatasetSummary(d0Loss, Map.of("pretrain", d0Loss - forgetting), forgetting, forgetting, null);
        RunSummary s = new RunSummary("x", 0, 0, Map.of("en", d), d0Loss, null, null);
        return new Outcomes.Run(s, List.of(), null);
    }

    /** A run whose every dataset has every number, and one evaluation after the first stage. */
    static Outcomes.Run fakeRun(SweepSpec.Variant v) {
        Map<String, RunSummary.DatasetSummary> datasets = new LinkedHashMap<>();
        Map<String, Double> val = new LinkedHashMap<>();
        Map<String, Double> stageEnd = new LinkedHashMap<>();
        v.plan().stages().forEach(s -> stageEnd.put(s.name(), 1.5));
        for (String d : v.plan().datasetNames()) {
            datasets.put(d, new RunSummary.DatasetSummary(1.4, stageEnd, 0.1, 0.2, 0.3));
            val.put(d, 1.6);
        }
        RunSummary s = new RunSummary(v.spec().name(), v.plan().totalSteps(), 0, datasets, 1.4, v.spec().finalLoss(), null);
        long after = v.plan().stages().getFirst().end() + 1;
        StepRecord eval = new StepRecord(after, "x", 0, null, null, null, null, val, null);
        return new Outcomes.Run(s, List.of(eval), v.plan());
    }
}
