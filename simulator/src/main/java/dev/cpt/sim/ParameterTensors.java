package dev.cpt.sim;

import dev.cpt.spec.ModelSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where each parameter tensor of a {@code gpt2} model lives in one flat float array. Parameters,
 * gradients, AdamW's two moments and the transposed weight copies all use this one layout, so the
 * optimizer and the gradient norm run over a single array and save/load walks one list.
 *
 * <p>Names are Hugging Face GPT-2's ({@code h.0.attn.c_attn.weight}), but every linear weight is
 * stored <b>[out, in]</b>, torch {@code nn.Linear}'s layout, not HF GPT-2's Conv1D [in, out]: a
 * torch model loads these tensors into {@code nn.Linear} layers as they are (see {@link SafeTensors}).
 */
public final class ParameterTensors {

    /** How a tensor starts: GPT-2's init. */
    public enum Init { NORMAL, RESIDUAL_PROJECTION, ZERO, ONE }

    /**
     * One named tensor; {@code decayed} marks the matrices and embeddings that AdamW's weight decay
     * applies to (never biases or LayerNorm parameters).
     */
    public record Tensor(String name, int[] shape, int offset, int size, boolean decayed, Init init) {
        public int rows() {
            return shape[0];
        }

        public int cols() {
            return shape.length > 1 ? shape[1] : 1;
        }
    }

    /** Offsets of one transformer block's tensors. */
    public record Layer(int ln1w, int ln1b, int qkvw, int qkvb, int attprojw, int attprojb,
                        int ln2w, int ln2b, int fcw, int fcb, int fcprojw, int fcprojb) {}

    private final ModelSpec.Shape shape;
    private final List<Tensor> tensors;
    private final Layer[] layers;
    private final int wte;
    private final int wpe;
    private final int lnfw;
    private final int lnfb;
    private final int size;

    public ParameterTensors(ModelSpec.Shape shape) {
        if (!"gpt2".equals(shape.arch())) {
            throw new IllegalArgumentException("the simulator implements the gpt2 architecture only, not \"" + shape.arch()
                    + "\"; train " + shape.arch() + " models with the torch engine");
        }
        if (shape.dModel() % shape.heads() != 0) {
            throw new IllegalArgumentException("dModel " + shape.dModel() + " is not divisible by heads " + shape.heads());
        }
        this.shape = shape;
        int c = shape.dModel();
        List<Tensor> list = new ArrayList<>();
        int[] next = {0};
        wte = add(list, next, "wte.weight", Init.NORMAL, true, shape.vocabSize(), c);
        wpe = add(list, next, "wpe.weight", Init.NORMAL, true, shape.contextLength(), c);
        layers = new Layer[shape.layers()];
        for (int l = 0; l < shape.layers(); l++) {
            String p = "h." + l + ".";
            layers[l] = new Layer(
                    add(list, next, p + "ln_1.weight", Init.ONE, false, c),
                    add(list, next, p + "ln_1.bias", Init.ZERO, false, c),
                    add(list, next, p + "attn.c_attn.weight", Init.NORMAL, true, 3 * c, c),
                    add(list, next, p + "attn.c_attn.bias", Init.ZERO, false, 3 * c),
                    add(list, next, p + "attn.c_proj.weight", Init.RESIDUAL_PROJECTION, true, c, c),
                    add(list, next, p + "attn.c_proj.bias", Init.ZERO, false, c),
                    add(list, next, p + "ln_2.weight", Init.ONE, false, c),
                    add(list, next, p + "ln_2.bias", Init.ZERO, false, c),
                    add(list, next, p + "mlp.c_fc.weight", Init.NORMAL, true, 4 * c, c),
                    add(list, next, p + "mlp.c_fc.bias", Init.ZERO, false, 4 * c),
                    add(list, next, p + "mlp.c_proj.weight", Init.RESIDUAL_PROJECTION, true, c, 4 * c),
                    add(list, next, p + "mlp.c_proj.bias", Init.ZERO, false, c));
        }
        lnfw = add(list, next, "ln_f.weight", Init.ONE, false, c);
        lnfb = add(list, next, "ln_f.bias", Init.ZERO, false, c);
        tensors = Collections.unmodifiableList(list);
        size = next[0];
    }

    private static int add(List<Tensor> list, int[] next, String name, Init init, boolean decayed, int... dims) {
        long n = 1;
        for (int d : dims) n *= d;
        if (next[0] + n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("the model is too large for the simulator (over 2^31 parameters)");
        }
        int offset = next[0];
        list.add(new Tensor(name, dims.clone(), offset, (int) n, decayed, init));
        next[0] += (int) n;
        return offset;
    }

    public ModelSpec.Shape shape() {
        return shape;
    }

    /** In file order: wte, wpe, each block's tensors, ln_f. */
    public List<Tensor> tensors() {
        return tensors;
    }

    public Tensor tensor(String name) {
        for (Tensor t : tensors) if (t.name().equals(name)) return t;
        throw new IllegalArgumentException("no tensor " + name);
    }

    /** Total number of parameters (the tied LM head is wte and counted once). */
    public int size() {
        return size;
    }

    public int wte() {
        return wte;
    }

    public int wpe() {
        return wpe;
    }

    public Layer layer(int l) {
        return layers[l];
    }

    public int lnfw() {
        return lnfw;
    }

    public int lnfb() {
        return lnfb;
    }
}
