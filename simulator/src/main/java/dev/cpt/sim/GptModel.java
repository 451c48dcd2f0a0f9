package dev.cpt.sim;

import dev.cpt.data.SplitMix;
import dev.cpt.spec.ModelSpec;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;

/**
 * A {@code gpt2} model (DESIGN.md, "Models"): token and learned position embeddings; per block a
 * pre-LayerNorm causal self-attention and a pre-LayerNorm tanh-GELU MLP (4×), each added to the
 * residual stream; a final LayerNorm; the LM head tied to the token embedding. Float32 throughout.
 *
 * <p>{@link #forward} and {@link #backward} walk the same layers in opposite orders; each layer's
 * forward and backward kernels sit side by side in its own class (llm.c's arrangement). Buffers
 * for a batch shape are allocated on its first use and then reused, so a step allocates no arrays.
 */
public final class GptModel implements AutoCloseable {
    private final ParameterTensors layout;
    private final ModelSpec.Shape shape;
    private final float[] params;
    private final float[] grads;
    /** Each linear weight transposed to [in, out], for the forward's broadcast-form product. */
    private final float[] paramsT;
    private final Workers workers;
    /** Gather offsets down L rows of a matrix with C or 4C columns. */
    private final int[] gatherC;
    private final int[] gather4C;
    private Activations acts;
    private int[] lastTokens;

    public GptModel(ModelSpec.Shape shape, long seed, int threads) {
        this.layout = new ParameterTensors(shape);
        this.shape = shape;
        this.params = new float[layout.size()];
        this.grads = new float[layout.size()];
        this.paramsT = new float[layout.size()];
        this.workers = new Workers(threads);
        this.gatherC = new int[Matmul.L];
        this.gather4C = new int[Matmul.L];
        for (int i = 0; i < Matmul.L; i++) {
            gatherC[i] = i * shape.dModel();
            gather4C[i] = i * 4 * shape.dModel();
        }
        initialize(seed);
    }

    /**
     * GPT-2's initialization: weights and embeddings N(0, 0.02); the two projections into the
     * residual stream N(0, 0.02/√(2·layers)) so the stream's variance does not grow with depth;
     * biases 0; LayerNorm weights 1. Each tensor draws from its own stream keyed by seed and name,
     * so a tensor's values do not depend on the tensors before it.
     */
    public void initialize(long seed) {
        double residualStd = 0.02 / Math.sqrt(2.0 * shape.layers());
        for (ParameterTensors.Tensor t : layout.tensors()) {
            int end = t.offset() + t.size();
            switch (t.init()) {
                case ZERO -> Arrays.fill(params, t.offset(), end, 0f);
                case ONE -> Arrays.fill(params, t.offset(), end, 1f);
                case NORMAL, RESIDUAL_PROJECTION -> {
                    double std = t.init() == ParameterTensors.Init.NORMAL ? 0.02 : residualStd;
                    SplittableRandom rng = new SplittableRandom(SplitMix.key(seed, "init:" + t.name()));
                    for (int i = t.offset(); i < end; i += 2) {
                        // Box–Muller: two normals from two uniforms; 1 − u keeps the log's argument in (0, 1].
                        double r = Math.sqrt(-2.0 * Math.log(1.0 - rng.nextDouble()));
                        double a = 2.0 * Math.PI * rng.nextDouble();
                        params[i] = (float) (std * r * Math.cos(a));
                        if (i + 1 < end) params[i + 1] = (float) (std * r * Math.sin(a));
                    }
                }
            }
        }
        parametersChanged();
    }

    public ParameterTensors layout() {
        return layout;
    }

    public ModelSpec.Shape shape() {
        return shape;
    }

    /** The parameters, laid out as {@link #layout()} says; call {@link #parametersChanged()} after writing them. */
    public float[] params() {
        return params;
    }

    /** The gradients of the last {@link #backward()}, same layout. */
    public float[] grads() {
        return grads;
    }

    Workers workers() {
        return workers;
    }

    /** Each linear weight transposed to [in, out] (and wte to [C, vocab]), at the weight's own offset. */
    float[] paramsT() {
        return paramsT;
    }

    /**
     * Computes on {@code threads} threads from the next call on (between steps, from the thread that
     * trains); the numbers do not depend on it ({@link Workers}).
     */
    public void setThreads(int threads) {
        workers.setThreads(threads);
    }

    /** Refreshes what is derived from the parameters (the transposed weights). */
    public void parametersChanged() {
        int c = shape.dModel();
        transpose(layout.wte(), shape.vocabSize(), c);
        for (int l = 0; l < shape.layers(); l++) {
            ParameterTensors.Layer p = layout.layer(l);
            transpose(p.qkvw(), 3 * c, c);
            transpose(p.attprojw(), c, c);
            transpose(p.fcw(), 4 * c, c);
            transpose(p.fcprojw(), c, 4 * c);
        }
    }

