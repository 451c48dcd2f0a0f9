package dev.cpt.sim;

import dev.cpt.spec.ModelSpec;

/**
 * The same gpt2 forward as {@link GptModel}, written again the plainest way — scalar loops in
 * double precision, no shared code — as the finite-difference oracle for the gradient check and an
 * independent check of the forward itself.
 */
final class ReferenceGpt {
    private final ParameterTensors layout;
    private final ModelSpec.Shape s;

    ReferenceGpt(ParameterTensors layout) {
        this.layout = layout;
        this.s = layout.shape();
    }

    /** Mean next-token cross-entropy of {@code batch} rows of {@code seqLen + 1} tokens. */
    double loss(double[] p, int[] tokens, int batch, int seqLen) {
        int c = s.dModel();
        double total = 0;
        for (int b = 0; b < batch; b++) {
            double[][] x = new double[seqLen][c];
            for (int t = 0; t < seqLen; t++) {
                int tok = tokens[b * (seqLen + 1) + t];
                for (int i = 0; i < c; i++) x[t][i] = p[layout.wte() + tok * c + i] + p[layout.wpe() + t * c + i];
            }
            for (int l = 0; l < s.layers(); l++) {
                ParameterTensors.Layer q = layout.layer(l);
                double[][] h = layerNorm(x, p, q.ln1w(), q.ln1b());
                double[][] qkv = linear(h, p, q.qkvw(), q.qkvb(), c, 3 * c);
                double[][] y = attention(qkv, seqLen);
                add(x, linear(y, p, q.attprojw(), q.attprojb(), c, c));
                double[][] h2 = layerNorm(x, p, q.ln2w(), q.ln2b());
                double[][] f = linear(h2, p, q.fcw(), q.fcb(), c, 4 * c);
                for (double[] row : f) for (int i = 0; i < row.length; i++) row[i] = gelu(row[i]);
                add(x, linear(f, p, q.fcprojw(), q.fcprojb(), 4 * c, c));
            }
            double[][] h = layerNorm(x, p, layout.lnfw(), layout.lnfb());
            for (int t = 0; t < seqLen; t++) {
                double[] logits = new double[s.vocabSize()];
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < logits.length; v++) {
                    double z = 0;
                    for (int i = 0; i < c; i++) z += h[t][i] * p[layout.wte() + v * c + i];
                    logits[v] = z;
                    max = Math.max(max, z);
                }
                double sum = 0;
                for (double z : logits) sum += Math.exp(z - max);
                int target = tokens[b * (seqLen + 1) + t + 1];
                total += Math.log(sum) + max - logits[target];
            }
        }
        return total / (batch * seqLen);
    }

    private double[][] layerNorm(double[][] x, double[] p, int w, int bias) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            int c = x[t].length;
            double mean = 0;
            for (double v : x[t]) mean += v;
            mean /= c;
            double var = 0;
            for (double v : x[t]) var += (v - mean) * (v - mean);
            var /= c;
            double rstd = 1 / Math.sqrt(var + 1e-5);
            out[t] = new double[c];
            for (int i = 0; i < c; i++) out[t][i] = (x[t][i] - mean) * rstd * p[w + i] + p[bias + i];
        }
        return out;
    }

    /** {@code x·Wᵀ + b} with W stored [out, in]. */
    private static double[][] linear(double[][] x, double[] p, int w, int b, int in, int out) {
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < out; o++) {
                double z = p[b + o];
                for (int i = 0; i < in; i++) z += x[t][i] * p[w + o * in + i];
                y[t][o] = z;
            }
        }
        return y;
    }

    private double[][] attention(double[][] qkv, int seqLen) {
        int c = s.dModel();
        int hs = c / s.heads();
        double[][] y = new double[seqLen][c];
        for (int h = 0; h < s.heads(); h++) {
            for (int t = 0; t < seqLen; t++) {
                double[] w = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u <= t; u++) {
                    double z = 0;
                    for (int d = 0; d < hs; d++) z += qkv[t][h * hs + d] * qkv[u][c + h * hs + d];
                    w[u] = z / Math.sqrt(hs);
                    max = Math.max(max, w[u]);
                }
                double sum = 0;
                for (int u = 0; u <= t; u++) sum += w[u] = Math.exp(w[u] - max);
                for (int u = 0; u <= t; u++) {
                    for (int d = 0; d < hs; d++) y[t][h * hs + d] += w[u] / sum * qkv[u][2 * c + h * hs + d];
                }
            }
        }
        return y;
    }

    private static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    private static void add(double[][] x, double[][] d) {
        for (int t = 0; t < x.length; t++) for (int i = 0; i < x[t].length; i++) x[t][i] += d[t][i];
    }
}
