package dev.cpt.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cpt.data.Batch;
import dev.cpt.distributed.LaunchEnvironment;
import dev.cpt.plan.RunPlan;
import dev.cpt.spec.RunSpec;
import dev.cpt.train.Engine;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ranks of the torch engine over c10d's Gloo, as two threads of this JVM (one thread each, as CI
 * has two cores): at every ZeRO stage they train on the global batch exactly what one rank does, so
 * losses and gradient norms agree with the one-rank run to 1e-5 (only the order of the sums
 * differs); a checkpoint written at one world size and stage continues at another.
 */
class DataParallelTest {

    @TempDir
    Path tmp;

    static final int STEPS = 8;

    @BeforeAll
    static void library() {
        TorchEngineTest.library();
        if ("1".equals(System.getenv("CPT_CI"))) assertThat(ProcessGroup.glooAvailable()).as("the shim has c10d Gloo (libgloo-dev)").isTrue();
        assumeTrue(ProcessGroup.glooAvailable(), "the shim was built without Gloo's headers (libgloo-dev)");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static RunSpec spec(String arch) {
        // 4 sequences in micro-batches of 1: on two ranks each accumulates two micro-batches before it communicates.
        return TorchEngineTest.spec(arch, 1);
    }

    /** Losses and gradient norms of STEPS steps on fixed batches, from the engine as it is. */
    static double[][] train(TorchEngine e, int from, int to) {
        double[][] out = new double[to - from][];
        for (int s = from; s < to; s++) {
            Batch b = TorchEngineTest.batch(100 + s, 256);
            Engine.StepResult r = e.trainStep(b, 0.01, 0.1);
            out[s - from] = new double[] {r.loss(), r.gradNorm(), e.evalLoss(TorchEngineTest.batch(7, 256))};
        }
        return out;
    }

    /** Runs body on each of `world` ranks, each on its own thread with its own engine, and returns each rank's result. */
    static <T> List<T> onRanks(int world, RankBody<T> body) throws Exception {
        int port = freePort();
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                LaunchEnvironment launch = new LaunchEnvironment("test", r, world, r, world, "127.0.0.1", port);
                futures.add(pool.submit(() -> {
                    try (ProcessGroup g = ProcessGroup.join(launch, ProcessGroup.Backend.GLOO, 1, Duration.ofSeconds(60))) {
                        return body.run(g);
                    }
                }));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    interface RankBody<T> {
        T run(ProcessGroup group) throws Exception;
    }

    static TorchEngine engine(String arch) {
        return TorchEngine.create(RunPlan.of(spec(arch)), TorchEngine.Device.CPU, TorchEngine.Precision.FP32, 1);
    }

    static void assertClose(double[][] actual, double[][] expected, String what) {
        assertThat(actual.length).isEqualTo(expected.length);
        for (int s = 0; s < expected.length; s++) {
            for (int k = 0; k < 3; k++) {
                double a = actual[s][k], x = expected[s][k];
                assertThat(Math.abs(a - x) / Math.abs(x)).as(what + ": step " + s + " " + List.of("loss", "grad norm", "eval loss").get(k)
                        + " " + a + " vs one rank's " + x).isLessThan(1e-5);
            }
        }
    }

    @Test
    void twoRanksTrainAsOneAtEveryZeroStage() throws Exception {
        for (String arch : List.of("gpt2", "neox", "mpt")) {
            double[][] one;
            try (TorchEngine e = engine(arch)) {
                one = train(e, 0, STEPS);
            }
            for (int zero = 0; zero <= 3; zero++) {
                int stage = zero;
                List<double[][]> ranks = onRanks(2, g -> {
                    try (TorchEngine e = engine(arch).distribute(g, stage, 4096)) {
                        assertThat(e.writesRecords()).isEqualTo(g.rank() == 0);
                        assertThat(e.info().name()).contains("2 ranks, ZeRO-" + stage);
                        return train(e, 0, STEPS);
                    }
                });
                for (int r = 0; r < 2; r++) assertClose(ranks.get(r), one, arch + " ZeRO-" + stage + " rank " + r);
                // The ranks agree with each other exactly: the same reduced numbers reach both.
                assertThat(ranks.get(1)).isDeepEqualTo(ranks.get(0));
            }
        }
    }

    @Test
    void activationCheckpointingAndTheFusedOpsTrainAsOneRankDoes() throws Exception {
        double[][] one;
        try (TorchEngine e = engine("neox")) {
            one = train(e, 0, STEPS);
        }
        for (int zero : new int[] {0, 2}) {
            int stage = zero;
            List<double[][]> ranks = onRanks(2, g -> {
                var options = TorchEngine.Options.of(TorchEngine.Device.CPU, TorchEngine.Precision.FP32, 1)
                        .withActivationCheckpointing(true).withKernels(TorchEngine.Kernels.FUSED);
                try (TorchEngine e = TorchEngine.create(RunPlan.of(spec("neox")), options).distribute(g, stage, 4096)) {
                    return train(e, 0, STEPS);
                }
            });
            assertClose(ranks.get(0), one, "neox ZeRO-" + stage + ", activation checkpointing, fused ops");
        }
    }

    @Test
    void whatEachRankHoldsShrinksAsItsStagePromises() throws Exception {
        TorchEngine.StateBytes one;
        try (TorchEngine e = engine("neox")) {
            train(e, 0, 1);
            one = e.stateBytes();
        }
        long w = one.weights();
        assertThat(one.gradients()).isEqualTo(w);
        assertThat(one.optimizer()).isEqualTo(2 * w);
        for (int zero = 0; zero <= 3; zero++) {
            int stage = zero;
            List<TorchEngine.StateBytes> held = onRanks(2, g -> {
                try (TorchEngine e = engine("neox").distribute(g, stage, 4096)) {
                    train(e, 0, 2);
                    return e.stateBytes();
                }
            });
            for (TorchEngine.StateBytes h : held) {
                String what = "ZeRO-" + stage + " on 2 ranks: " + h;
                // whole, or half (each bucket padded by at most one element to split evenly)
                assertHolds(h.weights(), stage >= 3 ? w / 2 : w, what + ", weights");
                assertHolds(h.gradients(), stage >= 2 ? w / 2 : w, what + ", gradients");
                assertHolds(h.optimizer(), stage >= 1 ? w : 2 * w, what + ", AdamW moments");
            }
        }
    }

    static void assertHolds(long actual, long expected, String what) {
        assertThat(actual).as(what).isBetween(expected - 4096, expected + expected / 50 + 4096);
    }

    @Test
    void checkpointsContinueAtAnyWorldSizeAndStage() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ckpt"));
        double[][] rest;
        try (TorchEngine e = engine("gpt2")) {
            train(e, 0, 4);
            rest = train(e, 4, STEPS);
        }
        // Four steps on two ranks with sharded moments, saved by both (rank 0 writes)...
        onRanks(2, g -> {
            try (TorchEngine e = engine("gpt2").distribute(g, 1, 4096)) {
                train(e, 0, 4);
                if (g.rank() == 0) e.save(dir); else e.joinSave(dir);
                return null;
            }
        });
        // Each rank wrote its own shard (its pieces of the weights and moments), in parallel.
        assertThat(dir.resolve(TorchEngine.CHECKPOINT)).doesNotExist();
        assertThat(dir.resolve("torch-rank-00000-of-00002.pt")).isRegularFile();
        assertThat(dir.resolve("torch-rank-00001-of-00002.pt")).isRegularFile();
        // ...continue on one rank, and on two ranks at ZeRO-0, as the uninterrupted one-rank run does.
        try (TorchEngine e = engine("gpt2")) {
            e.load(dir);
            assertClose(train(e, 4, STEPS), rest, "resumed on one rank");
        }
        List<double[][]> two = onRanks(2, g -> {
            try (TorchEngine e = engine("gpt2").distribute(g, 0, 4096)) {
                e.load(dir);
                return train(e, 4, STEPS);
            }
        });
        assertClose(two.get(0), rest, "resumed on two ranks at ZeRO-0");
        List<double[][]> sharded = onRanks(2, g -> {
            try (TorchEngine e = engine("gpt2").distribute(g, 3, 4096)) {
                e.load(dir);
                return train(e, 4, STEPS);
            }
        });
        assertClose(sharded.get(1), rest, "resumed on two ranks at ZeRO-3");

        // Weights sharded too: saved by two ZeRO-3 ranks (gathered unit by unit), continued on one.
        Path dir3 = Files.createDirectories(tmp.resolve("ckpt3"));
        onRanks(2, g -> {
            try (TorchEngine e = engine("gpt2").distribute(g, 3, 4096)) {
                train(e, 0, 4);
                assertThatThrownBy(e::weights).hasMessageContaining("under ZeRO-3 no rank holds whole tensors");
                if (g.rank() == 0) e.save(dir3); else e.joinSave(dir3);
                return null;
            }
        });
        try (TorchEngine e = engine("gpt2")) {
            e.load(dir3);
            assertClose(train(e, 4, STEPS), rest, "ZeRO-3 checkpoint resumed on one rank");
        }

        // A shard missing, or damaged, is named.
        Path partial = Files.createDirectories(tmp.resolve("partial"));
        Files.copy(dir3.resolve("torch-rank-00000-of-00002.pt"), partial.resolve("torch-rank-00000-of-00002.pt"));
        try (TorchEngine e = engine("gpt2")) {
            assertThatThrownBy(() -> e.load(partial)).isInstanceOf(IOException.class).hasMessageContaining("lacks torch-rank-00001-of-00002.pt");
        }
        Files.copy(dir.resolve("torch-rank-00001-of-00002.pt"), partial.resolve("torch-rank-00001-of-00002.pt"));
        Files.writeString(partial.resolve("torch-rank-00001-of-00002.pt"), "not a shard");
        try (TorchEngine e = engine("gpt2")) {
            assertThatThrownBy(() -> e.load(partial)).isInstanceOf(IOException.class).hasMessageContaining("torch-rank-00001-of-00002.pt")
                    .hasMessageContaining("damaged");
        }
    }

    @Test
    void badStagesAndMismatchedBatchesAreNamed() throws Exception {
        onRanks(2, g -> {
            try (TorchEngine e = engine("gpt2")) {
                assertThatThrownBy(() -> e.distribute(g, 4)).hasMessageContaining("ZeRO stage 4").hasMessageContaining("3 (and sharded weights)");
                e.distribute(g, 0);
                // 3 sequences cannot be split evenly between two ranks.
                assertThatThrownBy(() -> e.trainStep(new Batch(3, 16), 0.01, 0)).hasMessageContaining("does not divide among 2 ranks");
            }
            return null;
        });
    }

    @Test
    void aRankThatNeverComesIsATimeoutNamingTheAddress() throws Exception {
        LaunchEnvironment launch = new LaunchEnvironment("test", 0, 2, 0, 2, "127.0.0.1", freePort());
        assertThatThrownBy(() -> ProcessGroup.join(launch, ProcessGroup.Backend.GLOO, 1, Duration.ofSeconds(2)))
                .isInstanceOf(NativeException.class).hasMessageContaining("the rendezvous of rank 0 of 2 at 127.0.0.1:").hasMessageContaining("every rank must join within 2 s")
                .hasMessageContaining("CPT_ERR_DISTRIBUTED").hasMessageNotContaining("frame #");
    }

}
