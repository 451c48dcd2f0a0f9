package dev.cpt.trainer;

import dev.cpt.data.Batch;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Checks the torch engine on a device against the CPU: both start from the same weights (drawn on
 * the CPU from one seed) and train on the same batches; fp32 losses must agree within 1e-4 for 20
 * steps (the bar the CPU engine meets against the simulator), bf16 autocast within 0.05, and a run
 * saved at step 10 and resumed on the device must continue as the uninterrupted one did within
 * 1e-4 (CUDA's atomics make it close, not bitwise). On CUDA with libtorch >= 2.1 this compares the
 * fused AdamW kernel with the per-tensor optimizer the CPU runs. Scoring and decoding (cpt eval,
 * cpt generate) are checked too: per-position log-probabilities on the device against the CPU's
 * (fp32 within 1e-4, bf16 within 0.1), and the KV-cached decoder's logits against the same device's
 * full forwards (fp32 within 1e-4, bf16 within 0.1: the cache holds bf16 keys and values).
 *
 * <p>Usage: {@code DeviceCheck [cuda|cpu]}; prints one JSON line per check and exits 1 if any fails.
 */
public final class DeviceCheck {
    private DeviceCheck() {}

    static final int STEPS = 20;

    public record Check(String name, double maxDifference, double tolerance) {
        boolean passed() {
            return maxDifference <= tolerance;
        }

        String toJson() {
            return String.format(Locale.ROOT, "{\"check\": \"%s\", \"maxDifference\": %.3g, \"tolerance\": %.3g, \"passed\": %s}",
                    name, maxDifference, tolerance, passed());
        }
    }

    public static List<Check> run(TorchEngine.Device device, Path scratch) {
        List<Check> checks = new ArrayList<>();
        ModelSpec.Shape[] shapes = {
            ModelSpec.PRESETS.get("toy-s"),
            new ModelSpec.Shape("neox", 2, 128, 4, 128, 256),  // the 405m architecture at toy size
            ModelSpec.PRESETS.get("toy-mpt"),  // LBS-7B's architecture (ALiBi through SDPA's float mask on CUDA), 6 heads
        };
        for (ModelSpec.Shape shape : shapes) {
            Batch[] batches = batches(shape, 8, 64);
            double[] cpu = losses(shape, TorchEngine.Device.CPU, TorchEngine.Precision.FP32, TorchEngine.Kernels.EAGER, batches, STEPS);
            double[] fp32 = losses(shape, device, TorchEngine.Precision.FP32, TorchEngine.Kernels.EAGER, batches, STEPS);
            checks.add(new Check(shape.arch() + " fp32 " + name(device) + " vs cpu, loss over " + STEPS + " steps", maxDiff(cpu, fp32), 1e-4));
            if (device == TorchEngine.Device.CPU) {
                // the fused ops' CPU formulas against eager ATen
                double[] fused = losses(shape, device, TorchEngine.Precision.FP32, TorchEngine.Kernels.FUSED, batches, STEPS);
                checks.add(new Check(shape.arch() + " fp32 cpu fused ops vs eager, loss over " + STEPS + " steps", maxDiff(cpu, fused), 1e-4));
            }
            if (device == TorchEngine.Device.CUDA) {
                double[] bf16 = losses(shape, device, TorchEngine.Precision.BF16, TorchEngine.Kernels.EAGER, batches, STEPS);
                checks.add(new Check(shape.arch() + " bf16 cuda vs fp32 cpu, loss over " + STEPS + " steps", maxDiff(cpu, bf16), 0.05));
                if (TorchEngine.fusedKernelsAvailable()) {
                    // cpt's kernels round once where eager rounds each op to bf16: close to eager, not equal
                    double[] fused = losses(shape, device, TorchEngine.Precision.BF16, TorchEngine.Kernels.FUSED, batches, STEPS);
                    checks.add(new Check(shape.arch() + " bf16 cuda fused kernels vs fp32 cpu, loss over " + STEPS + " steps",
                            maxDiff(cpu, fused), 0.05));
                    checks.add(new Check(shape.arch() + " bf16 cuda fused kernels vs eager ops, loss over " + STEPS + " steps",
                            maxDiff(bf16, fused), 5e-3));
                }
            }
            checks.add(new Check(shape.arch() + " fp32 " + name(device) + " resumed at step 10 vs uninterrupted",
                    maxDiff(fp32, resumed(shape, device, batches, scratch)), 1e-4));
            checks.addAll(scoringAndDecoding(shape, device));
        }
        return checks;
    }

    /** Rows of the batches' patterns, of three lengths, to score. */
    private static List<int[]> scoringRows(ModelSpec.Shape shape) {
        int[] t = batches(shape, 1, 64)[0].tokens();
        return List.of(java.util.Arrays.copyOf(t, 65), java.util.Arrays.copyOf(t, 40), java.util.Arrays.copyOf(t, 2));
    }

    private static double[] logProbs(TorchEngine e, List<int[]> rows) {
        List<Double> all = new ArrayList<>();
        for (var s : e.scoreTokens(rows)) for (double lp : s.logProbs()) all.add(lp);
        return all.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The cached decoder's logits of every position of {@code tokens}, against the full forward's on the same engine. */
    private static double cachedAgainstFull(TorchEngine e, int[] tokens) {
        float[][] full = e.forwardLogits(tokens);
        double max = 0;
        try (var decoder = e.decoder()) {
            for (int i = 0; i < tokens.length; i++) {
                float[] cached = decoder.append(tokens[i]);
                for (int v = 0; v < cached.length; v++) {
                    double d = Math.abs(cached[v] - full[i][v]);
                    if (!(d <= max)) max = d;
                }
            }
        }
        return max;
    }

    private static List<Check> scoringAndDecoding(ModelSpec.Shape shape, TorchEngine.Device device) {
        List<Check> checks = new ArrayList<>();
        List<int[]> rows = scoringRows(shape);
        int[] tokens = java.util.Arrays.copyOf(rows.getFirst(), 48);
        double[] cpu;
        try (TorchEngine e = engine(shape, TorchEngine.Device.CPU, TorchEngine.Precision.FP32, TorchEngine.Kernels.EAGER)) {
            cpu = logProbs(e, rows);
        }
        try (TorchEngine e = engine(shape, device, TorchEngine.Precision.FP32, TorchEngine.Kernels.AUTO)) {
            checks.add(new Check(shape.arch() + " fp32 " + name(device) + " scoring vs cpu, log-probabilities", maxDiff(cpu, logProbs(e, rows)), 1e-4));
            checks.add(new Check(shape.arch() + " fp32 " + name(device) + " cached decoding vs full forward, logits", cachedAgainstFull(e, tokens), 1e-4));
        }
        if (device == TorchEngine.Device.CUDA) {
            try (TorchEngine e = engine(shape, device, TorchEngine.Precision.BF16, TorchEngine.Kernels.AUTO)) {
                checks.add(new Check(shape.arch() + " bf16 cuda scoring vs fp32 cpu, log-probabilities", maxDiff(cpu, logProbs(e, rows)), 0.1));
                checks.add(new Check(shape.arch() + " bf16 cuda cached decoding vs full forward, logits", cachedAgainstFull(e, tokens), 0.1));
            }
        }
        return checks;
    }

    private static String name(TorchEngine.Device d) {
        return d.name().toLowerCase(Locale.ROOT);
    }

    private static Batch[] batches(ModelSpec.Shape shape, int sequences, int seqLen) {
        SplittableRandom rnd = new SplittableRandom(7);
        Batch[] out = new Batch[STEPS];
        for (int b = 0; b < out.length; b++) {
            out[b] = new Batch(sequences, seqLen);
            int[] t = out[b].tokens();
            // Repeating patterns, so that the loss falls and the check sees training, not noise.
            for (int i = 0; i < t.length; i++) t[i] = (i % 7 == 0) ? rnd.nextInt(shape.vocabSize()) : (t[i - 1] * 31 + 17) % shape.vocabSize();
        }
        return out;
    }

    private static TorchEngine engine(ModelSpec.Shape shape, TorchEngine.Device device, TorchEngine.Precision precision,
                                      TorchEngine.Kernels kernels) {
        return TorchEngine.of(shape, OptimizerSpec.DEFAULT, 42, 64, 4,
                TorchEngine.Options.of(device, precision, 2).withKernels(kernels));
    }

    private static double[] losses(ModelSpec.Shape shape, TorchEngine.Device device, TorchEngine.Precision precision,
                                   TorchEngine.Kernels kernels, Batch[] batches, int steps) {
        try (TorchEngine e = engine(shape, device, precision, kernels)) {
            double[] out = new double[steps];
            for (int s = 0; s < steps; s++) out[s] = e.trainStep(batches[s], 1e-3, 0.1).loss();
            return out;
        }
    }

    /** The fp32 losses of a run saved after half its steps and continued by a fresh engine. */
    private static double[] resumed(ModelSpec.Shape shape, TorchEngine.Device device, Batch[] batches, Path scratch) {
        double[] resumed = new double[STEPS];
        try {
            Path dir = Files.createTempDirectory(scratch, "device-check");
            try (TorchEngine e = engine(shape, device, TorchEngine.Precision.FP32, TorchEngine.Kernels.EAGER)) {
                for (int s = 0; s < STEPS / 2; s++) resumed[s] = e.trainStep(batches[s], 1e-3, 0.1).loss();
                e.save(dir);
            }
            try (TorchEngine e = engine(shape, device, TorchEngine.Precision.FP32, TorchEngine.Kernels.EAGER)) {
                e.load(dir);
                for (int s = STEPS / 2; s < STEPS; s++) resumed[s] = e.trainStep(batches[s], 1e-3, 0.1).loss();
            }
            Files.deleteIfExists(dir.resolve(TorchEngine.CHECKPOINT));
            Files.deleteIfExists(dir);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return resumed;
    }

    private static double maxDiff(double[] a, double[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - b[i]);
            if (!(d <= max)) max = d;  // NaN wins
        }
        return max;
    }

    public static void main(String[] args) throws IOException {
        TorchEngine.Device device = args.length > 0 && args[0].equalsIgnoreCase("cpu") ? TorchEngine.Device.CPU : TorchEngine.Device.CUDA;
        System.out.println("{\"torch\": \"" + TorchEngine.torchVersion() + "\", \"cuda\": " + TorchEngine.cudaAvailable() + "}");
        boolean ok = true;
        for (Check c : run(device, Path.of(System.getProperty("java.io.tmpdir")))) {
            System.out.println(c.toJson());
            ok &= c.passed();
        }
        System.exit(ok ? 0 : 1);
    }
}
