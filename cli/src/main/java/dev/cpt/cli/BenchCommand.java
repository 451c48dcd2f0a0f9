package dev.cpt.cli;

import dev.cpt.sim.SimBench;
import dev.cpt.spec.ModelSpec;
import dev.cpt.trainer.NativeException;
import dev.cpt.trainer.TorchBench;
import dev.cpt.trainer.TorchEngine;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cpt bench}: an engine's training speed as one JSON line. */
@Command(name = "bench",
        sortOptions = false,
        description = {
            "Time an engine training a model preset on random tokens (after a warm-up) and print one JSON line: "
                    + "tokens/s, ms/step, GFLOP/s (6N + 12·L·H·Q·T FLOPs per token); for the torch engine the median "
                    + "step of --steps, MFU on CUDA and the peak memory.",
            "",
            "Compare the simulator with simulator/src/test/python/bench_torch.py (the identical model in PyTorch on the "
                    + "same threads), the torch engine with bench/gpu/reference_neox.py (bench/gpu/run.sh runs both on a GPU)."
        })
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--engine", defaultValue = "sim", paramLabel = "ENGINE",
            description = "sim or torch. Default: ${DEFAULT-VALUE}.")
    Engines.Kind engine;

    @Option(names = "--model", defaultValue = "toy-s", description = "A preset. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "B[xT]",
            description = "Sequences per step, optionally x sequence length (default: the model's context). Default: ${DEFAULT-VALUE}.")
    String batch;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Threads (default: all cores).")
    int threads;

    @Option(names = "--seconds", defaultValue = "20", paramLabel = "S", description = "Timed seconds (sim). Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Option(names = "--device", defaultValue = "cpu", description = "torch: cpu or cuda. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P", description = "torch: fp32 or bf16. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--micro-batch", defaultValue = "0", paramLabel = "M",
            description = "torch: sequences per forward/backward, gradients accumulated (default: the whole batch).")
    int microBatch;

    @Option(names = "--activation-checkpointing",
            description = "torch: keep only each block's input in the forward and recompute the block in the backward.")
    boolean activationCheckpointing;

    @Option(names = "--kernels", defaultValue = "auto", paramLabel = "K", description = Engines.KERNELS_HELP)
    String kernels;

    @Option(names = "--warmup", defaultValue = "5", paramLabel = "N", description = "torch: untimed steps first. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--steps", defaultValue = "20", paramLabel = "N", description = "torch: timed steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--peak-tflops", paramLabel = "F",
            description = "torch on CUDA: the device's peak for MFU (default: an H100's 989 bf16, 67 fp32).")
    Double peakTflops;

    @Override
    public Integer call() {
        ModelSpec.Shape shape = ModelSpec.PRESETS.get(model);
        if (shape == null) {
            throw new CliException("--model " + model + ": unknown preset; known: " + String.join(", ", ModelSpec.PRESETS.keySet()));
        }
        if (engine == Engines.Kind.sim && !shape.arch().equals("gpt2")) {
            throw new CliException("--model " + model + ": the simulator runs the gpt2 presets toy-xs, toy-s, toy-m (--engine torch runs all)");
        }
        String[] parts = batch.split("x");
        int sequences, seqLen;
        try {
            sequences = Integer.parseInt(parts[0]);
            seqLen = parts.length > 1 ? Integer.parseInt(parts[1]) : shape.contextLength();
        } catch (NumberFormatException e) {
            throw new CliException("--batch " + batch + " is not B or BxT", e);
        }
        if (parts.length > 2 || sequences < 1 || seqLen < 1 || seqLen > shape.contextLength()) {
            throw new CliException("--batch " + batch + ": need B ≥ 1 and 1 ≤ T ≤ the model's context " + shape.contextLength());
        }
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        if (engine == Engines.Kind.sim) {
            if (!(seconds > 0)) throw new CliException("--seconds must be positive");
            spec.commandLine().getOut().println(SimBench.run(model, sequences, seqLen, t, seconds).toJson());
            return 0;
        }
        TorchEngine.Device d = Engines.device(device);
        TorchEngine.Precision p = Engines.precision(precision);
        TorchEngine.Kernels k = Engines.kernels(kernels);
        int micro = microBatch > 0 ? microBatch : sequences;
        if (sequences % micro != 0) throw new CliException("--micro-batch " + micro + " does not divide the batch's " + sequences + " sequences");
        if (steps < 1 || warmup < 0) throw new CliException("--steps must be at least 1 and --warmup at least 0");
        double peak = peakTflops != null ? peakTflops : TorchBench.defaultPeakTflops(p);
        if (!(peak > 0)) throw new CliException("--peak-tflops must be positive");
        try {
            spec.commandLine().getOut().println(TorchBench.run(model, sequences, seqLen, micro,
                    new TorchEngine.Options(d, p, activationCheckpointing, k, t), warmup, steps, peak).toJson());
        } catch (NativeException | IllegalStateException e) {
            throw new CliException(e.getMessage(), e);
        }
        return 0;
    }
}
