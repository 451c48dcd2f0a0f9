package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainAndSweepCommandTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void builtinData() {
        data = tmp.resolve("builtin");
        CliRun r = CliRun.run("prepare", "--builtin", data.toString(), "--synthetic", "--max-mb", "1");
        assertThat(r.code()).as(r.err()).isZero();
    }

    static String spec(String name, int steps) {
        return """
            { "name": "%s", "seed": 3, "model": { "preset": "toy-xs" }, "batch": { "sequences": 4, "seqLen": 32 },
              "datasets": { "en": { "train": "%s/en/train.bin", "val": "%s/en/val.bin" },
                            "de": { "train": "%s/de/train.bin", "val": "%s/de/val.bin" } },
              "stages": [
                { "name": "pretrain", "steps": %d, "mix": { "en": 1 }, "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 2 } },
                { "name": "continue", "steps": %d, "mix": { "de": 1 }, "replay": { "fraction": 0.25, "from": { "en": 1 } },
                  "resetOptimizer": true, "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 2 } } ],
              "eval": { "every": 10, "batches": 2 }, "finalLoss": { "lastSteps": 10, "every": 5 } }
            """.formatted(name, data, data, data, data, steps, steps);
    }

    @Test
    void trainWritesTheRunAndItsReportAndResumesAFinishedRunHarmlessly() throws IOException {
        Path specFile = Files.writeString(tmp.resolve("run.json"), spec("run", 20));
        Path out = tmp.resolve("run");
        CliRun r = CliRun.run("train", specFile.toString(), "--out", out.toString(), "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("run: en final").contains("forgetting").contains("adaptation");
        if (System.getenv(Progress.STYLE_ENV) == null) { // stderr is captured, not a terminal: plain lines
            assertThat(r.err()).doesNotContain("\r").contains("train run: 1 / 40 steps (2.5%), n/a steps/s, time left n/a")
                    .containsPattern("train run: 40 / 40 steps \\(100.0%\\), [0-9,.]+ steps/s on average, done in [0-9]+ s");
        }
        assertThat(out.resolve("summary.json")).exists();
        assertThat(out.resolve("report.md")).content().contains("| en |");
        String summary = Files.readString(out.resolve("summary.json"));
        CliRun again = CliRun.run("train", specFile.toString(), "--out", out.toString(), "--threads", "1");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("already holds a run");
        CliRun resumed = CliRun.run("train", specFile.toString(), "--out", out.toString(), "--threads", "1", "--resume");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(Files.readString(out.resolve("summary.json")).replaceAll("\"wallSeconds\" : [0-9.E-]+", ""))
                .isEqualTo(summary.replaceAll("\"wallSeconds\" : [0-9.E-]+", ""));
    }

    @Test
    void theTorchEngineTrainsTheSameSpecAndResumesExactly() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.cpt.ffi.NativeLibrary.present() || "1".equals(System.getenv("CPT_CI")),
                "libcpt_torch.so is not built (native/build.sh needs libtorch-dev)");
        Path specFile = Files.writeString(tmp.resolve("torch.json"), spec("torch", 20));
        Path out = tmp.resolve("torch");
        CliRun r = CliRun.run("train", specFile.toString(), "--out", out.toString(), "--engine", "torch", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("torch: en final").contains("throughput:").contains("tokens/s");
        assertThat(out.resolve("summary.json")).exists();
        assertThat(out.resolve("report.md")).exists();
        // the same run interrupted after its first stage (its stage-end checkpoint kept) continues to the same numbers
        String metrics = Files.readString(out.resolve("metrics.jsonl"));
        Path cut = tmp.resolve("torch-cut");
        copy(out, cut);
        Files.delete(cut.resolve("summary.json"));
        try (var ckpts = Files.list(cut.resolve("checkpoints"))) {
            for (Path c : ckpts.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!c.getFileName().toString().contains("000020")) continue;
                deleteTree(c);
            }
        }
        CliRun resumed = CliRun.run("train", specFile.toString(), "--out", cut.toString(), "--engine", "torch", "--threads", "1", "--resume");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(strip(Files.readString(cut.resolve("metrics.jsonl")))).isEqualTo(strip(metrics));

        CliRun cuda = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("cuda").toString(), "--engine", "torch", "--device", "cuda");
        if (cuda.code() != 0) assertThat(cuda.err()).contains("CUDA is not available");
        CliRun simDevice = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("x").toString(), "--device", "cuda");
        assertThat(simDevice.err()).contains("--device, --precision, --activation-checkpointing and --kernels are the torch engine's");
        CliRun simKernels = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("k").toString(), "--kernels", "fused");
        assertThat(simKernels.code()).isNotZero();
        assertThat(simKernels.err()).contains("--kernels are the torch engine's");
        CliRun simCheckpointing = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("z").toString(), "--activation-checkpointing");
        assertThat(simCheckpointing.code()).isNotZero();
        assertThat(simCheckpointing.err()).contains("the simulator runs fp32 on the CPU");
        CliRun badDevice = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("y").toString(), "--engine", "torch", "--device", "tpu");
        assertThat(badDevice.err()).contains("--device must be cpu or cuda");
    }

    /** metrics.jsonl without the timing fields, which differ from run to run. */
    static String strip(String metrics) {
        return metrics.replaceAll("\"tokensPerSecond\":[0-9.E-]+,?", "").replaceAll("\"wallSeconds\":[0-9.E-]+,?", "");
    }

    static void copy(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(t);
                else Files.copy(f, t);
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }

    @Test
    void missingDataIsNamedBeforeAnythingRuns() throws IOException {
        Path specFile = Files.writeString(tmp.resolve("bad.json"), spec("bad", 10).replace("/de/train.bin", "/nope/train.bin"));
        CliRun r = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("bad").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("datasets.de.train").contains("nope/train.bin");
        assertThat(tmp.resolve("bad")).doesNotExist();
    }

    @Test
    void sweepRunsEveryVariantAndReports() throws IOException {
        Files.writeString(tmp.resolve("base.json"), spec("base", 10));
        Path sweep = Files.writeString(tmp.resolve("sweep.json"), """
            { "name": "s", "base": "base.json",
              "variants": { "replay25": {}, "no-replay": { "stages[1].replay": null } } }
            """);
        Path out = tmp.resolve("sweep");
        CliRun r = CliRun.run("sweep", sweep.toString(), "--out", out.toString(), "--jobs", "2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("replay25: en final").contains("no-replay: en final");
        assertThat(out.resolve("report.md")).content().contains("replay25").contains("no-replay");
        assertThat(out.resolve("runs/no-replay/summary.json")).exists();
        CliRun rerun = CliRun.run("sweep", sweep.toString(), "--out", out.toString(), "--jobs", "2");
        assertThat(rerun.code()).as(rerun.err()).isZero();
    }

    /** A real cpt process with stderr into a file, as a job's log: plain progress lines, no carriage return. */
    @Test
    void progressIntoALogFileIsPlainLinesWithStepsAndARate() throws IOException, InterruptedException {
        Files.writeString(tmp.resolve("logged-base.json"), spec("logged-base", 20));
        Path sweep = Files.writeString(tmp.resolve("logged.json"), """
            { "name": "logged", "base": "logged-base.json",
              "variants": { "replay25": {}, "no-replay": { "stages[1].replay": null } } }
            """);
        Path log = tmp.resolve("logged.log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the JVM flags the tests run with (the Vector API module, native access, the heap)
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Cpt.class.getName(),
                "sweep", sweep.toString(), "--out", tmp.resolve("logged").toString(), "--jobs", "2"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(false)
                .redirectOutput(tmp.resolve("logged.out").toFile()).redirectError(log.toFile());
        pb.environment().remove(Progress.STYLE_ENV);
        pb.environment().put(Progress.INTERVAL_ENV, "0.1");
        Process p = pb.start();
        p.getOutputStream().close();
        assertThat(p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES)).as("cpt sweep finished").isTrue();
        String err = Files.readString(log);
        assertThat(p.exitValue()).as(err).isZero();
        assertThat(Files.readString(tmp.resolve("logged.out"))).contains("replay25: en final");

        assertThat(err).doesNotContain("\r");
        List<String> lines = err.lines().filter(l -> !l.equals("WARNING: Using incubator modules: jdk.incubator.vector")).toList();
        String progress = "sweep logged \\(2 runs\\): [0-9,]+ / [0-9,]+ steps \\([0-9.]+%\\), (n/a|[0-9,.]+) steps/s(,| on average,) .+";
        assertThat(lines).hasSizeGreaterThanOrEqualTo(2).allSatisfy(l -> assertThat(l).matches(progress));
        assertThat(lines.getFirst()).endsWith(", n/a steps/s, time left n/a");
        assertThat(lines.getLast()).matches("sweep logged \\(2 runs\\): ([0-9,]+) / \\1 steps \\(100.0%\\), [0-9,.]+ steps/s on average, done in [0-9]+ s");
        for (String l : lines.subList(1, lines.size() - 1)) assertThat(l).matches(".* [0-9,.]+ steps/s, ([0-9]+ s|[0-9]+ min [0-9]+ s) left");
    }
}
