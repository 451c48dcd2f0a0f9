package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.data.ArrayTokenSource;
import dev.cpt.data.Batch;
import dev.cpt.data.DataSources;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.StepRecord;
import dev.cpt.spec.SpecReader;
import dev.cpt.train.Engine;
import dev.cpt.train.TrainingLoop;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** core's TrainingLoop driving the simulator end to end, on small in-memory data. */
class TrainingLoopWithSimEngineTest {
    static final String SPEC = """
        { "name": "sim-e2e", "seed": 21,
          "model": { "preset": "toy-xs", "layers": 1, "dModel": 16, "heads": 2, "contextLength": 16, "vocabSize": 32 },
          "batch": { "sequences": 4, "seqLen": 16 },
          "datasets": { "en": { "train": "en.bin", "val": "en-val.bin" }, "de": { "train": "de.bin", "val": "de-val.bin" } },
          "stages": [
            { "name": "pretrain", "steps": 24, "mix": { "en": 1.0 },
              "lr": { "type": "cosine", "max": 0.01, "min": 0.001, "warmup": 0.1 } },
            { "name": "continue", "steps": 16, "mix": { "de": 1.0 }, "replay": { "fraction": 0.25, "from": { "en": 1 } },
              "resetOptimizer": true, "lr": { "type": "cosine", "max": 0.01, "min": 0.001, "warmupSteps": 2 } } ],
          "eval": { "every": 8, "batches": 2 }, "finalLoss": { "lastSteps": 8, "every": 4 },
          "checkpoint": { "every": 10, "keep": 1 } }
        """;

    @TempDir
    Path tmp;

    final RunPlan plan = RunPlan.of(SpecReader.read(SPEC, "x"));

    /** Two "languages": each a noisy repetition of its own pattern, so there is something to learn and to forget. */
    static DataSources data() {
        return new DataSources(Map.of("en", source("en/train", 1, 6000), "de", source("de/train", 2, 6000)),
                Map.of("en", source("en/val", 1, 800), "de", source("de/val", 2, 800)));
    }

    static ArrayTokenSource source(String name, int language, int n) {
        Random rnd = new Random(name.hashCode());
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            int base = language == 1 ? (i * 3) % 11 : 16 + (i * 5) % 13;
            t[i] = rnd.nextInt(10) == 0 ? rnd.nextInt(32) : base;
        }
        return new ArrayTokenSource(name, t);
    }

    @Test
    void aRunTrainsAndAResumedRunEqualsAnUninterruptedOneBitForBit() throws IOException {
        DataSources data = data();
        data.checkCovers(plan);
        float[] straightParams;
        RunSummary summary;
        try (SimEngine e = SimEngine.create(plan.spec(), 2)) {
            summary = new TrainingLoop(plan, e, data, tmp.resolve("a"), null).run(false);
            straightParams = e.model().params().clone();
        }
        List<StepRecord> straight = withoutTimings(tmp.resolve("a/metrics.jsonl"));
        assertThat(straight).hasSize(41);
        assertThat(straight.get(23).loss()).isLessThan(straight.get(0).loss() - 0.5);
        assertThat(summary.datasets()).containsOnlyKeys("en", "de");

        for (int crashAt : new int[] {13, 24, 31}) {
            Path dir = tmp.resolve("b" + crashAt);
            try (SimEngine e = SimEngine.create(plan.spec(), 2)) {
                Engine crashing = new Crashing(e, crashAt);
                assertThatThrownBy(() -> new TrainingLoop(plan, crashing, data, dir, null).run(false))
                        .hasMessageContaining("simulated crash");
            }
            try (SimEngine fresh = SimEngine.create(plan.spec(), 1)) { // another thread count: still bit for bit
                new TrainingLoop(plan, fresh, data, dir, null).run(true);
                assertThat(fresh.model().params()).as("crash at %d", crashAt).isEqualTo(straightParams);
            }
            assertThat(withoutTimings(dir.resolve("metrics.jsonl"))).as("crash at %d", crashAt).isEqualTo(straight);
        }
    }

    private static List<StepRecord> withoutTimings(Path metrics) throws IOException {
        return MetricsLog.read(metrics).stream().map(r -> new StepRecord(r.step(), r.stage(), r.tokens(), r.lr(),
                r.weightDecay(), r.loss(), r.gradNorm(), r.val(), null)).toList();
    }

    /** Passes through to the engine until the {@code crashAt}-th training step, which throws. */
    static final class Crashing implements Engine {
        private final Engine inner;
        private final int crashAt;
        private int calls;

        Crashing(Engine inner, int crashAt) {
            this.inner = inner;
            this.crashAt = crashAt;
        }

        @Override
        public StepResult trainStep(Batch batch, double lr, double weightDecay) {
            if (calls++ == crashAt) throw new IllegalStateException("simulated crash");
            return inner.trainStep(batch, lr, weightDecay);
        }

        @Override
        public double evalLoss(Batch batch) {
            return inner.evalLoss(batch);
        }

        @Override
        public void resetOptimizer() {
            inner.resetOptimizer();
        }

        @Override
        public void save(Path dir) throws IOException {
            inner.save(dir);
        }

        @Override
        public void load(Path dir) throws IOException {
            inner.load(dir);
        }

        @Override
        public EngineInfo info() {
            return inner.info();
        }
    }
}
