package dev.cpt.train;

import dev.cpt.data.Batch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A test engine whose loss is a known function of its inputs: one parameter θ fits the batch's
 * mean token (scaled), {@code loss = (θ − x)²}, updated by heavy-ball momentum with decoupled
 * weight decay. Deterministic, so a resumed run must match an uninterrupted one bit for bit; a
 * large learning rate makes it diverge for real. The sweep tests use it too.
 */
public final class FunctionEngine implements Engine {
    double theta = 0.5;
    double momentum;
    final List<double[]> calls = new ArrayList<>(); // {lr, wd} per trainStep
    final List<Integer> resetsAtCall = new ArrayList<>();
    /** Throw (simulating a crash) when trainStep is called this many times; -1 never. */
    public int crashAtCall = -1;
    /** Return a NaN loss from this call on; -1 never. */
    public int nanFromCall = -1;

    static double x(Batch b) {
        double sum = 0;
        int[] t = b.tokens();
        for (int v : t) sum += v % 1000;
        return sum / t.length / 1000.0;
    }

    @Override
    public StepResult trainStep(Batch batch, double lr, double weightDecay) {
        if (calls.size() == crashAtCall) throw new IllegalStateException("simulated crash");
        calls.add(new double[] {lr, weightDecay});
        double x = x(batch);
        double loss = (theta - x) * (theta - x);
        double grad = 2 * (theta - x);
        if (nanFromCall >= 0 && calls.size() > nanFromCall) return new StepResult(Double.NaN, Math.abs(grad));
        momentum = 0.9 * momentum + grad;
        theta = theta - lr * momentum - lr * weightDecay * theta;
        return new StepResult(loss, Math.abs(grad));
    }

    /** Validation returns NaN once this many updates were made; -1 never. */
    int nanEvalFromCall = -1;

    @Override
    public double evalLoss(Batch batch) {
        if (nanEvalFromCall >= 0 && calls.size() >= nanEvalFromCall) return Double.NaN;
        double x = x(batch);
        return (theta - x) * (theta - x);
    }

    @Override
    public void resetOptimizer() {
        momentum = 0;
        resetsAtCall.add(calls.size());
    }

    @Override
    public void save(Path dir) throws IOException {
        Files.writeString(dir.resolve("state.txt"), Double.toHexString(theta) + " " + Double.toHexString(momentum));
    }

    @Override
    public void load(Path dir) throws IOException {
        String[] s = Files.readString(dir.resolve("state.txt")).split(" ");
        theta = Double.parseDouble(s[0]);
        momentum = Double.parseDouble(s[1]);
    }

    @Override
    public EngineInfo info() {
        return new EngineInfo("function", 1, 6);
    }
}