    /**
     * {@code paramsT[off + i·rows + o] = params[off + o·cols + i]}, threads owning output rows; a
     * gather collects {@code L} rows of one column into one vector store.
     */
    private void transpose(int off, int rows, int cols) {
        int[] map = cols == shape.dModel() ? gatherC : gather4C;
        workers.run(cols, 8, (worker, from, to) -> {
            for (int i = from; i < to; i++) {
                int dst = off + i * rows;
                int o = 0;
                for (; o + Matmul.L <= rows; o += Matmul.L) {
                    FloatVector.fromArray(Matmul.S, params, off + o * cols + i, map, 0).intoArray(paramsT, dst + o);
                }
                for (; o < rows; o++) paramsT[dst + o] = params[off + o * cols + i];
            }
        });
    }

    /**
     * Runs the model on {@code tokens} ({@code batch} rows of {@code seqLen + 1}) and returns the
     * mean next-token loss. With {@code training}, the logits are replaced by their gradient, ready
     * for {@link #backward()}.
     */
    public double forward(int[] tokens, int batch, int seqLen, boolean training) {
        Activations a = forwardToLogits(tokens, batch, seqLen);
        CrossEntropy.forward(workers, a.logits, a.losses, tokens, seqLen, a.rows, shape.vocabSize(), training);
        lastTokens = training ? tokens : null;
        return CrossEntropy.mean(a.losses, a.rows);
    }

    /**
     * Scores {@code tokens} (laid out as for {@link #forward}) without changing any state: row
     * {@code r} (= sequence·seqLen + position) gets {@code logProbs[r]}, the log-softmax of its
     * logits (in double) at the next token, and {@code greedy[r]}, whether that token is the first
     * maximal logit. The logits are read before the cross-entropy rescales them in place, whose
     * exp(logit − max) could round neighbours of the maximum up to a tie.
     */
    public void score(int[] tokens, int batch, int seqLen, double[] logProbs, boolean[] greedy) {
        Activations a = forwardToLogits(tokens, batch, seqLen);
        lastTokens = null;
        int v = shape.vocabSize();
        float[] logits = a.logits;
        workers.run(a.rows, 1, (worker, from, to) -> {
            for (int r = from; r < to; r++) {
                int x = r * v;
                int target = tokens[(r / seqLen) * (seqLen + 1) + r % seqLen + 1];
                int best = 0;
                float max = logits[x];
                for (int i = 1; i < v; i++) {
                    if (logits[x + i] > max) {
                        max = logits[x + i];
                        best = i;
                    }
                }
                double sum = 0;
                for (int i = 0; i < v; i++) sum += Math.exp((double) logits[x + i] - max);
                logProbs[r] = (double) logits[x + target] - max - Math.log(sum);
                greedy[r] = best == target;
            }
        });
    }

    /** A copy of the logits of {@code tokens} (laid out as for {@link #forward}), [batch·seqLen, vocab]; no state changes. */
    float[] logits(int[] tokens, int batch, int seqLen) {
        Activations a = forwardToLogits(tokens, batch, seqLen);
        lastTokens = null;
        return Arrays.copyOf(a.logits, a.rows * shape.vocabSize());
    }

    /** Embeddings, blocks, final LayerNorm and the tied head: the batch's logits, in {@code acts.logits}. */
    private Activations forwardToLogits(int[] tokens, int batch, int seqLen) {
        checkTokens(tokens, batch, seqLen);
        if (acts == null || !acts.fits(batch, seqLen, workers.threads())) acts = new Activations(shape, batch, seqLen, workers.threads());
        Activations a = acts;
        int c = shape.dModel();
        int rows = a.rows;
        Embedding.forward(workers, a.encoded, tokens, batch, seqLen, params, layout.wte(), layout.wpe(), c);
        for (int l = 0; l < shape.layers(); l++) {
            ParameterTensors.Layer p = layout.layer(l);
            float[] res = a.input(l);
            LayerNorm.forward(workers, a.ln1[l], res, params, p.ln1w(), p.ln1b(), a.ln1Mean[l], a.ln1Rstd[l], rows, c);
            Matmul.forward(workers, a.qkv[l], 0, a.ln1[l], 0, paramsT, p.qkvw(), params, p.qkvb(), rows, c, 3 * c);
            a.attention.forward(workers, a.atty[l], a.att[l], a.qkv[l]);
            Matmul.forward(workers, a.res2[l], 0, a.atty[l], 0, paramsT, p.attprojw(), params, p.attprojb(), rows, c, c);
            Residual.add(workers, a.res2[l], res, rows * c);
            LayerNorm.forward(workers, a.ln2[l], a.res2[l], params, p.ln2w(), p.ln2b(), a.ln2Mean[l], a.ln2Rstd[l], rows, c);
            Matmul.forward(workers, a.fch[l], 0, a.ln2[l], 0, paramsT, p.fcw(), params, p.fcb(), rows, c, 4 * c);
            Gelu.forward(workers, a.fchGelu[l], a.fch[l], rows * 4 * c);
            Matmul.forward(workers, a.res3[l], 0, a.fchGelu[l], 0, paramsT, p.fcprojw(), params, p.fcprojb(), rows, 4 * c, c);
            Residual.add(workers, a.res3[l], a.res2[l], rows * c);
        }
        float[] last = a.input(shape.layers());
        LayerNorm.forward(workers, a.lnf, last, params, layout.lnfw(), layout.lnfb(), a.lnfMean, a.lnfRstd, rows, c);
        Matmul.forward(workers, a.logits, 0, a.lnf, 0, paramsT, layout.wte(), null, -1, rows, c, shape.vocabSize());
        return a;
    }

