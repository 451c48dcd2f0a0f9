package dev.cpt.cli;

import dev.cpt.data.DataSources;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.StepRecord;
import dev.cpt.report.RunReport;
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

    @Override
    public Integer call() throws Exception {
        TorchEngine.Device d = Engines.device(device);
        TorchEngine.Precision p = Engines.precision(precision);
        var factory = engine.factory(d, p, activationCheckpointing, Engines.kernels(kernels));
        RunPlan plan = RunPlan.load(specFile);
        DataSources data;
        try {
            data = Engines.dataProvider().open(plan);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
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
            }).run(resume);
            flopsPerToken = e.info().flopsPerToken();
            memory = e instanceof TorchEngine torch ? torch.memory() : null;
        } catch (IllegalStateException e) {
            throw new CliException(e.getMessage(), e);
        }
        Path report = RunReport.write(out);
        PrintWriter o = spec.commandLine().getOut();
        o.println(plan.spec().name() + ": " + Progress.describe(summary));
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
                            : " (weights and AdamW moments)");
        }
        o.println(Progress.withFigureNote("report: " + report));
        return 0;
    }
}
