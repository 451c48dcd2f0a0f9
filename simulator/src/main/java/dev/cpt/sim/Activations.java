package dev.cpt.sim;

import dev.cpt.spec.ModelSpec;

/**
 * Every buffer one training step touches, for one batch shape ({@code batch × seqLen}), allocated
 * once: the forward's saved activations per layer, the logits (overwritten by their gradient), and
 * the backward's few scratch buffers, which are reused by every layer.
 */
final class Activations {
    final int batch;
    final int seqLen;
    final int rows;

    /** Token + position embeddings: the residual stream entering layer 0. */
    final float[] encoded;
    final float[][] ln1;
    final float[][] ln1Mean;
    final float[][] ln1Rstd;
    final float[][] qkv;
    /** Attention output per head, concatenated, before the output projection. */
    final float[][] atty;
    /** Softmax probabilities [batch, heads, T, T]. */
    final float[][] att;
    /** Residual stream after the attention block. */
    final float[][] res2;
    final float[][] ln2;
    final float[][] ln2Mean;
    final float[][] ln2Rstd;
    /** MLP hidden pre-activation and its GELU. */
    final float[][] fch;
    final float[][] fchGelu;
    /** Residual stream after the MLP block: the next layer's input. */
    final float[][] res3;
    final float[] lnf;
    final float[] lnfMean;
    final float[] lnfRstd;
    /** Logits [rows, vocab]; after a training forward, dLoss/dLogits. */
    final float[] logits;
    final float[] losses;

    /** Gradient of the residual stream, carried down through the layers. */
    final float[] dRes;
    /** Gradient of a LayerNorm's output. */
    final float[] dLn;
    final float[] dAtty;
    final float[] dQkv;
    /** Gradient of the MLP hidden layer (after, then before, the GELU, in place). */
    final float[] dHidden;

    final Attention attention;

    Activations(ModelSpec.Shape shape, int batch, int seqLen, int threads) {
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = Math.multiplyExact(batch, seqLen);
        int c = shape.dModel();
        int layers = shape.layers();
        int rc = Math.multiplyExact(rows, c);
        int attSize = Math.multiplyExact(Math.multiplyExact(batch * shape.heads(), seqLen), seqLen);
        encoded = new float[rc];
        ln1 = new float[layers][rc];
        ln1Mean = new float[layers][rows];
        ln1Rstd = new float[layers][rows];
        qkv = new float[layers][Math.multiplyExact(3, rc)];
        atty = new float[layers][rc];
        att = new float[layers][attSize];
        res2 = new float[layers][rc];
        ln2 = new float[layers][rc];
        ln2Mean = new float[layers][rows];
        ln2Rstd = new float[layers][rows];
        fch = new float[layers][Math.multiplyExact(4, rc)];
        fchGelu = new float[layers][4 * rc];
        res3 = new float[layers][rc];
        lnf = new float[rc];
        lnfMean = new float[rows];
        lnfRstd = new float[rows];
        logits = new float[Math.multiplyExact(rows, shape.vocabSize())];
        losses = new float[rows];
        dRes = new float[rc];
        dLn = new float[rc];
        dAtty = new float[rc];
        dQkv = new float[3 * rc];
        dHidden = new float[4 * rc];
        attention = new Attention(threads, batch, seqLen, shape.heads(), c);
    }

    boolean fits(int batch, int seqLen, int threads) {
        return this.batch == batch && this.seqLen == seqLen && attention.threads() >= threads;
    }

    /** The residual stream entering layer {@code l}. */
    float[] input(int l) {
        return l == 0 ? encoded : res3[l - 1];
    }
}
