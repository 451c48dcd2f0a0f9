package dev.cpt.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.cpt.TestSpecs;
import dev.cpt.spec.SpecException;
import org.junit.jupiter.api.Test;

class RunPlanTest {

    static String spec(String stages, String runLevel) {
        return """
            { "name": "p", "model": { "preset": "toy-xs" }, "batch": { "sequences": 4, "seqLen": 32 },
              "datasets": { "a": { "train": "a" }, "b": { "train": "b" }, "c": { "train": "c" } },
              "stages": [ %s ] %s }
            """.formatted(stages, runLevel);
    }

    @Test
    void tokensBecomeStepsRoundedDownAndStagesFollowEachOther() {
        RunPlan plan = TestSpecs.plan(spec("""
            { "name": "one", "tokens": 12800, "mix": { "a": 1 } },
            { "name": "two", "tokens": 1.29e4, "mix": { "b": 1 } },
            { "name": "three", "steps": 7, "mix": { "c": 1 } }
            """, ", \"lr\": { \"type\": \"constant\", \"value\": 0.001 }"));
        // 128 tokens a step: 12800 → 100 steps, 12900 → 100 (rounded down), then 7.
        assertThat(plan.stages()).extracting(Stage::start).containsExactly(0L, 100L, 200L);
        assertThat(plan.stages()).extracting(Stage::steps).containsExactly(100L, 100L, 7L);
        assertThat(plan.totalSteps()).isEqualTo(207);
        assertThat(plan.stageAt(99).name()).isEqualTo("one");
        assertThat(plan.stageAt(100).name()).isEqualTo("two");
        assertThat(plan.stageAt(206).name()).isEqualTo("three");
    }

    @Test
    void aStageScheduleSpansItsStageAndRewarmsWhileTheRunScheduleSpansAll() {
        RunPlan plan = TestSpecs.plan(spec("""
            { "name": "one", "steps": 100, "mix": { "a": 1 } },
            { "name": "two", "steps": 100, "mix": { "b": 1 },
              "lr": { "type": "cosine", "max": 2e-3, "min": 2e-4, "warmupSteps": 10 } }
            """, ", \"lr\": { \"type\": \"linear\", \"max\": 1e-3, \"min\": 0, \"warmupSteps\": 0 }"));
        // Stage one follows the run's linear decay over 200 steps: 1e-3 · (1 − t/200).
        assertThat(plan.lrAt(0)).isEqualTo(1e-3);
        assertThat(plan.lrAt(50)).isCloseTo(0.75e-3, within(1e-18));
        assertThat(plan.lrAt(99)).isCloseTo(1e-3 * 101 / 200, within(1e-18));
        // Stage two re-warms from 0 over its own 10 steps, then re-decays to 2e-4 at its end.
        assertThat(plan.lrAt(100)).isEqualTo(0);
        assertThat(plan.lrAt(105)).isCloseTo(1e-3, within(1e-18));
        assertThat(plan.lrAt(110)).isEqualTo(2e-3);
        assertThat(plan.lrAt(155)).isCloseTo(1.1e-3, within(1e-15)); // halfway down the cosine: (max+min)/2
        assertThat(plan.weightDecayAt(150)).isEqualTo(0.1);
    }

    @Test
    void aRunLevelInfiniteScheduleCarriesAcrossStages() {
        RunPlan plan = TestSpecs.plan(spec("""
            { "name": "one", "steps": 100, "mix": { "a": 1 }, "resetOptimizer": true },
            { "name": "two", "steps": 100, "mix": { "b": 1 }, "resetOptimizer": true },
            { "name": "three", "steps": 100, "mix": { "c": 1 }, "resetOptimizer": true }
            """, """
            , "lr": { "type": "infinite", "max": 3e-4, "const": 1.65e-4, "min": 3e-5,
                      "warmupSteps": 1, "cooldownSteps": 60, "annealSteps": 30 }
            """));
        assertThat(plan.lrAt(1)).isEqualTo(3e-4);
        assertThat(plan.lrAt(61)).isEqualTo(1.65e-4);
        assertThat(plan.lrAt(100)).isEqualTo(1.65e-4); // no re-warm at the boundary
        assertThat(plan.lrAt(270)).isEqualTo(1.65e-4);
        // anneal over (270, 300]: 1.65e-4 · (3e-5/1.65e-4)^(15/30) at t = 285
        assertThat(plan.lrAt(285)).isCloseTo(1.65e-4 * Math.sqrt(3e-5 / 1.65e-4), within(1e-18));
        assertThat(plan.stages()).allMatch(Stage::resetOptimizer);
    }

    @Test
    void sharesSplitNewDataAndReplayByTheirWeights() {
        RunPlan plan = TestSpecs.plan(spec("""
            { "name": "one", "steps": 10, "mix": { "a": 3, "b": 1 } },
            { "name": "two", "steps": 10, "mix": { "c": 1 }, "replay": { "fraction": 0.2, "from": { "a": 1, "b": 1 } } }
            """, ", \"lr\": { \"type\": \"constant\", \"value\": 0.001 }"));
        assertThat(plan.stages().get(0).shares()).containsExactly(
                new Share("a", Share.Role.NEW, 0.75), new Share("b", Share.Role.NEW, 0.25));
        assertThat(plan.stages().get(1).shares()).containsExactly(
                new Share("c", Share.Role.NEW, 0.8), new Share("a", Share.Role.REPLAY, 0.1), new Share("b", Share.Role.REPLAY, 0.1));
        assertThat(plan.stages().get(1).trainsOn("a")).isFalse();
        assertThat(plan.stages().get(0).trainsOn("a")).isTrue();
    }

    @Test
    void spanDependentProblemsAreReportedTogetherWithPaths() {
        assertThatThrownBy(() -> TestSpecs.plan(spec("""
            { "name": "one", "steps": 10, "mix": { "a": 1 },
              "lr": { "type": "cosine", "max": 1e-3, "min": 1e-4, "warmupSteps": 11 } },
            { "name": "two", "steps": 20, "mix": { "b": 1 },
              "weightDecay": { "type": "piecewise", "pieces": [ { "until": 0.5, "value": 0 }, { "until": 0.9, "value": 0.1 } ] } }
            """, ", \"lr\": { \"type\": \"wsd\", \"max\": 1e-3, \"min\": 0, \"warmupSteps\": 20, \"decaySteps\": 20 }")))
                .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.problems()).extracting(Object::toString)
                        .containsExactlyInAnyOrder(
                                "lr: phases take 40 steps (warmup 20 + decay 20) but the span has only 30",
                                "stages[0].lr: phases take 11 steps (warmup 11) but the span has only 10",
                                "stages[1].weightDecay.pieces[1]: the last piece ends at step 18 but the span has 20 steps:"
                                        + " it must reach the end (until 1.0)"));
    }

    @Test
    void tokensBelowOneStepAreAProblem() {
        assertThatThrownBy(() -> TestSpecs.plan(spec("{ \"name\": \"one\", \"tokens\": 100, \"mix\": { \"a\": 1 } }",
                ", \"lr\": { \"type\": \"constant\", \"value\": 0.001 }")))
                .hasMessageContaining("stages[0].tokens: 100 tokens are less than one step of 4 × 32 = 128 tokens");
    }
}
