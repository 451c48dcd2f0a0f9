package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cpt.plan.RunPlan;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.StepRecord;
import dev.cpt.trainer.TorchEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cpt train --nproc 2} end to end: two CPU processes over c10d's Gloo, one thread each (CI
 * has two cores). The records of a two-rank run are the one-rank run's (losses, gradient norms and
 * validation losses within 1e-4, relative), its checkpoint continues on one rank, and a rank that
 * dies stops the run, is named, and leaves no process behind.
 */
class DistributedTrainCommandTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void data() {
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        assumeTrue(dev.cpt.ffi.NativeLibrary.present() || ci, "libcpt_torch.so is not built (native/build.sh needs libtorch-dev)");
        data = tmp.resolve("builtin");
        CliRun r = CliRun.run("prepare", "--builtin", data.toString(), "--synthetic", "--max-mb", "1");
        assertThat(r.code()).as(r.err()).isZero();
    }

    /** Two stages of `steps` steps, gpt2 toy-xs, 4 sequences a batch in micro-batches of 1 (two ranks accumulate two each). */
    static String spec(String name, int steps) {
        return """
            { "name": "%s", "seed": 3, "model": { "preset": "toy-xs" }, "batch": { "sequences": 4, "seqLen": 32, "microBatch": 1 },
              "optimizer": { "gradClip": 1.0 },
              "datasets": { "en": { "train": "%s/en/train.bin", "val": "%s/en/val.bin" },
                            "de": { "train": "%s/de/train.bin", "val": "%s/de/val.bin" } },
              "stages": [
                { "name": "pretrain", "steps": %d, "mix": { "en": 1 }, "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 2 } },
                { "name": "continue", "steps": %d, "mix": { "de": 1 }, "replay": { "fraction": 0.25, "from": { "en": 1 } },
                  "resetOptimizer": true, "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 2 } } ],
              "eval": { "every": 10, "batches": 2 }, "finalLoss": { "lastSteps": 10, "every": 5 } }
            """.formatted(name, data, data, data, data, steps, steps);
    }

    static void assertSameRun(Path actual, Path expected, String what) throws IOException {
        List<StepRecord> a = MetricsLog.read(actual.resolve("metrics.jsonl")), x = MetricsLog.read(expected.resolve("metrics.jsonl"));
        assertThat(a).as(what + ": records").hasSameSizeAs(x);
        for (int i = 0; i < x.size(); i++) {
            StepRecord r = a.get(i), e = x.get(i);
            assertThat(List.of(r.step(), r.stage(), r.tokens())).as(what + " record " + i).isEqualTo(List.of(e.step(), e.stage(), e.tokens()));
            close(r.loss(), e.loss(), what + " step " + e.step() + " loss");
            close(r.gradNorm(), e.gradNorm(), what + " step " + e.step() + " gradient norm");
            assertThat(r.val() == null).isEqualTo(e.val() == null);
            if (e.val() != null) {
                assertThat(r.val().keySet()).isEqualTo(e.val().keySet());
                for (Map.Entry<String, Double> v : e.val().entrySet()) close(r.val().get(v.getKey()), v.getValue(), what + " step " + e.step() + " val " + v.getKey());
            }
        }
    }

    static void close(Double actual, Double expected, String what) {
        assertThat(actual == null).as(what).isEqualTo(expected == null);
        if (expected != null) assertThat(Math.abs(actual - expected) / Math.abs(expected)).as(what + ": " + actual + " vs " + expected).isLessThan(1e-4);
    }

    /** The weights of a run's final checkpoint, read back by a one-rank torch engine. */
    static Map<String, float[]> finalWeights(Path specFile, Path run) throws IOException {
        Path last;
        try (var ckpts = Files.list(run.resolve("checkpoints"))) {
            last = ckpts.filter(c -> c.getFileName().toString().startsWith("step-")).sorted().toList().getLast();
        }
        try (TorchEngine e = TorchEngine.create(RunPlan.load(specFile), TorchEngine.Device.CPU, TorchEngine.Precision.FP32, 1)) {
            e.load(last.resolve("engine"));
            return e.weights();
        }
    }

    /**
     * The whole parameter vector within 1e-4 (relative L2), each tensor within 1e-3: AdamW divides
     * by the root of the second moment, so elements with gradients near zero (biases early on) carry
     * the sums' different order into the weights larger than the losses show it (seen: 1.4e-4 for
     * h.0.attn.c_attn.bias at ZeRO-0, where the whole vector is well within 1e-4).
     */
    static void assertSameWeights(Map<String, float[]> actual, Map<String, float[]> expected, String what) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        double allDiff = 0, allNorm = 0;
        for (var e : expected.entrySet()) {
            float[] a = actual.get(e.getKey()), x = e.getValue();
            double diff = 0, norm = 0;
            for (int i = 0; i < x.length; i++) {
                diff += (a[i] - x[i]) * (double) (a[i] - x[i]);
                norm += x[i] * (double) x[i];
            }
            allDiff += diff;
            allNorm += norm;
            assertThat(Math.sqrt(diff / norm)).as(what + ": " + e.getKey() + ", relative L2 distance").isLessThan(1e-3);
        }
        assertThat(Math.sqrt(allDiff / allNorm)).as(what + ": all weights, relative L2 distance").isLessThan(1e-4);
    }

    @Test
    void twoRanksAtEveryZeroStageWriteTheOneRankRunsRecordsAndWeights() throws IOException {
        Path specFile = Files.writeString(tmp.resolve("dp.json"), spec("dp", 20));
        Path one = tmp.resolve("one");
        CliRun r1 = CliRun.run("train", specFile.toString(), "--out", one.toString(), "--engine", "torch", "--threads", "1");
        assertThat(r1.code()).as(r1.err()).isZero();
        Map<String, float[]> weights = finalWeights(specFile, one);
        for (int zero = 0; zero <= 3; zero++) {
            Path two = tmp.resolve("two-zero" + zero);
            CliRun r2 = CliRun.run("train", specFile.toString(), "--out", two.toString(), "--engine", "torch", "--threads", "1",
                    "--nproc", "2", "--zero", Integer.toString(zero));
            assertThat(r2.code()).as(r2.err()).isZero();
            assertThat(r2.err()).contains("started 2 ranks on 127.0.0.1:");
            assertSameRun(two, one, "2 ranks, ZeRO-" + zero);
            assertSameWeights(finalWeights(specFile, two), weights, "2 ranks, ZeRO-" + zero);
            assertThat(two.resolve("summary.json")).exists();
            assertThat(two.resolve("report.md")).exists();
            assertThat(Files.readString(two.resolve("ranks/rank-1.log"))).contains("rank 1 of 2: done");
        }

        // Cut after the first stage (its stage-end checkpoint kept, written by two ZeRO-1 ranks) and continued on one rank.
        Path cut = tmp.resolve("cut");
        TrainAndSweepCommandTest.copy(tmp.resolve("two-zero1"), cut);
        keepOnly(cut, "step-00000020");
        CliRun resumed = CliRun.run("train", specFile.toString(), "--out", cut.toString(), "--engine", "torch", "--threads", "1", "--resume");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertSameRun(cut, one, "2 ranks resumed on 1");
        // And a one-rank run's stage-end checkpoint continued on two ranks at ZeRO-3.
        Path grow = tmp.resolve("grow");
        TrainAndSweepCommandTest.copy(one, grow);
        keepOnly(grow, "step-00000020");
        CliRun onTwo = CliRun.run("train", specFile.toString(), "--out", grow.toString(), "--engine", "torch", "--threads", "1", "--resume",
                "--nproc", "2", "--zero", "3");
        assertThat(onTwo.code()).as(onTwo.err()).isZero();
        assertSameRun(grow, one, "1 rank resumed on 2 at ZeRO-3");
    }

    /** A run cut back to one checkpoint, as if it had stopped there: the others and the summary gone. */
    static void keepOnly(Path run, String checkpoint) throws IOException {
        Files.delete(run.resolve("summary.json"));
        try (var ckpts = Files.list(run.resolve("checkpoints"))) {
            for (Path c : ckpts.toList()) if (!c.getFileName().toString().equals(checkpoint)) TrainAndSweepCommandTest.deleteTree(c);
        }
    }

    @Test
    void aRunKilledWholeMidStageResumesOnTwoRanksToTheSameRecords() throws Exception {
        Path specFile = Files.writeString(tmp.resolve("kill9.json"), spec("kill9", 300).replace("\"finalLoss\"", "\"checkpoint\": { \"every\": 20 }, \"finalLoss\""));
        Path whole = tmp.resolve("kill9-whole"), cut = tmp.resolve("kill9-cut");
        CliRun ref = CliRun.run("train", specFile.toString(), "--out", whole.toString(), "--engine", "torch", "--threads", "1",
                "--nproc", "2", "--zero", "2");
        assertThat(ref.code()).as(ref.err()).isZero();
        CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() -> CliRun.run("train", specFile.toString(), "--out", cut.toString(),
                "--engine", "torch", "--threads", "1", "--nproc", "2", "--zero", "2"));
        // Mid-stage, after a few periodic checkpoints: every rank at once, as a power cut would.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Path metrics = cut.resolve("metrics.jsonl");
        while (!(Files.exists(metrics) && MetricsLog.read(metrics).size() >= 130) && System.nanoTime() < deadline) Thread.sleep(50);
        for (ProcessHandle p : ProcessHandle.current().descendants().filter(p -> rankOf(p) >= 0).toList()) p.destroyForcibly();
        assertThat(run.get(120, TimeUnit.SECONDS).code()).isNotZero();
        CliRun resumed = CliRun.run("train", specFile.toString(), "--out", cut.toString(), "--engine", "torch", "--threads", "1",
                "--nproc", "2", "--zero", "2", "--resume");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertSameRun(cut, whole, "killed and resumed");

        // A flipped byte in rank 1's shard of the newest checkpoint: every rank checks its share of the
        // files against the manifest, the damage is named, and the run resumes from the checkpoint before.
        Path damaged = tmp.resolve("kill9-damaged");
        TrainAndSweepCommandTest.copy(cut, damaged);
        Files.delete(damaged.resolve("summary.json"));
        TrainAndSweepCommandTest.deleteTree(damaged.resolve("checkpoints/step-00000600"));
        List<Path> left;
        try (var ckpts = Files.list(damaged.resolve("checkpoints"))) {
            left = ckpts.filter(c -> c.getFileName().toString().startsWith("step-")).sorted().toList();
        }
        Path newest = left.getLast();
        assertThat(Files.readString(newest.resolve("manifest.json"))).contains("engine/torch-rank-00001-of-00002.pt");
        Path shard = newest.resolve("engine/torch-rank-00001-of-00002.pt");
        byte[] bytes = Files.readAllBytes(shard);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(shard, bytes);
        CliRun again = CliRun.run("train", specFile.toString(), "--out", damaged.toString(), "--engine", "torch", "--threads", "1",
                "--nproc", "2", "--zero", "2", "--resume");
        assertThat(again.code()).as(again.err()).isZero();
        // Rank 1 checked that shard (file 1 of the manifest's 3) and says so in its log; rank 0's warning goes to the terminal.
        assertThat(Files.readString(damaged.resolve("ranks/rank-1.log")))
                .contains("rank 1: checkpoint " + newest + ": engine/torch-rank-00001-of-00002.pt fails its checksum (SHA-256 ");
        assertSameRun(damaged, whole, "resumed past a damaged shard");
        // The run went back to the checkpoint before and trained its way to the damaged one's step again, writing it anew.
        assertThat(MetricsLog.read(damaged.resolve("metrics.jsonl"))).hasSize(MetricsLog.read(whole.resolve("metrics.jsonl")).size());
        dev.cpt.record.CheckpointManifest.verify(newest);
    }

    @Test
    void aRankThatDiesStopsTheRunNamedAndLeavesNoProcess() throws Exception {
        Path specFile = Files.writeString(tmp.resolve("long.json"), spec("long", 5000));
        Path out = tmp.resolve("long");
        CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() -> CliRun.run("train", specFile.toString(), "--out", out.toString(),
                "--engine", "torch", "--threads", "1", "--nproc", "2"));
        // Once rank 0 has written some steps, kill rank 1 as an out-of-memory killer would.
        Path metrics = out.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!(Files.exists(metrics) && Files.size(metrics) > 2000) && System.nanoTime() < deadline) Thread.sleep(100);
        ProcessHandle rank1 = ProcessHandle.current().descendants().filter(p -> rankOf(p) == 1).findFirst().orElseThrow();
        rank1.destroyForcibly();
        CliRun r = run.get(120, TimeUnit.SECONDS);
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("rank 1 of 2 failed first (exit code 137, signal 9); every other rank was stopped")
                .contains("--resume continues it");
        assertThat(ProcessHandle.current().descendants().filter(p -> rankOf(p) >= 0).toList()).as("ranks left running").isEmpty();
    }

    @Test
    void aRankThatHangsStopsTheRunWithinTheTimeout() throws Exception {
        Path specFile = Files.writeString(tmp.resolve("hang.json"), spec("hang", 5000));
        Path out = tmp.resolve("hang");
        CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() -> CliRun.run("train", specFile.toString(), "--out", out.toString(),
                "--engine", "torch", "--threads", "1", "--nproc", "2", "--timeout", "5"));
        Path metrics = out.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!(Files.exists(metrics) && Files.size(metrics) > 2000) && System.nanoTime() < deadline) Thread.sleep(100);
        ProcessHandle rank1 = ProcessHandle.current().descendants().filter(p -> rankOf(p) == 1).findFirst().orElseThrow();
        // Frozen, not dead: its connections stay open, so only the collectives' timeout can notice.
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(rank1.pid())).start().waitFor()).isZero();
        long stopped = System.nanoTime();
        CliRun r = run.get(120, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - stopped) / 1e9;
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("rank 0 of 2 failed first").contains("every other rank was stopped");
        // 5 s of timeout, then the frozen rank's 10 s of grace before SIGKILL, and some slack for a loaded machine
        assertThat(seconds).as("seconds from the freeze to the end").isLessThan(60);
        assertThat(ProcessHandle.current().descendants().filter(p -> rankOf(p) >= 0).toList()).as("ranks left running").isEmpty();
    }

    /** The RANK a process of ours was started with (Linux: its environment), or -1. */
    static int rankOf(ProcessHandle p) {
        try {
            for (String kv : new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"))).split("\0")) {
                if (kv.startsWith("RANK=")) return Integer.parseInt(kv.substring(5));
            }
        } catch (IOException | NumberFormatException e) {
            // gone already, or not ours to read
        }
        return -1;
    }

    @Test
    void benchmarksInARunAreScoredOnTwoRanksAsOnOneAndRefusedAtZero3() throws IOException {
        String tasks = "\"tasks\": { \"hellaswag\": \"" + EvalCommandTest.items("hellaswag") + "\", \"lambada\": \""
                + EvalCommandTest.items("lambada") + "\" }";
        Path specFile = Files.writeString(tmp.resolve("tasks.json"), spec("tasks", 10).replace("\"batches\": 2", "\"batches\": 2, " + tasks)
                .replace("\"preset\": \"toy-xs\"", "\"preset\": \"toy-xs\", \"contextLength\": 256"));
        Path one = tmp.resolve("tasks-one"), two = tmp.resolve("tasks-two");
        CliRun r1 = CliRun.run("train", specFile.toString(), "--out", one.toString(), "--engine", "torch", "--threads", "1");
        assertThat(r1.code()).as(r1.err()).isZero();
        CliRun r2 = CliRun.run("train", specFile.toString(), "--out", two.toString(), "--engine", "torch", "--threads", "1",
                "--nproc", "2", "--zero", "1");
        assertThat(r2.code()).as(r2.err()).isZero();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var a = json.readTree(one.resolve("summary.json").toFile()).get("tasks");
        var b = json.readTree(two.resolve("summary.json").toFile()).get("tasks");
        for (String task : List.of("hellaswag", "lambada")) {
            for (String when : List.of("start", "end")) {
                var x = a.get(task).get(when);
                // Accuracies equal; a perplexity within 1e-4 relative (the ranks' weights differ by the order of the sums).
                x.fieldNames().forEachRemaining(k -> assertThat(b.get(task).get(when).get(k).asDouble())
                        .as(task + " " + k + " at the " + when + " on 2 ranks")
                        .isCloseTo(x.get(k).asDouble(), org.assertj.core.data.Offset.offset(1e-4 * Math.max(1, Math.abs(x.get(k).asDouble())))));
            }
        }
        // A ZeRO-3 rank holds no whole weights to score with: refused before the first step, on every rank.
        CliRun z3 = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("tasks-z3").toString(), "--engine", "torch",
                "--threads", "1", "--nproc", "2", "--zero", "3");
        assertThat(z3.code()).isNotZero();
        assertThat(Files.readString(tmp.resolve("tasks-z3/ranks/rank-1.log"))).contains("rank 1 of 2 failed before its first step: "
                + "eval.tasks (hellaswag, lambada) needs an engine that scores token sequences, and the torch (cpu, 2 ranks, ZeRO-3) engine cannot");
    }

    @Test
    void whatCannotRunOnSeveralRanksIsNamed() throws IOException {
        Path specFile = Files.writeString(tmp.resolve("bad.json"), spec("bad", 4));
        CliRun sim = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("sim").toString(), "--nproc", "2");
        assertThat(sim.code()).isNotZero();
        assertThat(sim.err()).contains("training on several ranks needs the torch engine");
        CliRun simZero = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("sz").toString(), "--zero", "1");
        assertThat(simZero.code()).isNotZero();
        assertThat(simZero.err()).contains("--zero 1 shards the torch engine's state");
        CliRun zero4 = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("z4").toString(), "--engine", "torch", "--nproc", "2", "--zero", "4");
        assertThat(zero4.err()).contains("--zero 4: the ZeRO stages are 0");
        CliRun gpus = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("g").toString(), "--engine", "torch", "--device", "cuda",
                "--nproc", "64");
        assertThat(gpus.code()).isNotZero();
        assertThat(gpus.err()).contains("--nproc 64 with --device cuda needs 64 GPUs").contains("this machine shows");
        CliRun uneven = CliRun.run("train", Files.writeString(tmp.resolve("uneven.json"), spec("uneven", 4).replace("\"sequences\": 4", "\"sequences\": 5")).toString(),
                "--out", tmp.resolve("u").toString(), "--engine", "torch", "--threads", "1", "--nproc", "2");
        assertThat(uneven.code()).isNotZero();
        assertThat(uneven.err()).contains("batch.sequences 5 does not divide among 2 ranks");
        CliRun none = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("n0").toString(), "--engine", "torch", "--nproc", "0");
        assertThat(none.err()).contains("--nproc must be at least 1");
    }
}
