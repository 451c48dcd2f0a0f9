package dev.cpt.trainer;

import dev.cpt.data.Batch;
import dev.cpt.plan.MemoryPlan;
import dev.cpt.plan.ModelSize;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Training speed of the torch engine: trains a preset on random tokens, {@code warmup} untimed
 * steps then {@code steps} timed ones, and reports the median step. Each step ends by reading the
 * loss, so a step's wall time is the device's time for it. The batches are drawn before the clock
 * starts (four of them, in turn), so the numbers are the engine's, not the sampler's.
 * {@code bench/gpu/reference_neox.py} trains the identical model in PyTorch and prints the same
 * fields, for the ratio.
 */
public final class TorchBench {
    private TorchBench() {}

    /**
     * One benchmark. {@code mfu} is null on the CPU; on CUDA it is model FLOPs (6N + 12·L·H·Q·T a
     * token) over {@code peakTflops}.
     */
    public record Result(String model, String batch, int microBatch, boolean activationCheckpointing, boolean fusedKernels, String device, String precision, int steps,
                         double tokensPerSecond, double msPerStep, double tflops, Double mfu, double peakMemoryGiB,
                         long parameters, String torch) {
        public String toJson() {
            return String.format(Locale.ROOT,
                    "{\"impl\": \"%s\", \"kernels\": \"%s\", \"model\": \"%s\", \"batch\": \"%s\", \"microBatch\": %d, \"device\": \"%s\", "
                            + "\"precision\": \"%s\", \"steps\": %d, \"tokensPerSecond\": %.1f, \"msPerStep\": %.2f, "
                            + "\"tflops\": %.2f, \"mfu\": %s, \"peakMemoryGiB\": %.4g, \"parameters\": %d, \"torch\": \"%s\"}",
                    impl(), fusedKernels ? "fused" : "eager", model, batch, microBatch, device, precision, steps, tokensPerSecond, msPerStep, tflops,
                    mfu == null ? "null" : String.format(Locale.ROOT, "%.4f", mfu), peakMemoryGiB, parameters, torch);
        }

        /** "cpt", with "-eager-ops" when ATen ran the memory-bound parts and "-checkpointed" with activation checkpointing. */
        public String impl() {
            return "cpt" + (fusedKernels ? "" : "-eager-ops") + (activationCheckpointing ? "-checkpointed" : "");
        }
    }

    /** An H100/H200 SXM's dense fp32 peak without tensor cores (TF32 stays off), by the datasheet. */
    static final double H100_FP32_TFLOPS = 67;

    /** The datasheet peak MFU is measured against: {@link MemoryPlan#H100_BF16_FLOPS} for bf16, 67 TFLOP/s for fp32. */
    public static double defaultPeakTflops(TorchEngine.Precision precision) {
        return precision == TorchEngine.Precision.BF16 ? MemoryPlan.H100_BF16_FLOPS / 1e12 : H100_FP32_TFLOPS;
    }

    public static Result run(String preset, int sequences, int seqLen, int microBatch, TorchEngine.Options options, int warmup,
                             int steps, double peakTflops) {
        TorchEngine.Device device = options.device();
        TorchEngine.Precision precision = options.precision();
        ModelSpec.Shape shape = ModelSpec.PRESETS.get(preset);
        if (shape == null) throw new IllegalArgumentException("unknown preset \"" + preset + "\"; known: " + ModelSpec.PRESETS.keySet());
        if (steps < 1 || warmup < 0) throw new IllegalArgumentException("need steps >= 1 and warmup >= 0");
        SplittableRandom rnd = new SplittableRandom(1);
        Batch[] batches = new Batch[4];
        for (int b = 0; b < batches.length; b++) {
            batches[b] = new Batch(sequences, seqLen);
            int[] t = batches[b].tokens();
            for (int i = 0; i < t.length; i++) t[i] = rnd.nextInt(shape.vocabSize());
        }
        try (TorchEngine engine = TorchEngine.of(shape, OptimizerSpec.DEFAULT, 1, seqLen, microBatch, options)) {
            for (int s = 0; s < warmup; s++) engine.trainStep(batches[s % batches.length], 1e-4, 0.1);
            engine.resetPeakMemory();
            double[] ms = new double[steps];
            for (int s = 0; s < steps; s++) {
                long start = System.nanoTime();
                engine.trainStep(batches[s % batches.length], 1e-4, 0.1);
                ms[s] = (System.nanoTime() - start) / 1e6;
            }
            Arrays.sort(ms);
            double median = steps % 2 == 1 ? ms[steps / 2] : (ms[steps / 2 - 1] + ms[steps / 2]) / 2;
            double tokensPerSecond = sequences * (double) seqLen / (median / 1e3);
            double tflops = ModelSize.flopsPerToken(shape, seqLen) * tokensPerSecond / 1e12;
            Double mfu = device == TorchEngine.Device.CUDA ? tflops / peakTflops : null;
            return new Result(preset, sequences + "x" + seqLen, Math.min(microBatch, sequences), options.activationCheckpointing(), engine.fusedKernels(), device.name().toLowerCase(Locale.ROOT),
                    precision.name().toLowerCase(Locale.ROOT), steps, tokensPerSecond, median, tflops, mfu,
                    engine.memory().peakAllocatedBytes() / (double) (1L << 30), engine.info().parameters(), TorchEngine.torchVersion());
        }
    }
}
