package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Token plus learned position embedding: {@code out[b,t] = wte[token] + wpe[t]}. In the backward
 * the position gradient is owned by position (threads split positions, sequences are summed in
 * order) and the token gradient by token id (each thread scans all positions in order and adds
 * only the rows of its own ids), so no two threads add into the same row.
 */
final class Embedding {
    private Embedding() {}

    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    static void forward(Workers w, float[] out, int[] tokens, int batch, int seqLen, float[] p, int wte, int wpe, int c) {
        w.run(batch * seqLen, 1, (worker, from, to) -> {
            for (int r = from; r < to; r++) {
                int t = r % seqLen;
                int e = wte + tokens[(r / seqLen) * (seqLen + 1) + t] * c;
                int q = wpe + t * c;
                int o = r * c;
                int i = 0;
                for (; i + L <= c; i += L) {
                    FloatVector.fromArray(S, p, e + i).add(FloatVector.fromArray(S, p, q + i)).intoArray(out, o + i);
                }
                for (; i < c; i++) out[o + i] = p[e + i] + p[q + i];
            }
        });
    }

    /** One token at one position, the decoder's step: {@code out[0, C) = wte[token] + wpe[position]}. */
    static void forwardOne(float[] out, int token, int position, float[] p, int wte, int wpe, int c) {
        int e = wte + token * c;
        int q = wpe + position * c;
        int i = 0;
        for (; i + L <= c; i += L) FloatVector.fromArray(S, p, e + i).add(FloatVector.fromArray(S, p, q + i)).intoArray(out, i);
        for (; i < c; i++) out[i] = p[e + i] + p[q + i];
    }

    /** Adds {@code dOut[rows, C]} into the gradients of wte (at {@code g[wte..]}) and wpe. */
    static void backward(Workers w, float[] g, int wte, int wpe, float[] dOut, int[] tokens, int batch, int seqLen,
                         int vocab, int c) {
        w.run(seqLen, 1, (worker, from, to) -> {
            for (int t = from; t < to; t++) {
                for (int b = 0; b < batch; b++) addRow(g, wpe + t * c, dOut, (b * seqLen + t) * c, c);
            }
        });
        w.run(vocab, 1, (worker, from, to) -> {
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < seqLen; t++) {
                    int token = tokens[b * (seqLen + 1) + t];
                    if (token >= from && token < to) addRow(g, wte + token * c, dOut, (b * seqLen + t) * c, c);
                }
            }
        });
    }

    private static void addRow(float[] dst, int d, float[] src, int s, int c) {
        int i = 0;
        for (; i + L <= c; i += L) {
            FloatVector.fromArray(S, dst, d + i).add(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        for (; i < c; i++) dst[d + i] += src[s + i];
    }
}
