package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.data.DataSources;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.Json;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.StepRecord;
import dev.cpt.sweep.SharedStages;
import dev.cpt.sweep.SweepResult;
import dev.cpt.sweep.SweepRunner;
import dev.cpt.sweep.SweepSpec;
import dev.cpt.train.EngineFactory;
import dev.cpt.train.TrainingLoop;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared stages with the real simulator: the runs of a sweep that agree on pre-training train it
 * once, and each run's records and final weights equal those of the run trained by itself (with
 * another thread count, too: the simulator's numbers do not depend on it).
 */
class SharedStagesWithSimEngineTest {
    @TempDir
    Path tmp;

    @Test
    void eachRunOfASweepThatSharesPreTrainingEqualsTheRunTrainedAlone() throws IOException {
        SweepSpec sweep = SweepSpec.read("""
            { "name": "share", "base": %s, "variants": {
                "replay": {},
                "no-replay": { "stages[1].replay": null },
                "hot": { "stages[1].lr.max": 0.03 } } }
            """.formatted(TrainingLoopWithSimEngineTest.SPEC), "sweep.json", Path.of("."));
        DataSources data = TrainingLoopWithSimEngineTest.data();
        EngineFactory sim = (plan, threads) -> SimEngine.create(plan.spec(), threads);

        SweepResult r = SweepRunner.run(sweep, tmp.resolve("sweep"), 2, sim, plan -> data, null);
        assertThat(r.ok()).isTrue();
        assertThat(r.sharedSteps()).isEqualTo(2 * 24);

        for (SweepSpec.Variant v : sweep.variants()) {
            RunPlan plan = v.plan();
            Path alone = tmp.resolve("alone-" + v.name());
            float[] aloneParams;
            try (SimEngine e = SimEngine.create(plan.spec(), 1)) {
                new TrainingLoop(plan, e, data, alone, null).run(false);
                aloneParams = e.model().params().clone();
            }
            Path shared = SweepRunner.runDir(tmp.resolve("sweep"), v.name());
            assertThat(withoutTimings(shared)).as(v.name()).hasSize(41).isEqualTo(withoutTimings(alone));
            assertThat(Json.MAPPER.readTree(shared.resolve("summary.json").toFile()).get("datasets")).as(v.name())
                    .isEqualTo(Json.MAPPER.readTree(alone.resolve("summary.json").toFile()).get("datasets"));
            // the final checkpoint holds the weights training alone ends with
            try (SimEngine e = SimEngine.create(plan.spec(), 1)) {
                e.load(shared.resolve("checkpoints/step-00000040/engine"));
                assertThat(e.model().params()).as(v.name()).isEqualTo(aloneParams);
            }
        }
        assertThat(SweepRunner.runDir(tmp.resolve("sweep"), "no-replay").resolve(SharedStages.SHARED_JSON)).exists();
    }

    private static List<StepRecord> withoutTimings(Path runDir) throws IOException {
        return MetricsLog.read(runDir.resolve("metrics.jsonl")).stream().map(r -> new StepRecord(r.step(), r.stage(), r.tokens(), r.lr(),
                r.weightDecay(), r.loss(), r.gradNorm(), r.val(), null)).toList();
    }
}
