package dev.cpt.sim;

import dev.cpt.spec.ModelSpec;
import dev.cpt.train.Engine;

/**
 * The simulator's incremental decoder: {@link GptModel}'s forward for one new token at a time,
 * each layer's attention reading the keys and values of earlier positions from a {@link KvCache}
 * instead of recomputing them. The layers are the forward's own (LayerNorm, the linear layers on
 * one row through {@link MatVec}, GELU, the residual adds), so a position's logits are the full
 * forward's up to the softmax sums' rounding. It reads the model's current weights; they must not
 * change while it is in use.
 */
final class SimDecoder implements Engine.Decoder {
    private final GptModel model;
    private final ModelSpec.Shape shape;
    private final KvCache cache;
    private final float[] x;
    private final float[] ln;
    private final float[] qkv;
    private final float[] atty;
    private final float[] proj;
    private final float[] fch;
    private final float[] fchGelu;
    private final float[] logits;
    private final float[] mean = new float[1];
    private final float[] rstd = new float[1];
    private int length;

    SimDecoder(GptModel model) {
        this.model = model;
        this.shape = model.shape();
        int c = shape.dModel();
        this.cache = new KvCache(shape.layers(), shape.contextLength(), c, shape.heads());
        this.x = new float[c];
        this.ln = new float[c];
        this.qkv = new float[3 * c];
        this.atty = new float[c];
        this.proj = new float[c];
        this.fch = new float[4 * c];
        this.fchGelu = new float[4 * c];
        this.logits = new float[shape.vocabSize()];
    }

    @Override
    public int contextLength() {
        return shape.contextLength();
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public float[] append(int token) {
        Engine.Decoder.checkAppend(length, shape.contextLength(), shape.vocabSize(), token);
        Workers w = model.workers();
        float[] p = model.params();
        float[] pT = model.paramsT();
        ParameterTensors layout = model.layout();
        int c = shape.dModel();
        int t = length;
        Embedding.forwardOne(x, token, t, p, layout.wte(), layout.wpe(), c);
        for (int l = 0; l < shape.layers(); l++) {
            ParameterTensors.Layer q = layout.layer(l);
            LayerNorm.forward(w, ln, x, p, q.ln1w(), q.ln1b(), mean, rstd, 1, c);
            MatVec.forward(w, qkv, ln, pT, q.qkvw(), p, q.qkvb(), c, 3 * c);
            cache.store(l, t, qkv);
            CachedAttention.forward(w, atty, qkv, cache, l, t + 1);
            MatVec.forward(w, proj, atty, pT, q.attprojw(), p, q.attprojb(), c, c);
            Residual.add(w, x, proj, c);
            LayerNorm.forward(w, ln, x, p, q.ln2w(), q.ln2b(), mean, rstd, 1, c);
            MatVec.forward(w, fch, ln, pT, q.fcw(), p, q.fcb(), c, 4 * c);
            Gelu.forward(w, fchGelu, fch, 4 * c);
            MatVec.forward(w, proj, fchGelu, pT, q.fcprojw(), p, q.fcprojb(), 4 * c, c);
            Residual.add(w, x, proj, c);
        }
        LayerNorm.forward(w, ln, x, p, layout.lnfw(), layout.lnfb(), mean, rstd, 1, c);
        MatVec.forward(w, logits, ln, pT, layout.wte(), null, -1, c, shape.vocabSize());
        length++;
        return logits;
    }
}
