package dev.cpt.cli;

import dev.cpt.data.DataSources;
import dev.cpt.distributed.LaunchEnvironment;
import dev.cpt.distributed.LocalLauncher;
import dev.cpt.distributed.RankSlice;
import dev.cpt.trainer.ProcessGroup;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.StepRecord;
import dev.cpt.report.RunReport;
import dev.cpt.train.BenchmarkTasks;
import dev.cpt.train.Engine;
import dev.cpt.trainer.TorchBench;
import dev.cpt.trainer.TorchEngine;
import dev.cpt.train.TrainingLoop;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt train SPEC.json --out DIR}: one run, with its records and report. */
@Command(name = "train",
        sortOptions = false,
        description = {
            "Train one run spec and write its run directory: spec.json, metrics.jsonl, summary.json, checkpoints/, "
                    + "report.md with plots.",
            "",
            "Data paths in the spec are relative to the working directory. --resume continues from the latest "
                    + "checkpoint and writes exactly what an uninterrupted run would."
        })
final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "SPEC.json", description = "The run spec.")
    Path specFile;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The run directory.")
    Path out;

    @Option(names = "--engine", defaultValue = "sim", paramLabel = "ENGINE",
            description = "The engine: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    Engines.Kind engine;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "The torch engine's device: cpu or cuda. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--activation-checkpointing",
            description = "The torch engine keeps only each block's input in the forward and recomputes the block in the "
                    + "backward: less memory (cpt plan --activation-checkpointing says how much), the same losses.")
    boolean activationCheckpointing;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P",
            description = "The torch engine's precision: fp32, or bf16 (autocast, on CUDA). Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--kernels", defaultValue = "auto", paramLabel = "K", description = Engines.KERNELS_HELP)
    String kernels;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "Threads the engine computes on (default: all cores).")
    int threads;

    @Option(names = "--resume", description = "Continue the run in DIR from its latest checkpoint.")
    boolean resume;

    @Option(names = "--nproc", defaultValue = "1", paramLabel = "N",
            description = {"Train on N ranks of this machine (torch engine): N CPU processes, or one per GPU with --device cuda. "
                    + "Each trains on 1/N of the spec's global batch; rank 0 writes the records, ranks 1.. log to DIR/ranks/. "
                    + "Under torchrun or SLURM (RANK/WORLD_SIZE or SLURM_PROCID set) a plain cpt train joins their group instead."})
    int nproc;

    @Option(names = "--zero", paramLabel = "S",
            description = "On several ranks: 0 data parallel (gradients all-reduced in buckets during the backward), 1 AdamW "
                    + "moments sharded across ranks, 2 gradients reduce-scattered too, 3 weights sharded too (gathered block by "
                    + "block; each block recomputed in the backward). Default: the spec's parallel.zero, else 0.")
    Integer zeroOption;

    int zero;

    @Option(names = "--backend", paramLabel = "B",
            description = "On several ranks: the collectives' library, nccl (--device cuda's default) or gloo (--device cpu's; on CUDA "
                    + "it goes through the host, and lets several ranks share one GPU, for checks).")
    String backend;

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS",
            description = "On several ranks: how long the rendezvous and each collective wait for the other ranks before the run "
                    + "stops (a rank that died or hangs). Default: ${DEFAULT-VALUE}.")
    int timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        LaunchEnvironment launch;
        try {
            launch = LaunchEnvironment.fromSystem().orElse(null);
        } catch (IllegalArgumentException e) {
            throw new CliException("the launcher's environment is malformed: " + e.getMessage(), e);
        }
        // Under a launcher, the torch engine goes through the process group even for a world of one
        // (torchrun --nproc-per-node 1, which is how NCCL is checked on one GPU).
        boolean ranked = launch != null && (launch.isDistributed() || engine == Engines.Kind.torch);
        if (nproc < 1) throw new CliException("--nproc must be at least 1, not " + nproc);
        if (nproc > 1 && ranked) {
            throw new CliException("--nproc " + nproc + " under a launcher that already started " + launch.worldSize() + " ranks ("
                    + launch.launcher() + "): leave --nproc out");
        }
        if ((nproc > 1 || ranked) && engine != Engines.Kind.torch) {
            throw new CliException("training on several ranks needs the torch engine (--engine torch); the simulator runs in one process");
        }
        if (zeroOption != null && engine != Engines.Kind.torch) {
            throw new CliException("--zero " + zeroOption + " shards the torch engine's state across ranks (--engine torch); the simulator "
                    + "runs in one process and has nothing to shard");
        }
        if (timeoutSeconds < 1) throw new CliException("--timeout must be at least 1 second, not " + timeoutSeconds);
        // The spec is read (and every problem in it reported) before any rank starts.
        RunPlan plan = RunPlan.load(specFile);
        zero = zeroOption != null ? zeroOption : plan.spec().zeroStage();
        // On one rank there is nothing to shard: a promoted spec's stage only matters once it runs on several.
        if ((nproc > 1 || ranked) && (zero < 0 || zero > 3)) {
            throw new CliException((zeroOption != null ? "--zero " : "parallel.zero ") + zero + ": the ZeRO stages are 0 (data parallel), "
                    + "1 (sharded AdamW moments), 2 (and sharded gradients) and 3 (and sharded weights)");
        }
        ProcessGroup.Backend collectives = backend(Engines.device(device));
        if (nproc > 1 && collectives == ProcessGroup.Backend.NCCL) {
            int gpus = TorchEngine.cudaDeviceCount();
            if (nproc > gpus) {
                throw new CliException("--nproc " + nproc + " with --device cuda needs " + nproc + " GPUs, one a rank (NCCL refuses two ranks "
                        + "on one GPU); this machine shows " + gpus);
            }
        }
        int world = ranked ? launch.worldSize() : nproc;
        if (world > 1) {
            try {
                new RankSlice(0, world).rows(plan.spec().batch().sequences());
            } catch (IllegalArgumentException e) {
                throw new CliException(e.getMessage());
            }
        }
        if (nproc > 1) return launchRanks();
        TorchEngine.Device d = Engines.device(device);
        TorchEngine.Precision p = Engines.precision(precision);
        var factory = engine.factory(d, p, activationCheckpointing, Engines.kernels(kernels));
        DataSources data;
        try {
            data = Engines.dataProvider().open(plan);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        BenchmarkTasks tasks;
        try {
            tasks = BenchmarkTasks.forRun(plan.spec(), data);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        if (ranked) return trainAsRank(launch, plan, data, tasks, d, p);
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        RunSummary summary;
        double flopsPerToken;
        TorchEngine.Memory memory;
        try (Engine e = factory.create(plan, t);
             Progress.Meter bar = Progress.meter(spec.commandLine().getErr(), "train " + plan.spec().name(),
                     Progress.Unit.STEPS, plan.totalSteps())) {
            summary = new TrainingLoop(plan, e, data, out, new TrainingLoop.Listener() {
                @Override
                public void onStep(StepRecord r, long total) {
                    // A step's record comes after it is trained (step 0: one done); the end record's step is the total.
                    bar.stepTo(Math.min(r.step() + 1, total));
                    if (r.loss() != null) bar.note(String.format(Locale.ROOT, "loss %.3f", r.loss()));
                }

                @Override
                public void onWarning(String message) {
                    warn(message);
                }
            }, tasks).run(resume);
            flopsPerToken = e.info().flopsPerToken();
            memory = e instanceof TorchEngine torch ? torch.memory() : null;
        } catch (IllegalStateException e) {
            throw new CliException(e.getMessage(), e);
        }
        Path report = RunReport.write(out);
        PrintWriter o = spec.commandLine().getOut();
        o.println(plan.spec().name() + ": " + Progress.describe(summary));
        printBenchmarks(o, summary);
        printThroughputAndMemory(o, summary, flopsPerToken, memory, d, p);
        o.println(Progress.withFigureNote("report: " + report));
        return 0;
    }

    /** eval.tasks at the end of the run, each metric with its change since the start ("hellaswag: acc 0.2600 (start 0.2500)"). */
    private static void printBenchmarks(PrintWriter o, RunSummary summary) {
        if (summary.tasks() == null) return;
        summary.tasks().forEach((task, t) -> {
            if (t.end() == null) return;
            List<String> parts = new ArrayList<>();
            t.end().forEach((k, v) -> {
                if (k.contains("_stderr")) return;
                Double before = t.start() == null ? null : t.start().get(k);
                parts.add(String.format(Locale.ROOT, "%s %.4f", k.substring(0, k.indexOf(',')), v)
                        + (before == null ? "" : String.format(Locale.ROOT, " (start %.4f)", before)));
            });
            o.println(task + ": " + String.join(", ", parts));
        });
    }

    /** The run's tokens/s (and MFU on CUDA) and this process's peak memory. */
    /** A warning on its own line of the command's error stream (the progress bar draws below it). */
    private void warn(String message) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("warning: " + message);
        err.flush();
    }

    private void printThroughputAndMemory(PrintWriter o, RunSummary summary, double flopsPerToken, TorchEngine.Memory memory,
                                          TorchEngine.Device d, TorchEngine.Precision p) {
        if (summary.wallSeconds() != null && summary.wallSeconds() > 0) {
            double tokensPerSecond = summary.tokens() / summary.wallSeconds();
            double peak = TorchBench.defaultPeakTflops(p);
            o.printf(Locale.ROOT, "throughput: %,.0f tokens/s (%.3g model TFLOP/s, 6N + 12·L·d·T a token)%s%n", tokensPerSecond,
                    tokensPerSecond * flopsPerToken / 1e12, d == TorchEngine.Device.CUDA
                            ? String.format(Locale.ROOT, "; MFU %.1f%% of an H100's %.0f TFLOP/s %s",
                                    100 * tokensPerSecond * flopsPerToken / (peak * 1e12), peak, precision.toLowerCase(Locale.ROOT))
                            : "");
        }
        if (memory != null) {
            o.printf(Locale.ROOT, "memory: peak %.2f GiB allocated%s%n", memory.peakAllocatedBytes() / (double) (1L << 30),
                    d == TorchEngine.Device.CUDA
                            ? String.format(Locale.ROOT, ", %.2f GiB reserved (CUDA caching allocator)", memory.reservedBytes() / (double) (1L << 30))
                            : " (weights, gradients and AdamW moments)");
        }
    }

    private static String ranks(int n) {
        return n == 1 ? "1 rank" : n + " ranks";
    }

    /** {@code --backend}, or the device's own: NCCL for CUDA, Gloo for the CPU. */
    private ProcessGroup.Backend backend(TorchEngine.Device d) {
        if (backend == null) return d == TorchEngine.Device.CUDA ? ProcessGroup.Backend.NCCL : ProcessGroup.Backend.GLOO;
        return switch (backend.toLowerCase(Locale.ROOT)) {
            case "nccl" -> {
                if (d != TorchEngine.Device.CUDA) throw new CliException("--backend nccl reduces CUDA tensors only: use --device cuda, or gloo");
                yield ProcessGroup.Backend.NCCL;
            }
            case "gloo" -> ProcessGroup.Backend.GLOO;
            default -> throw new CliException("--backend must be nccl or gloo, not \"" + backend + "\"");
        };
    }

    /** {@code --nproc N}: this same command N times, as ranks 0..N-1 of one run, supervised. */
    private int launchRanks() throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Cpt.class.getName());
        List<String> args = spec.root().commandLine().getParseResult().originalArgs();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--nproc")) {
                i++;
            } else if (!a.startsWith("--nproc=")) {
                command.add(a);
            }
        }
        int code = new LocalLauncher(command, nproc, out.resolve("ranks"), spec.commandLine().getErr()).run();
        if (code != 0) throw new CliException("the run on " + nproc + " ranks failed (see above); --resume continues it from its last complete checkpoint");
        return 0;
    }

    /** One rank of a multi-rank run: joins the process group, trains its slice of every batch in lock-step with the others. */
    private int trainAsRank(LaunchEnvironment launch, RunPlan plan, DataSources data, BenchmarkTasks tasks, TorchEngine.Device d,
                            TorchEngine.Precision p)
            throws Exception {
        int t = threads > 0 ? threads : Math.max(1, Runtime.getRuntime().availableProcessors() / launch.localWorldSize());
        var options = new TorchEngine.Options(d, p, activationCheckpointing, Engines.kernels(kernels), t)
                .withDeviceIndex(d == TorchEngine.Device.CUDA ? launch.localRank() % Math.max(1, TorchEngine.cudaDeviceCount()) : 0);
        PrintWriter o = spec.commandLine().getOut();
        boolean rankZero = launch.isRankZero();
        long[] lastStep = {-1};
        RunSummary summary;
        double flopsPerToken;
        TorchEngine.Memory memory;
        try (ProcessGroup group = ProcessGroup.join(launch, backend(d), 1, Duration.ofSeconds(timeoutSeconds));
             TorchEngine e = TorchEngine.create(plan, options).distribute(group, zero);
             Progress.Meter bar = rankZero
                     ? Progress.meter(spec.commandLine().getErr(), "train " + plan.spec().name() + " (" + ranks(launch.worldSize()) + ")",
                             Progress.Unit.STEPS, plan.totalSteps())
                     : null) {
            summary = new TrainingLoop(plan, e, data, out, new TrainingLoop.Listener() {
                @Override
                public void onStep(StepRecord r, long total) {
                    lastStep[0] = r.step();
                    if (bar == null) return;
                    bar.stepTo(Math.min(r.step() + 1, total));
                    if (r.loss() != null) bar.note(String.format(Locale.ROOT, "loss %.3f", r.loss()));
                }

                @Override
                public void onWarning(String message) {
                    warn(message);
                }
            }, tasks).run(resume);
            flopsPerToken = e.info().flopsPerToken();
            memory = e.memory();
        } catch (RuntimeException ex) {
            throw new CliException("rank " + launch.rank() + " of " + launch.worldSize() + " failed "
                    + (lastStep[0] < 0 ? "before its first step" : "after step " + lastStep[0]) + ": " + ex.getMessage(), ex);
        }
        if (!rankZero) {
            o.println("rank " + launch.rank() + " of " + launch.worldSize() + ": done");
            return 0;
        }
        Path report = RunReport.write(out);
        o.println(plan.spec().name() + " on " + ranks(launch.worldSize()) + " (ZeRO-" + zero + "): " + Progress.describe(summary));
        printBenchmarks(o, summary);
        printThroughputAndMemory(o, summary, flopsPerToken, memory, d, p);
        o.println(Progress.withFigureNote("report: " + report));
        return 0;
    }
}
