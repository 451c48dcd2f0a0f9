package dev.cpt.sweep;

import dev.cpt.data.Batch;
import dev.cpt.plan.RunPlan;
import dev.cpt.train.Engine;
import dev.cpt.train.EngineFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The training loop's test engine again (TrainingLoopTest's FunctionEngine): one parameter θ fits
 * the batch's scaled mean token, {@code loss = (θ − x)²}, heavy-ball momentum, decoupled weight
 * decay. Deterministic, so a resumed run must match an uninterrupted one exactly; a large
 * learning rate makes it diverge for real.
 */
final class TestEngine implements Engine {
    double theta = 0.5;
    double momentum;
    int calls;
    /** Throw (a simulated crash) when trainStep is called this many times; -1 never. */
    int crashAtCall = -1;
    /** Return a NaN loss from this call on; -1 never. */
    int nanFromCall = -1;

    static double x(Batch b) {
        double sum = 0;
        int[] t = b.tokens();
        for (int v : t) sum += v % 1000;
        return sum / t.length / 1000.0;
    }

    @Override
    public StepResult trainStep(Batch batch, double lr, double weightDecay) {
        if (calls == crashAtCall) throw new IllegalStateException("simulated crash");
        calls++;
        if (nanFromCall >= 0 && calls > nanFromCall) return new StepResult(Double.NaN, 1.0);
        double x = x(batch);
        double loss = (theta - x) * (theta - x);
        double grad = 2 * (theta - x);
        momentum = 0.9 * momentum + grad;
        theta = theta - lr * momentum - lr * weightDecay * theta;
        return new StepResult(loss, Math.abs(grad));
    }

    @Override
    public double evalLoss(Batch batch) {
        double x = x(batch);
        return (theta - x) * (theta - x);
    }

    @Override
    public void resetOptimizer() {
        momentum = 0;
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
        return new EngineInfo("test", 1, 6);
    }

    /** Makes test engines and remembers for which runs (by spec name) and with how many threads. */
    static final class Factory implements EngineFactory {
        final List<String> created = Collections.synchronizedList(new ArrayList<>());
        final List<Integer> threads = Collections.synchronizedList(new ArrayList<>());
        /** Spec name → the call at which that run's first engine crashes. */
        final Map<String, Integer> crashOnFirstUse = new ConcurrentHashMap<>();
        /** Spec name → the call from which that run's engines return a NaN loss. */
        final Map<String, Integer> nanFrom = new ConcurrentHashMap<>();

        @Override
        public Engine create(RunPlan plan, int threads) {
            created.add(plan.spec().name());
            this.threads.add(threads);
            TestEngine e = new TestEngine();
            Integer crash = crashOnFirstUse.remove(plan.spec().name());
            if (crash != null) e.crashAtCall = crash;
            e.nanFromCall = nanFrom.getOrDefault(plan.spec().name(), -1);
            return e;
        }
    }
}
