package dev.cpt.cli;

import dev.cpt.plan.MemoryPlan;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt plan SPEC.json [--gpus N]}: the run's size, compute and memory per GPU, and whether it fits. */
@Command(name = "plan",
        sortOptions = false,
        description = {
            "Print a run's parameters, tokens and FLOPs, and the memory one GPU needs for it — weights, gradients, "
                    + "AdamW state, activations of one micro-batch, logits — and whether that fits; when it does not, "
                    + "how many GPUs it needs with ZeRO-3 (full sharding). Reads no data; runs nothing.",
            "",
            "The formulas are in dev.cpt.plan.MemoryPlan: what bf16 autocast keeps for the backward (checked against an H100, "
                    + "bench/gpu/README.md), Korthikanti et al. 2022 for fp32."
        })
final class PlanCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "SPEC.json", description = "The run spec.")
    Path file;

    @Option(names = "--gpus", defaultValue = "1", paramLabel = "N", description = "GPUs, data parallel. Default: ${DEFAULT-VALUE}.")
    int gpus;

    @Option(names = "--gpu-memory", defaultValue = "80", paramLabel = "GiB", description = "Memory of one GPU. Default: ${DEFAULT-VALUE} (H100).")
    double gpuMemory;

    @Option(names = "--precision", defaultValue = "bf16", paramLabel = "P", description = "bf16 (autocast, flash attention) or fp32. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--zero", defaultValue = "0", paramLabel = "STAGE",
            description = "ZeRO/FSDP sharding across the GPUs: 0 none, 1 optimizer state, 2 + gradients, 3 + weights. Default: ${DEFAULT-VALUE}.")
    int zero;

    @Option(names = "--activation-checkpointing", description = "Recompute activations in the backward pass (keep only each layer's input).")
    boolean checkpointing;

    @Option(names = "--kernels", defaultValue = "fused", paramLabel = "K",
            description = "bf16: the torch engine's fused kernels (its default on CUDA) or eager ATen ops (--kernels eager, "
                    + "as PyTorch eager): they keep different activations. Default: ${DEFAULT-VALUE}.")
    String kernels;

    @Option(names = "--mfu", defaultValue = "0.45", paramLabel = "F",
            description = "Model FLOPs utilisation assumed for the time estimate. Default: ${DEFAULT-VALUE}.")
    double mfu;

    @Option(names = "--json", description = "Print the plan as one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        MemoryPlan.Precision p = switch (precision.toLowerCase(Locale.ROOT)) {
            case "bf16" -> MemoryPlan.Precision.BF16;
            case "fp32" -> MemoryPlan.Precision.FP32;
            default -> throw new CliException("--precision must be bf16 or fp32, not \"" + precision + "\"");
        };
        if (!(mfu > 0 && mfu <= 1)) throw new CliException("--mfu must be in (0, 1], not " + mfu);
        MemoryPlan.Options options;
        try {
            boolean fused = switch (kernels.toLowerCase(Locale.ROOT)) {
                case "fused" -> true;
                case "eager" -> false;
                default -> throw new CliException("--kernels must be fused or eager, not \"" + kernels + "\"");
            };
            options = new MemoryPlan.Options(gpus, gpuMemory, p, zero, checkpointing, fused);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage().replace("gpus", "--gpus").replace("GPU memory", "--gpu-memory")
                    .replace("ZeRO stage", "--zero"));
        }
        RunPlan run = RunPlan.load(file);
        MemoryPlan m = MemoryPlan.of(run.spec(), options);
        long tokens = run.totalSteps() * run.tokensPerStep();
        double flops = m.flopsPerToken() * tokens;
        double gpuHours = flops / (mfu * MemoryPlan.H100_BF16_FLOPS) / 3600;
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("spec", file.toString());
            j.put("plan", m);
            j.put("totalBytes", m.totalBytes());
            j.put("capacityBytes", m.capacityBytes());
            j.put("fits", m.fits());
            j.put("gpusNeededWithZero3", m.gpusNeededWithZero3());
            j.put("steps", run.totalSteps());
            j.put("tokens", tokens);
            j.put("trainingFlops", flops);
            j.put("gpuHoursAtMfu", gpuHours);
            j.put("mfu", mfu);
            o.println(Json.MAPPER.writeValueAsString(j));
            return 0;
        }
        var s = run.spec().model().shape();
        var batch = run.spec().batch();
        o.printf(Locale.ROOT, "%s: %s (%s, %d layers, d %d, %d heads, context %d, vocabulary %,d): %,d parameters%n", file,
                run.spec().model().preset() != null ? run.spec().model().preset() : "custom", s.arch(), s.layers(), s.dModel(),
                s.heads(), s.contextLength(), s.vocabSize(), m.parameters());
        o.printf(Locale.ROOT, "batch %,d × %,d = %,d tokens a step; micro-batch %d (%d accumulation step%s)%n", batch.sequences(),
                batch.seqLen(), run.tokensPerStep(), m.microBatch(), m.accumulationSteps(), m.accumulationSteps() == 1 ? "" : "s");
        o.printf(Locale.ROOT, "%d stage%s, %,d steps, %s tokens%n", run.stages().size(), run.stages().size() == 1 ? "" : "s",
                run.totalSteps(), count(tokens));
        o.printf(Locale.ROOT, "FLOPs: %.3g per token (6N + 12·L·d·T), %.3g in all; estimate at %.0f%% MFU of an H100 (989 TFLOP/s bf16): %,.0f GPU-hours%n",
                m.flopsPerToken(), flops, mfu * 100, gpuHours);
        o.printf(Locale.ROOT, "%nmemory per GPU (%s, ZeRO-%d over %d GPU%s of %s GiB%s):%n", p.name().toLowerCase(Locale.ROOT), zero, gpus,
                gpus == 1 ? "" : "s", trim(gpuMemory), checkpointing ? ", activation checkpointing" : "");
        row(o, "weights (fp32" + (p == MemoryPlan.Precision.BF16 ? " + bf16 copies)" : ")"), m.weightBytes());
        row(o, "gradients (fp32)", m.gradientBytes());
        row(o, "AdamW moments (fp32)", m.optimizerBytes());
        row(o, "activations (micro-batch " + m.microBatch() + ")", m.activationBytes());
        boolean fusedLogits = m.options().precision() == MemoryPlan.Precision.BF16 && m.options().fusedKernels();
        row(o, fusedLogits ? "logits, their gradient (bf16, fused)" : "logits and their gradient (fp32)", m.logitBytes());
        row(o, "CUDA context, workspaces", m.overheadBytes());
        row(o, "total", m.totalBytes());
        if (m.fits()) {
            o.printf(Locale.ROOT, "fits: %s of %s GiB%n", gib(m.totalBytes()), trim(gpuMemory));
        } else {
            int need = m.gpusNeededWithZero3();
            o.printf(Locale.ROOT, "does not fit: %s > %s GiB; %s%n", gib(m.totalBytes()), trim(gpuMemory), need > 0
                    ? "with ZeRO-3 (weights, gradients and optimizer state sharded) it needs at least " + need + " GPUs: --gpus " + need + " --zero 3"
                    : "even fully sharded, one micro-batch's activations do not fit: lower batch.microBatch or add --activation-checkpointing");
        }
        return m.fits() ? 0 : Cpt.EXIT_FAILURE;
    }

    private static void row(PrintWriter o, String what, long bytes) {
        o.printf(Locale.ROOT, "  %-36s %10s%n", what, gib(bytes));
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) MemoryPlan.GIB);
    }

    static String count(long n) {
        if (n >= 1e12) return String.format(Locale.ROOT, "%.2f T", n / 1e12);
        if (n >= 1e9) return String.format(Locale.ROOT, "%.1f B", n / 1e9);
        if (n >= 1e6) return String.format(Locale.ROOT, "%.1f M", n / 1e6);
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
