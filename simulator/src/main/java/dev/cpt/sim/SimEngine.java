package dev.cpt.sim;

import dev.cpt.data.Batch;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import dev.cpt.spec.RunSpec;
import dev.cpt.train.Engine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The simulator engine: a {@link GptModel} and its {@link AdamW} behind core's {@link Engine}.
 * A step is forward (loss and dLoss/dLogits), backward, the global gradient norm, clipping, the
 * AdamW update. A checkpoint directory holds {@value #WEIGHTS} (see {@link GptWeights}) and
 * {@value #OPTIMIZER} (see {@link OptimizerState}).
 */
public final class SimEngine implements Engine {
    public static final String WEIGHTS = "model.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";

    private final GptModel model;
    private final AdamW adam;
    private final GradNorm gradNorm;
    private final double gradClip;
    private final int seqLen;

    /**
     * The engine for a run: its model shape (arch gpt2), optimizer settings, seed and sequence
     * length; with {@code model.init}, the model starts from those weights instead of the seeded
     * init (the optimizer starts fresh either way, and a resumed run's checkpoint replaces both).
     */
    public static SimEngine create(RunSpec spec, int threads) {
        ModelSpec.Shape shape = spec.model().shape();
        if (!"gpt2".equals(shape.arch())) {
            throw new IllegalArgumentException("the simulator implements the gpt2 architecture only; the spec's model is \""
                    + shape.arch() + "\" (train it with the torch engine)");
        }
        SimEngine engine = new SimEngine(shape, spec.optimizer(), spec.seed(), spec.batch().seqLen(), threads);
        String init = spec.model().init();
        if (init != null) {
            try {
                engine.loadWeights(dev.cpt.hf.ModelInit.parse(init).weights(), init);
            } catch (IOException | RuntimeException e) {
                engine.close();
                throw new IllegalArgumentException("model.init " + init + ": " + e.getMessage(), e);
            }
        }
        return engine;
    }

    /**
     * Replaces the model's weights with {@code tensors} (cpt's names and layout, as
     * {@link dev.cpt.hf.ModelInit#weights()} gives them) after checking every one; the optimizer is
     * untouched. {@code source} names them in messages.
     */
    public void loadWeights(java.util.Map<String, dev.cpt.hf.Tensor> tensors, String source) {
        float[] next = new float[model.layout().size()];
        for (ParameterTensors.Tensor t : model.layout().tensors()) {
            dev.cpt.hf.Tensor found = tensors.get(t.name());
            if (found == null) throw new IllegalArgumentException(source + " has no tensor " + t.name());
            if (!java.util.Arrays.equals(found.shape(), t.shape())) {
                throw new IllegalArgumentException(source + ": tensor " + t.name() + " has shape " + java.util.Arrays.toString(found.shape())
                        + ", this engine's model needs " + java.util.Arrays.toString(t.shape()));
            }
            System.arraycopy(found.data(), 0, next, t.offset(), t.size());
        }
        System.arraycopy(next, 0, model.params(), 0, next.length);
        model.parametersChanged();
    }

    public SimEngine(ModelSpec.Shape shape, OptimizerSpec optimizer, long seed, int seqLen, int threads) {
        this.model = new GptModel(shape, seed, threads);
        this.adam = new AdamW(model.layout(), optimizer.beta1(), optimizer.beta2(), optimizer.eps());
        this.gradNorm = new GradNorm(model.layout().size());
        this.gradClip = optimizer.gradClip();
        this.seqLen = seqLen;
    }

    public GptModel model() {
        return model;
    }

    @Override
    public StepResult trainStep(Batch batch, double lr, double weightDecay) {
        double loss = model.forward(batch.tokens(), batch.sequences(), batch.seqLen(), true);
        model.backward();
        double norm = gradNorm.of(model.workers(), model.grads(), model.layout().size());
        adam.update(model.workers(), model.params(), model.grads(), GradNorm.clipFactor(norm, gradClip), lr, weightDecay);
        model.parametersChanged();
        return new StepResult(loss, norm);
    }

    /** The kernels' numbers do not depend on the thread count ({@link Workers}), so a sweep may lend this run idle cores. */
    @Override
    public boolean canChangeThreads() {
        return true;
    }

    @Override
    public void setThreads(int threads) {
        model.setThreads(threads);
    }

    @Override
    public double evalLoss(Batch batch) {
        return model.forward(batch.tokens(), batch.sequences(), batch.seqLen(), false);
    }

    /**
     * Sequences of up to the model's context + 1 tokens, scored in one forward: each is padded on
     * the right (with token 0) to the longest; causal attention keeps a position blind to the
     * padding after it, so a row scores as it would alone.
     */
    @Override
    public boolean canScoreTokens() {
        return true;
    }

    @Override
    public boolean canDecode() {
        return true;
    }

    @Override
    public java.util.List<TokenScores> scoreTokens(java.util.List<int[]> sequences) {
        if (sequences.isEmpty()) return java.util.List.of();
        int longest = 0;
        for (int i = 0; i < sequences.size(); i++) {
            int n = sequences.get(i).length;
            if (n < 2 || n > model.shape().contextLength() + 1) {
                throw new IllegalArgumentException("sequence " + i + " has " + n + " tokens; scoring needs 2 to "
                        + (model.shape().contextLength() + 1) + " (the model's context + 1)");
            }
            longest = Math.max(longest, n);
        }
        int rows = sequences.size();
        int seq = longest - 1;
        int[] tokens = new int[rows * longest];
        for (int r = 0; r < rows; r++) System.arraycopy(sequences.get(r), 0, tokens, r * longest, sequences.get(r).length);
        double[] logProbs = new double[rows * seq];
        boolean[] greedy = new boolean[rows * seq];
        model.score(tokens, rows, seq, logProbs, greedy);
        java.util.List<TokenScores> out = new java.util.ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            int n = sequences.get(r).length - 1;
            out.add(new TokenScores(java.util.Arrays.copyOfRange(logProbs, r * seq, r * seq + n),
                    java.util.Arrays.copyOfRange(greedy, r * seq, r * seq + n)));
        }
        return out;
    }

    /** A decoder with a KV cache of the model's whole context, on the model's current weights ({@link SimDecoder}). */
    @Override
    public Decoder decoder() {
        return new SimDecoder(model);
    }

    @Override
    public void resetOptimizer() {
        adam.reset();
    }

    /** The optimizer's step count since creation or the last reset. */
    public long optimizerStep() {
        return adam.step();
    }

    @Override
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        GptWeights.write(dir.resolve(WEIGHTS), model);
        OptimizerState.write(dir.resolve(OPTIMIZER), model, adam);
    }

    /** Reads and checks both files before changing anything, so a bad checkpoint leaves the engine as it was. */
    @Override
    public void load(Path dir) throws IOException {
        float[] params = GptWeights.readParams(dir.resolve(WEIGHTS), model.layout());
        OptimizerState.Loaded opt = OptimizerState.read(dir.resolve(OPTIMIZER), model);
        System.arraycopy(params, 0, model.params(), 0, params.length);
        model.parametersChanged();
        opt.applyTo(adam);
    }

    /**
     * Parameters N (every tensor once; the tied head is wte) and training FLOPs per token
     * 6N + 12·L·H·Q·T (PaLM's count, PAPER.md), with H·Q = dModel and T the run's sequence length.
     */
    @Override
    public EngineInfo info() {
        ModelSpec.Shape s = model.shape();
        long n = model.layout().size();
        double flops = dev.cpt.plan.ModelSize.flopsPerToken(s, seqLen);
        return new EngineInfo("simulator", n, flops);
    }

    @Override
    public void close() {
        model.close();
    }
}
