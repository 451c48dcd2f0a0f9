package dev.cpt.sim;

import dev.cpt.data.Batch;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Training speed of the simulator (DESIGN.md, "Measured, not assumed"): trains a preset on random
 * tokens for a while after a warm-up and prints one JSON line
 * {@code {model, batch, threads, tokensPerSecond, msPerStep, gflops}}, FLOPs counted as
 * {@link SimEngine#info()} does (6N + 12·L·H·Q·T per token). Compare with
 * {@code simulator/src/test/python/bench_torch.py}, which trains the identical model in PyTorch.
 *
 * <p>Usage: {@code SimBench [--model toy-s] [--batch 16x128] [--threads 2] [--seconds 20]}
 */
public final class SimBench {
    private SimBench() {}

    public record Result(String model, String batch, int threads, double tokensPerSecond, double msPerStep, double gflops) {
        public String toJson() {
            return String.format(Locale.ROOT,
                    "{\"model\": \"%s\", \"batch\": \"%s\", \"threads\": %d, \"tokensPerSecond\": %.1f, \"msPerStep\": %.2f, \"gflops\": %.2f}",
                    model, batch, threads, tokensPerSecond, msPerStep, gflops);
        }
    }

    /** Warms up for {@code max(3 steps, seconds/5)}, then times whole steps for {@code seconds}. */
    public static Result run(String preset, int sequences, int seqLen, int threads, double seconds) {
        ModelSpec.Shape shape = ModelSpec.PRESETS.get(preset);
        if (shape == null) throw new IllegalArgumentException("unknown preset \"" + preset + "\"; known: " + ModelSpec.PRESETS.keySet());
        Batch batch = new Batch(sequences, seqLen);
        SplittableRandom rnd = new SplittableRandom(1);
        try (SimEngine engine = new SimEngine(shape, OptimizerSpec.DEFAULT, 1, seqLen, threads)) {
            long warmEnd = System.nanoTime() + (long) (seconds / 5 * 1e9);
            for (int s = 0; s < 3 || System.nanoTime() < warmEnd; s++) step(engine, batch, rnd, shape);
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            int steps = 0;
            long now;
            do {
                step(engine, batch, rnd, shape);
                steps++;
                now = System.nanoTime();
            } while (now < end);
            double elapsed = (now - start) / 1e9;
            double tokensPerSecond = (double) steps * sequences * seqLen / elapsed;
            return new Result(preset, sequences + "x" + seqLen, threads, tokensPerSecond, elapsed * 1e3 / steps,
                    engine.info().flopsPerToken() * tokensPerSecond / 1e9);
        }
    }

    private static void step(SimEngine engine, Batch batch, SplittableRandom rnd, ModelSpec.Shape shape) {
        int[] t = batch.tokens();
        for (int i = 0; i < t.length; i++) t[i] = rnd.nextInt(shape.vocabSize());
        engine.trainStep(batch, 1e-3, 0.1);
    }

    public static void main(String[] args) {
        String model = "toy-s";
        String batch = "16x128";
        int threads = 2;
        double seconds = 20;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--model" -> model = value;
                case "--batch" -> batch = value;
                case "--threads" -> threads = Integer.parseInt(value);
                case "--seconds" -> seconds = Double.parseDouble(value);
                default -> {
                    System.err.println("usage: SimBench [--model toy-s] [--batch 16x128] [--threads 2] [--seconds 20]");
                    System.exit(2);
                }
            }
            i++;
        }
        String[] bt = batch.split("x");
        System.out.println(run(model, Integer.parseInt(bt[0]), Integer.parseInt(bt[1]), threads, seconds).toJson());
    }
}