    /** Gradients of the last training {@link #forward}'s mean loss into {@link #grads()} (overwritten). */
    public void backward() {
        if (lastTokens == null) throw new IllegalStateException("backward() needs a training forward() first");
        Activations a = acts;
        int c = shape.dModel();
        int v = shape.vocabSize();
        int rows = a.rows;
        float[] g = grads;
        Arrays.fill(g, 0f);
        Arrays.fill(a.dRes, 0f);
        float[] last = a.input(shape.layers());
        Matmul.backwardWeight(workers, g, layout.wte(), a.logits, 0, a.lnf, 0, rows, c, v);
        Matmul.backwardInput(workers, a.dLn, 0, a.logits, 0, params, layout.wte(), rows, c, v);
        LayerNorm.backward(workers, a.dRes, a.dLn, last, params, layout.lnfw(), a.lnfMean, a.lnfRstd, g,
                layout.lnfw(), layout.lnfb(), rows, c);
        for (int l = shape.layers() - 1; l >= 0; l--) {
            ParameterTensors.Layer p = layout.layer(l);
            // MLP block: dRes is the gradient at res3[l].
            Matmul.backwardWeight(workers, g, p.fcprojw(), a.dRes, 0, a.fchGelu[l], 0, rows, 4 * c, c);
            Matmul.backwardBias(workers, g, p.fcprojb(), a.dRes, 0, rows, c);
            Matmul.backwardInput(workers, a.dHidden, 0, a.dRes, 0, params, p.fcprojw(), rows, 4 * c, c);
            Gelu.backward(workers, a.dHidden, a.fch[l], a.dHidden, rows * 4 * c);
            Matmul.backwardWeight(workers, g, p.fcw(), a.dHidden, 0, a.ln2[l], 0, rows, c, 4 * c);
            Matmul.backwardBias(workers, g, p.fcb(), a.dHidden, 0, rows, 4 * c);
            Matmul.backwardInput(workers, a.dLn, 0, a.dHidden, 0, params, p.fcw(), rows, c, 4 * c);
            LayerNorm.backward(workers, a.dRes, a.dLn, a.res2[l], params, p.ln2w(), a.ln2Mean[l], a.ln2Rstd[l], g,
                    p.ln2w(), p.ln2b(), rows, c);
            // Attention block: dRes is now the gradient at res2[l].
            Matmul.backwardWeight(workers, g, p.attprojw(), a.dRes, 0, a.atty[l], 0, rows, c, c);
            Matmul.backwardBias(workers, g, p.attprojb(), a.dRes, 0, rows, c);
            Matmul.backwardInput(workers, a.dAtty, 0, a.dRes, 0, params, p.attprojw(), rows, c, c);
            a.attention.backward(workers, a.dQkv, a.dAtty, a.att[l], a.qkv[l]);
            Matmul.backwardWeight(workers, g, p.qkvw(), a.dQkv, 0, a.ln1[l], 0, rows, c, 3 * c);
            Matmul.backwardBias(workers, g, p.qkvb(), a.dQkv, 0, rows, 3 * c);
            Matmul.backwardInput(workers, a.dLn, 0, a.dQkv, 0, params, p.qkvw(), rows, c, 3 * c);
            LayerNorm.backward(workers, a.dRes, a.dLn, a.input(l), params, p.ln1w(), a.ln1Mean[l], a.ln1Rstd[l], g,
                    p.ln1w(), p.ln1b(), rows, c);
        }
        Embedding.backward(workers, g, layout.wte(), layout.wpe(), a.dRes, lastTokens, a.batch, a.seqLen, v, c);
        lastTokens = null;
    }

    private void checkTokens(int[] tokens, int batch, int seqLen) {
        if (seqLen > shape.contextLength()) {
            throw new IllegalArgumentException("sequence length " + seqLen + " is longer than the model's context of "
                    + shape.contextLength() + " tokens");
        }
        if (tokens.length < batch * (seqLen + 1)) {
            throw new IllegalArgumentException("a batch of " + batch + " rows of " + (seqLen + 1) + " tokens needs "
                    + batch * (seqLen + 1) + " tokens, not " + tokens.length);
        }
        int v = shape.vocabSize();
        for (int i = 0; i < batch * (seqLen + 1); i++) {
            if (tokens[i] < 0 || tokens[i] >= v) {
                throw new IllegalArgumentException("token " + tokens[i] + " (row " + i / (seqLen + 1) + ", position "
                        + i % (seqLen + 1) + ") is outside the model's vocabulary of " + v);
            }
        }
    }

    @Override
    public void close() {
        workers.close();
    }
}
