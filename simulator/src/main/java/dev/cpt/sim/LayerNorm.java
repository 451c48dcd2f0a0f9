package dev.cpt.sim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * LayerNorm over the last dimension ({@code y = (x − mean)·rstd·w + b}, biased variance, eps 1e-5
 * like torch). The forward keeps each row's mean and 1/std for the backward. Threads own rows; the
 * parameter gradients, which sum over rows, are a second pass in which threads own columns, so
 * every sum runs over the rows in order on one thread.
 */
final class LayerNorm {
    private LayerNorm() {}

    static final float EPS = 1e-5f;
    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    static void forward(Workers w, float[] out, float[] in, float[] p, int weightOff, int biasOff, float[] mean,
                        float[] rstd, int rows, int c) {
        int bound = S.loopBound(c);
        w.run(rows, 1, (worker, from, to) -> {
            for (int r = from; r < to; r++) {
                int x = r * c;
                float m = VectorMath.sum(in, x, x + c) / c;
                FloatVector mv = FloatVector.broadcast(S, m);
                FloatVector acc = FloatVector.zero(S);
                int i = 0;
                for (; i < bound; i += L) {
                    FloatVector d = FloatVector.fromArray(S, in, x + i).sub(mv);
                    acc = d.fma(d, acc);
                }
                for (int h = L / 2; h >= 1; h /= 2) acc = acc.add(acc.slice(h)); // a fixed tree, see VectorMath
                float var = acc.lane(0);
                for (; i < c; i++) {
                    float d = in[x + i] - m;
                    var = Math.fma(d, d, var);
                }
                float s = (float) (1.0 / Math.sqrt(var / c + EPS));
                mean[r] = m;
                rstd[r] = s;
                FloatVector sv = FloatVector.broadcast(S, s);
                for (i = 0; i < bound; i += L) {
                    FloatVector n = FloatVector.fromArray(S, in, x + i).sub(mv).mul(sv);
                    n.fma(FloatVector.fromArray(S, p, weightOff + i), FloatVector.fromArray(S, p, biasOff + i))
                            .intoArray(out, x + i);
                }
                for (; i < c; i++) out[x + i] = Math.fma((in[x + i] - m) * s, p[weightOff + i], p[biasOff + i]);
            }
        });
    }

    /**
     * Adds the input gradient into {@code dIn} and the weight and bias gradients into
     * {@code g[dWeightOff..]} and {@code g[dBiasOff..]}.
     */
    static void backward(Workers w, float[] dIn, float[] dOut, float[] in, float[] p, int weightOff, float[] mean,
                         float[] rstd, float[] g, int dWeightOff, int dBiasOff, int rows, int c) {
        int bound = S.loopBound(c);
        w.run(rows, 1, (worker, from, to) -> {
            for (int r = from; r < to; r++) {
                int x = r * c;
                FloatVector mv = FloatVector.broadcast(S, mean[r]);
                FloatVector sv = FloatVector.broadcast(S, rstd[r]);
                FloatVector sumD = FloatVector.zero(S);
                FloatVector sumDn = FloatVector.zero(S);
                int i = 0;
                for (; i < bound; i += L) {
                    FloatVector n = FloatVector.fromArray(S, in, x + i).sub(mv).mul(sv);
                    FloatVector d = FloatVector.fromArray(S, dOut, x + i).mul(FloatVector.fromArray(S, p, weightOff + i));
                    sumD = sumD.add(d);
                    sumDn = d.fma(n, sumDn);
                }
                for (int h = L / 2; h >= 1; h /= 2) { // fixed trees, see VectorMath
                    sumD = sumD.add(sumD.slice(h));
                    sumDn = sumDn.add(sumDn.slice(h));
                }
                float dMean = sumD.lane(0);
                float dnMean = sumDn.lane(0);
                for (; i < c; i++) {
                    float n = (in[x + i] - mean[r]) * rstd[r];
                    float d = dOut[x + i] * p[weightOff + i];
                    dMean += d;
                    dnMean = Math.fma(d, n, dnMean);
                }
                dMean /= c;
                dnMean /= c;
                FloatVector dm = FloatVector.broadcast(S, dMean);
                FloatVector dnm = FloatVector.broadcast(S, dnMean);
                for (i = 0; i < bound; i += L) {
                    FloatVector n = FloatVector.fromArray(S, in, x + i).sub(mv).mul(sv);
                    FloatVector d = FloatVector.fromArray(S, dOut, x + i).mul(FloatVector.fromArray(S, p, weightOff + i));
                    FloatVector di = d.sub(dm).sub(n.mul(dnm)).mul(sv);
                    FloatVector.fromArray(S, dIn, x + i).add(di).intoArray(dIn, x + i);
                }
                for (; i < c; i++) {
                    float n = (in[x + i] - mean[r]) * rstd[r];
                    float d = dOut[x + i] * p[weightOff + i];
                    dIn[x + i] += (d - dMean - n * dnMean) * rstd[r];
                }
            }
        });
        w.run(c, L, (worker, from, to) -> {
            int i = from;
            // Two vectors of columns at a time: four independent sums per row.
            for (; i + 2 * L <= to; i += 2 * L) {
                FloatVector dw0 = FloatVector.fromArray(S, g, dWeightOff + i);
                FloatVector dw1 = FloatVector.fromArray(S, g, dWeightOff + i + L);
                FloatVector db0 = FloatVector.fromArray(S, g, dBiasOff + i);
                FloatVector db1 = FloatVector.fromArray(S, g, dBiasOff + i + L);
                for (int r = 0; r < rows; r++) {
                    int x = r * c + i;
                    FloatVector m = FloatVector.broadcast(S, mean[r]);
                    FloatVector s = FloatVector.broadcast(S, rstd[r]);
                    FloatVector d0 = FloatVector.fromArray(S, dOut, x);
                    FloatVector d1 = FloatVector.fromArray(S, dOut, x + L);
                    dw0 = d0.fma(FloatVector.fromArray(S, in, x).sub(m).mul(s), dw0);
                    dw1 = d1.fma(FloatVector.fromArray(S, in, x + L).sub(m).mul(s), dw1);
                    db0 = db0.add(d0);
                    db1 = db1.add(d1);
                }
                dw0.intoArray(g, dWeightOff + i);
                dw1.intoArray(g, dWeightOff + i + L);
                db0.intoArray(g, dBiasOff + i);
                db1.intoArray(g, dBiasOff + i + L);
            }
            for (; i + L <= to; i += L) {
                FloatVector dw = FloatVector.fromArray(S, g, dWeightOff + i);
                FloatVector db = FloatVector.fromArray(S, g, dBiasOff + i);
                for (int r = 0; r < rows; r++) {
                    int x = r * c + i;
                    FloatVector n = FloatVector.fromArray(S, in, x).sub(mean[r]).mul(rstd[r]);
                    FloatVector d = FloatVector.fromArray(S, dOut, x);
                    dw = d.fma(n, dw);
                    db = db.add(d);
                }
                dw.intoArray(g, dWeightOff + i);
                db.intoArray(g, dBiasOff + i);
            }
            for (; i < to; i++) {
                float dw = g[dWeightOff + i];
                float db = g[dBiasOff + i];
                for (int r = 0; r < rows; r++) {
                    int x = r * c + i;
                    float n = (in[x] - mean[r]) * rstd[r];
                    dw = Math.fma(dOut[x], n, dw);
                    db += dOut[x];
                }
                g[dWeightOff + i] = dw;
                g[dBiasOff + i] = db;
            }
        });
    }
}
