package dev.cpt.reproduce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.TestSpecs;
import dev.cpt.sweep.SharedStages;
import dev.cpt.sweep.SweepListener;
import dev.cpt.train.FunctionEngine;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The workload a reproduction announces before it starts is what its sweeps then train: every
 * experiment of examples/paper at both scales, in miniature, on the training loop's function engine,
 * with shared stages and without, and again over finished runs.
 */
class WorkloadTest {
    static final Path SPECS = Path.of("..", "examples", "paper");

    @TempDir
    Path tmp;

    /** Per part, the steps its sweep said it would train (its total less what was done before it). */
    static final class Recorder implements Reproduction.Listener {
        Workload announced;
        final List<Long> trained = new ArrayList<>();

        @Override
        public void started(Workload work) {
            announced = work;
        }

        @Override
        public SweepListener experimentStarted(Reproduction.Part part, int reused) {
            int index = trained.size();
            trained.add(0L);
            return new SweepListener() {
                long before;

                @Override
                public void sweepStarted(List<String> variants, long done, long total) {
                    before = done;
                    trained.set(index, total - done);
                }

                @Override
                public void stepDone(String variant, long variantDone, long done, long total) {
                    trained.set(index, total - before);
                }
            };
        }
    }

    static Reproduction.Options options() {
        return new Reproduction.Options(0.02, 2, 2, List.of(), "test");
    }

    static Recorder reproduce(Path out, SharedStages shared) throws IOException {
        Recorder r = new Recorder();
        Reproduction.Result result = Reproduction.run(SPECS, out, options(), (plan, threads) -> new FunctionEngine(),
                plan -> TestSpecs.countingData(20_000, plan.datasetNames().toArray(String[]::new)), r, shared);
        assertThat(result.failures()).isEmpty();
        return r;
    }

    @Test
    void theAnnouncedStepsAreWhatEachPartTrains() throws IOException {
        Recorder shared = reproduce(tmp.resolve("shared"), SharedStages.create());
        Workload w = shared.announced;
        assertThat(w.parts()).extracting(Reproduction.Part::key).containsExactly("rewarm", "replay", "recipe", "no-shift", "infinite",
                "iid-splits", "ptwd", "toy-s/rewarm", "toy-s/replay", "toy-s/recipe");
        assertThat(w.steps()).isEqualTo(shared.trained);
        // Sharing and copies leave parts with little or nothing of their own (the recipe's runs are the replay sweep's).
        assertThat(w.steps().get(2)).isLessThan(w.steps().get(1));

        Recorder alone = reproduce(tmp.resolve("alone"), SharedStages.none());
        assertThat(alone.announced.steps()).isEqualTo(alone.trained);
        long sharedSteps = w.steps().stream().mapToLong(Long::longValue).sum();
        long aloneSteps = alone.announced.steps().stream().mapToLong(Long::longValue).sum();
        assertThat(sharedSteps).isLessThan(aloneSteps);

        // A toy-s step weighs more than a toy-xs step of the same batch.
        double xs = w.flops().get(0) / w.steps().get(0);
        double s = w.flops().get(7) / w.steps().get(7);
        assertThat(s).isGreaterThan(4 * xs);
        assertThat(w.totalFlops()).isEqualTo(w.flopsBefore(w.parts().size()));

        // Over finished runs nothing is left.
        Workload again = Workload.of(Reproduction.read(SPECS, options()), tmp.resolve("shared"), true);
        assertThat(again.steps()).allMatch(n -> n == 0);
        assertThat(again.totalFlops()).isZero();
    }
}
