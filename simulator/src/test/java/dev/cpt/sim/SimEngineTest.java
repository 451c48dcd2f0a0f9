package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.data.Batch;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import dev.cpt.spec.SpecReader;
import dev.cpt.train.Engine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimEngineTest {
    static final ModelSpec.Shape SHAPE = new ModelSpec.Shape("gpt2", 2, 32, 2, 24, 48);
    static final OptimizerSpec OPT = new OptimizerSpec(0.9, 0.95, 1e-8, 1.0);
    static final int SEQUENCES = 3;
    static final int SEQ_LEN = 20;

    @TempDir
    Path tmp;

    static Batch batch(long seed, int vocab) {
        Batch b = new Batch(SEQUENCES, SEQ_LEN);
        Random rnd = new Random(seed);
        for (int i = 0; i < b.tokens().length; i++) b.tokens()[i] = rnd.nextInt(vocab);
        return b;
    }

    static double[] train(SimEngine e, int fromStep, int steps) {
        double[] losses = new double[steps];
        for (int s = 0; s < steps; s++) {
            losses[s] = e.trainStep(batch(fromStep + s, SHAPE.vocabSize()), 3e-3, 0.1).loss();
        }
        return losses;
    }

    @Test
    void theSameSeedGivesBitIdenticalTrainingForAFixedThreadCount() {
        try (SimEngine a = new SimEngine(SHAPE, OPT, 9, SEQ_LEN, 2); SimEngine b = new SimEngine(SHAPE, OPT, 9, SEQ_LEN, 2);
             SimEngine other = new SimEngine(SHAPE, OPT, 10, SEQ_LEN, 2)) {
            assertThat(a.model().params()).isEqualTo(b.model().params());
            assertThat(other.model().params()).isNotEqualTo(a.model().params());
            assertThat(train(a, 0, 6)).isEqualTo(train(b, 0, 6));
            assertThat(a.model().params()).isEqualTo(b.model().params());
        }
    }

    /**
     * Bitwise, not just within 1e-5: every kernel gives each output element to one thread and
     * computes it by the same operations in the same order whatever the thread count (the work
     * splits fall on vector and tile boundaries; sums over the batch run in a fixed order; the
     * gradient norm sums fixed chunks), so the thread count changes the speed, never the numbers.
     */
    @Test
    void oneTwoAndThreeThreadsGiveBitIdenticalLosses() {
        double[] one;
        float[] params;
        try (SimEngine e = new SimEngine(SHAPE, OPT, 4, SEQ_LEN, 1)) {
            one = train(e, 0, 5);
            params = e.model().params().clone();
        }
        for (int threads : new int[] {2, 3}) {
            try (SimEngine e = new SimEngine(SHAPE, OPT, 4, SEQ_LEN, threads)) {
                double[] losses = train(e, 0, 5);
                for (int i = 0; i < losses.length; i++) assertThat(Math.abs(losses[i] - one[i])).isLessThanOrEqualTo(1e-5);
                assertThat(losses).as("%d threads", threads).isEqualTo(one);
                assertThat(e.model().params()).isEqualTo(params);
            }
        }
    }

    /**
     * A sweep lends a run the cores its finished neighbours left, between steps: growing the pool
     * past the count it was built with, shrinking it and growing it again leaves every loss,
     * evaluation and weight as one thread computes them.
     */
    @Test
    void changingTheThreadCountBetweenStepsChangesNoNumber() {
        double[] one = new double[8];
        double[] evalOne = new double[8];
        float[] params;
        try (SimEngine e = new SimEngine(SHAPE, OPT, 4, SEQ_LEN, 1)) {
            for (int s = 0; s < 8; s++) {
                one[s] = e.trainStep(batch(s, SHAPE.vocabSize()), 3e-3, 0.1).loss();
                evalOne[s] = e.evalLoss(batch(100 + s, SHAPE.vocabSize()));
            }
            params = e.model().params().clone();
        }
        int[] counts = {3, 1, 2, 4, 1, 3, 2, 1};
        try (SimEngine e = new SimEngine(SHAPE, OPT, 4, SEQ_LEN, 2)) {
            assertThat(e.canChangeThreads()).isTrue();
            for (int s = 0; s < 8; s++) {
                e.setThreads(counts[s]);
                assertThat(e.trainStep(batch(s, SHAPE.vocabSize()), 3e-3, 0.1).loss()).as("step %d on %d threads", s, counts[s]).isEqualTo(one[s]);
                assertThat(e.evalLoss(batch(100 + s, SHAPE.vocabSize()))).isEqualTo(evalOne[s]);
            }
            assertThat(e.model().params()).isEqualTo(params);
            assertThatThrownBy(() -> e.setThreads(0)).hasMessageContaining("at least 1");
        }
    }

    @Test
    void aLoadedCheckpointContinuesBitIdentically() throws IOException {
        double[] straight;
        try (SimEngine a = new SimEngine(SHAPE, OPT, 1, SEQ_LEN, 2)) {
            train(a, 0, 4);
            a.save(tmp.resolve("ckpt"));
            straight = train(a, 4, 4);
        }
        try (Stream<Path> files = Files.list(tmp.resolve("ckpt"))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted())
                    .as("no temporary files are left").containsExactly(SimEngine.WEIGHTS, SimEngine.OPTIMIZER);
        }
        try (SimEngine b = new SimEngine(SHAPE, OPT, 99, SEQ_LEN, 1)) {
            b.load(tmp.resolve("ckpt"));
            assertThat(b.optimizerStep()).isEqualTo(4);
            assertThat(train(b, 4, 4)).isEqualTo(straight);
        }
    }

    @Test
    void resetOptimizerForgetsTheMomentsAndTheStepCount() throws IOException {
        try (SimEngine a = new SimEngine(SHAPE, OPT, 2, SEQ_LEN, 2); SimEngine fresh = new SimEngine(SHAPE, OPT, 3, SEQ_LEN, 2)) {
            train(a, 0, 3);
            GptWeights.write(tmp.resolve("w.safetensors"), a.model());
            GptWeights.read(tmp.resolve("w.safetensors"), fresh.model());
            a.resetOptimizer();
            assertThat(a.optimizerStep()).isZero();
            // Same weights, zero moments, step 0: the next step must equal a new optimizer's first step.
            assertThat(train(a, 3, 2)).isEqualTo(train(fresh, 3, 2));
            assertThat(a.model().params()).isEqualTo(fresh.model().params());
        }
    }

    @Test
    void loadRejectsAnotherShapeOrACorruptFileNamingItAndChangesNothing() throws IOException {
        try (SimEngine small = new SimEngine(new ModelSpec.Shape("gpt2", 1, 32, 2, 24, 48), OPT, 1, SEQ_LEN, 1);
             SimEngine e = new SimEngine(SHAPE, OPT, 1, SEQ_LEN, 1)) {
            small.save(tmp.resolve("small"));
            float[] before = e.model().params().clone();
            assertThatThrownBy(() -> e.load(tmp.resolve("small")))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(tmp.resolve("small").resolve(SimEngine.WEIGHTS).toString())
                    .hasMessageContaining("layers 1, this engine's model has layers 2");

            e.save(tmp.resolve("good"));
            Path weights = tmp.resolve("good").resolve(SimEngine.WEIGHTS);
            byte[] bytes = Files.readAllBytes(weights);
            Files.write(weights, Arrays.copyOf(bytes, bytes.length - 100));
            train(e, 0, 1);
            float[] trained = e.model().params().clone();
            assertThatThrownBy(() -> e.load(tmp.resolve("good")))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(weights.toString())
                    .hasMessageContaining("truncated");
            assertThat(e.model().params()).isEqualTo(trained).isNotEqualTo(before);

            Files.write(weights, bytes);
            Path opt = tmp.resolve("good").resolve(SimEngine.OPTIMIZER);
            byte[] o = Files.readAllBytes(opt);
            o[20] = '#';
            Files.write(opt, o);
            assertThatThrownBy(() -> e.load(tmp.resolve("good"))).hasMessageContaining(opt.toString());
            assertThat(e.model().params()).as("a bad optimizer file stops the weights loading too").isEqualTo(trained);

            Files.delete(opt);
            assertThatThrownBy(() -> e.load(tmp.resolve("good"))).hasMessageContaining(opt + ": no such file");
        }
    }

    @Test
    void trainingOnARepeatingSequenceDrivesTheLossBelowATenthOfItsStart() {
        ModelSpec.Shape shape = new ModelSpec.Shape("gpt2", 2, 32, 2, 32, 16);
        int[] pattern = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3}; // period 16; each next token is fixed by the last two
        Batch b = new Batch(4, 32);
        Random rnd = new Random(1);
        double first = 0;
        double last = 0;
        try (SimEngine e = new SimEngine(shape, new OptimizerSpec(0.9, 0.95, 1e-8, 1.0), 5, 32, 2)) {
            for (int step = 0; step < 150; step++) {
                for (int r = 0; r < 4; r++) {
                    int start = rnd.nextInt(pattern.length);
                    for (int t = 0; t <= 32; t++) b.tokens()[r * 33 + t] = pattern[(start + t) % pattern.length];
                }
                Engine.StepResult s = e.trainStep(b, 1e-2, 0.0);
                if (step == 0) first = s.loss();
                last = s.loss();
            }
            assertThat(first).isCloseTo(Math.log(16), org.assertj.core.api.Assertions.within(0.2));
            assertThat(last).isLessThan(0.1 * first);
        }
    }

    /**
     * Buffers are allocated once per batch shape: a training step allocates no arrays, only the
     * few small task objects (lambdas) it hands the worker pool and its result record.
     */
    @Test
    void aTrainingStepAllocatesNoBuffers() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (SimEngine e = new SimEngine(SHAPE, OPT, 1, SEQ_LEN, 1)) {
            Batch b = batch(1, SHAPE.vocabSize());
            // Until C2 compiles the kernels, the Vector API's fallback boxes every vector; a model this
            // small needs a thousand or more steps before the last kernel is compiled. So: windows of
            // 200 steps until one allocates (almost) nothing, or 40 windows.
            long perStep = Long.MAX_VALUE;
            for (int window = 0; window < 40 && perStep >= 16 * 1024; window++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 200; i++) e.trainStep(b, 1e-3, 0.1);
                perStep = (threads.getCurrentThreadAllocatedBytes() - before) / 200;
            }
            System.out.println("bytes allocated per training step: " + perStep);
            // The smallest activation buffer alone (one row of losses) is 240 bytes; all of them are ~1 MB.
            assertThat(perStep).isLessThan(16 * 1024);
        }
    }

    @Test
    void createReadsTheSpecAndRefusesOtherArchitectures() {
        String spec = """
            { "name": "x", "seed": 3, "model": { "preset": "toy-xs", "arch": "%s" },
              "batch": { "sequences": 2, "seqLen": 16 },
              "datasets": { "en": { "train": "en.bin" } },
              "stages": [ { "name": "a", "steps": 1, "mix": { "en": 1 }, "lr": { "type": "constant", "value": 0.001 } } ] }
            """;
        try (SimEngine e = SimEngine.create(SpecReader.read(spec.formatted("gpt2"), "x"), 1)) {
            // toy-xs: 2 layers, d 64, 2 heads, ctx 64, vocab 256.
            long n = 256 * 64 + 64 * 64 + 2 * (12L * 64 * 64 + 13 * 64) + 2 * 64;
            assertThat(e.info().parameters()).isEqualTo(n);
            assertThat(dev.cpt.plan.ModelSize.parameters(dev.cpt.spec.ModelSpec.PRESETS.get("toy-xs"))).isEqualTo(n);
            assertThat(e.info().flopsPerToken()).isEqualTo(6.0 * n + 12.0 * 2 * 64 * 16);
            assertThat(e.info().name()).isEqualTo("simulator");
        }
        assertThatThrownBy(() -> SimEngine.create(SpecReader.read(spec.formatted("neox"), "x"), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gpt2 architecture only");
    }
}
