package dev.cpt.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.cpt.TestSpecs;
import dev.cpt.plan.RunPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunSummaryTest {

    /** en → de, 100 + 100 steps; final loss over the last 20 steps every 10: two evaluations. */
    final RunPlan plan = TestSpecs.plan(TestSpecs.twoStage(100, 100, "",
            ", \"finalLoss\": { \"lastSteps\": 20, \"every\": 10 }"));

    @Test
    void finalLossForgettingAndAdaptationByHand() {
        List<EvalPoint> evals = new ArrayList<>();
        evals.add(new EvalPoint(0, Map.of("en", 5.0, "de", 5.5)));
        evals.add(new EvalPoint(80, Map.of("en", 2.6, "de", 4.2)));  // outside the window (k < 2: 100, 90)
        evals.add(new EvalPoint(90, Map.of("en", 2.2, "de", 4.0)));
        evals.add(new EvalPoint(100, Map.of("en", 2.0, "de", 3.8)));
        evals.add(new EvalPoint(150, Map.of("en", 3.1, "de", 2.5)));  // the peak of en's rise
        evals.add(new EvalPoint(190, Map.of("en", 2.6, "de", 2.1)));
        evals.add(new EvalPoint(200, Map.of("en", 2.4, "de", 1.9)));
        RunSummary s = RunSummary.compute(plan, evals, 1.0);

        var en = s.datasets().get("en");
        var de = s.datasets().get("de");
        assertThat(en.stageEndLoss().get("pretrain")).isCloseTo(2.1, within(1e-12));   // (2.2 + 2.0) / 2
        assertThat(en.finalLoss()).isCloseTo(2.5, within(1e-12));                       // (2.6 + 2.4) / 2
        assertThat(en.forgetting()).isCloseTo(0.4, within(1e-12));                      // 2.5 − 2.1
        assertThat(en.peakForgetting()).isCloseTo(1.0, within(1e-12));                  // 3.1 − 2.1
        assertThat(en.adaptation()).isNull();                                           // not trained in the last stage
        assertThat(de.finalLoss()).isCloseTo(2.0, within(1e-12));                       // (2.1 + 1.9) / 2
        assertThat(de.forgetting()).isNull();
        assertThat(de.adaptation()).isCloseTo(3.9 - 2.0, within(1e-12));                // stage-end (4.0+3.8)/2 − final
        assertThat(s.averageFinalLoss()).isCloseTo(2.25, within(1e-12));
        assertThat(s.steps()).isEqualTo(200);
        assertThat(s.tokens()).isEqualTo(200L * 8 * 16);
    }

    @Test
    void windowEvaluationStepsAreTheLastStepsOfEachStage() {
        List<Long> due = new ArrayList<>();
        for (long step = 0; step <= 200; step++) if (RunSummary.inWindow(plan, step)) due.add(step);
        assertThat(due).containsExactly(90L, 100L, 190L, 200L);
    }

    @Test
    void theAverageLeavesOutDatasetsTheRunOnlyEvaluates() {
        RunPlan threeSets = TestSpecs.plan(TestSpecs.twoStage(100, 100, "",
                ", \"finalLoss\": { \"lastSteps\": 10, \"every\": 10 }")
                .replace("\"de\": { \"train\": \"de.bin\", \"val\": \"de-val.bin\" } }",
                        "\"de\": { \"train\": \"de.bin\", \"val\": \"de-val.bin\" }, \"fr\": { \"val\": \"fr-val.bin\" } }"));
        RunSummary s = RunSummary.compute(threeSets, List.of(
                new EvalPoint(100, Map.of("en", 2.0, "de", 4.0, "fr", 5.0)),
                new EvalPoint(200, Map.of("en", 2.5, "de", 2.0, "fr", 9.0))), 1.0);
        assertThat(s.datasets().get("fr").finalLoss()).isEqualTo(9.0);
        assertThat(s.averageFinalLoss()).isCloseTo(2.25, within(1e-12)); // (2.5 + 2.0) / 2, fr left out
    }
}
