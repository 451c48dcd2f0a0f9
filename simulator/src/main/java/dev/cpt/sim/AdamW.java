package dev.cpt.sim;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected moments):
 * <pre>
 *   p ← p·(1 − lr·wd)                       (decayed tensors only: wte, wpe, linear weights)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 * </pre>
 * with {@code g} the gradient times the clipping factor. Biases and LayerNorm parameters are never
 * decayed (the usual GPT-2 parameter groups). The update is elementwise; threads own ranges.
 */
public final class AdamW {
    private static final int GRAIN = 1 << 14;
    private static final VectorSpecies<Float> S = Matmul.S;
    private static final int L = S.length();

    private final ParameterTensors layout;
    private final float beta1;
    private final float beta2;
    /** The betas as given, for the bias corrections (torch computes those in double too). */
    private final double beta1d;
    private final double beta2d;
    private final float eps;
    private final float[] m;
    private final float[] v;
    private long step;

    public AdamW(ParameterTensors layout, double beta1, double beta2, double eps) {
        this.layout = layout;
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.beta1d = beta1;
        this.beta2d = beta2;
        this.eps = (float) eps;
        this.m = new float[layout.size()];
        this.v = new float[layout.size()];
    }

    /**
     * One update of {@code params} from {@code grads}·{@code gradScale} (the clipping factor, 1 for
     * none) at learning rate {@code lr} and weight decay {@code wd}.
     */
    public void update(Workers w, float[] params, float[] grads, float gradScale, double lr, double wd) {
        step++;
        double bc1 = 1 - Math.pow(beta1d, step);
        double bc2 = 1 - Math.pow(beta2d, step);
        float stepSize = (float) -(lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = (float) (1 - lr * wd);
        float b1 = beta1;
        float b2 = beta2;
        float a1 = (float) (1 - beta1d);
        float a2 = (float) (1 - beta2d);
        List<ParameterTensors.Tensor> tensors = layout.tensors();
        w.run(layout.size(), GRAIN, (worker, from, to) -> {
            for (ParameterTensors.Tensor t : tensors) {
                int lo = Math.max(from, t.offset());
                int hi = Math.min(to, t.offset() + t.size());
                if (lo >= hi) continue;
                float f = t.decayed() ? decay : 1f;
                int i = lo;
                // The vector and the scalar loop do the same operations in the same order.
                for (; i + L <= hi; i += L) {
                    FloatVector g = FloatVector.fromArray(S, grads, i).mul(gradScale);
                    FloatVector mi = FloatVector.fromArray(S, m, i).mul(b1).add(g.mul(a1));
                    FloatVector vi = FloatVector.fromArray(S, v, i).mul(b2).add(g.mul(a2).mul(g));
                    mi.intoArray(m, i);
                    vi.intoArray(v, i);
                    FloatVector denom = vi.sqrt().div(bc2Sqrt).add(eps);
                    FloatVector.fromArray(S, params, i).mul(f).add(mi.mul(stepSize).div(denom)).intoArray(params, i);
                }
                for (; i < hi; i++) {
                    float g = grads[i] * gradScale;
                    float mi = m[i] * b1 + g * a1;
                    float vi = v[i] * b2 + g * a2 * g;
                    m[i] = mi;
                    v[i] = vi;
                    float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                    params[i] = params[i] * f + mi * stepSize / denom;
                }
            }
        });
    }

    /** Forgets the moments and the step count (bias correction starts over). */
    public void reset() {
        java.util.Arrays.fill(m, 0f);
        java.util.Arrays.fill(v, 0f);
        step = 0;
    }

    public long step() {
        return step;
    }

    /** First moments, in the parameters' layout; for save and load. */
    float[] firstMoment() {
        return m;
    }

    float[] secondMoment() {
        return v;
    }

    void restore(long step) {
        if (step < 0) throw new IllegalArgumentException("negative optimizer step " + step);
        this.step = step;
    }
}
