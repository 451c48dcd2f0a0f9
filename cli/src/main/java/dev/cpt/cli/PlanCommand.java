package dev.cpt.cli;

import dev.cpt.plan.Interconnect;
import dev.cpt.plan.MemoryPlan;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.StepTimePlan;
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
                    + "bench/gpu/README.md), Korthikanti et al. 2022 for fp32.",
            "",
            "The step time (dev.cpt.plan.StepTimePlan): compute at --mfu of --peak-tflops per GPU, plus the bytes each "
                    + "collective of the ZeRO stage moves per step (all-reduce 2(N-1)/N*b, reduce-scatter and all-gather "
                    + "(N-1)/N*b) at the --interconnect bandwidth, overlapped with the backward and the forward as the "
                    + "implementation overlaps them; then tokens/s, MFU and GPU-hours on N GPUs."
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

    @Option(names = "--zero", paramLabel = "STAGE",
            description = "ZeRO/FSDP sharding across the GPUs: 0 none, 1 optimizer state, 2 + gradients, 3 + weights. Default: the spec's "
                    + "parallel.zero, else 0.")
    Integer zeroOption;

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

    @Option(names = "--peak-tflops", defaultValue = "989", paramLabel = "F",
            description = "Peak dense TFLOP/s of one GPU the MFU is a share of. Default: ${DEFAULT-VALUE} (H100 SXM, bf16).")
    double peakTflops;

    @Option(names = "--interconnect", paramLabel = "LINK",
            description = "The collectives' bus bandwidth per GPU: a preset (nvlink4, nvlink3, ib-ndr, ib-hdr, pcie5, pcie4, eth-100g) "
                    + "or GB/s. Default: nvlink4 on one machine (--gpus ≤ --gpus-per-node), ib-ndr across machines.")
    String interconnect;

    @Option(names = "--gpus-per-node", defaultValue = "8", paramLabel = "N",
            description = "GPUs in one machine, for the default interconnect. Default: ${DEFAULT-VALUE}.")
    int gpusPerNode;

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
        RunPlan run = RunPlan.load(file);
        zero = zeroOption != null ? zeroOption : run.spec().zeroStage();
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
        if (!(peakTflops > 0) || Double.isInfinite(peakTflops)) throw new CliException("--peak-tflops must be positive, not " + peakTflops);
        if (gpusPerNode < 1) throw new CliException("--gpus-per-node must be at least 1, not " + gpusPerNode);
        Interconnect link;
        try {
            link = interconnect != null ? Interconnect.parse(interconnect) : Interconnect.assumed(gpus, gpusPerNode);
        } catch (IllegalArgumentException e) {
            throw new CliException("--interconnect: " + e.getMessage());
        }
        MemoryPlan m = MemoryPlan.of(run.spec(), options);
        StepTimePlan time = StepTimePlan.of(run.spec(), run.totalSteps(), gpus, zero, p, mfu, peakTflops * 1e12, link);
        long tokens = run.totalSteps() * run.tokensPerStep();
        double flops = m.flopsPerToken() * tokens;
        double gpuHours = flops / (mfu * peakTflops * 1e12) / 3600;
        PrintWriter o = spec.commandLine().getOut();
        // cpt train splits the global batch evenly: say so before a user books GPUs it cannot split over.
        int sequences = run.spec().batch().sequences();
        String split = sequences % gpus == 0 ? null : String.format(Locale.ROOT,
                "batch.sequences %,d does not divide among %d GPUs: cpt train needs a multiple of %d (e.g. %,d or %,d); this plan rounds "
                        + "each GPU's share up", sequences, gpus, gpus, sequences / gpus * gpus, (sequences / gpus + 1) * gpus);
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("spec", file.toString());
            if (split != null) j.put("note", split);
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
            j.put("stepTime", time);
            j.put("stepSeconds", time.stepSeconds());
            j.put("tokensPerSecond", time.tokensPerSecond());
            j.put("effectiveMfu", time.effectiveMfu());
            j.put("gpuHours", time.gpuHours());
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
        o.printf(Locale.ROOT, "FLOPs: %.3g per token (6N + 12·L·d·T), %.3g in all; compute alone at %.0f%% MFU of %s TFLOP/s: %,.0f GPU-hours%n",
                m.flopsPerToken(), flops, mfu * 100, trim(peakTflops), gpuHours);
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
        stepTime(o, time);
        if (split != null) o.println("note: " + split);
        return m.fits() ? 0 : Cpt.EXIT_FAILURE;
    }

    private static void stepTime(PrintWriter o, StepTimePlan t) {
        o.printf(Locale.ROOT, "%nstep time on %d GPU%s (ZeRO-%d%s; %.0f%% MFU in the compute):%n", t.gpus(), t.gpus() == 1 ? "" : "s",
                t.zeroStage(), t.gpus() == 1 ? ", nothing to communicate" : ", " + t.interconnect().describe(), t.mfu() * 100);
        o.printf(Locale.ROOT, "  %-38s %10s   %d micro-batch%s a GPU%n", "compute (forward + backward, a GPU)", ms(t.computeSeconds()),
                t.microBatchesPerRank(), t.microBatchesPerRank() == 1 ? "" : "es");
        for (StepTimePlan.Collective c : t.collectives()) {
            o.printf(Locale.ROOT, "  %-38s %10s   %s, %s exposed; %s%n", c.name(), ms(c.seconds()), gb(c.bytes()), ms(c.exposed()), c.when());
        }
        o.printf(Locale.ROOT, "  %-38s %10s   %s tokens/s, %.1f%% MFU%n", "step", ms(t.stepSeconds()), count((long) t.tokensPerSecond()),
                100 * t.effectiveMfu());
        o.printf(Locale.ROOT, "  run: %,d steps in %s on %d GPU%s, %,.0f GPU-hours%n", t.steps(), duration(t.wallHours()), t.gpus(),
                t.gpus() == 1 ? "" : "s", t.gpuHours());
    }

    static String ms(double seconds) {
        return String.format(Locale.ROOT, seconds >= 10 ? "%.1f s" : "%.1f ms", seconds >= 10 ? seconds : seconds * 1e3);
    }

    static String gb(double bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    static String duration(double hours) {
        return hours >= 48 ? String.format(Locale.ROOT, "%.1f days", hours / 24) : String.format(Locale.ROOT, "%.1f h", hours);
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
