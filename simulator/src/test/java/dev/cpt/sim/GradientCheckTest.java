package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The analytic float gradients of every parameter tensor against central differences of an
 * independent double-precision forward ({@link ReferenceGpt}).
 */
class GradientCheckTest {

    @ParameterizedTest(name = "layers {0}, d {1}, heads {2}, ctx {3}, vocab {4}, batch {5}x{6}, threads {7}")
    @CsvSource({
        "2, 16, 2, 8, 32, 2, 8, 1",   // toy-xs's structure, tiny: head size 8 < one vector
        "2, 20, 4, 12, 40, 3, 11, 2", // odd sizes: every scalar tail, T < context, 2 threads
        "1, 32, 2, 40, 24, 2, 37, 2", // T 37: whole, masked and scalar softmax vectors; full 4x4 tiles
    })
    void everyTensorMatchesCentralDifferences(int layers, int d, int heads, int ctx, int vocab, int batch, int seqLen,
                                              int threads) {
        ModelSpec.Shape shape = new ModelSpec.Shape("gpt2", layers, d, heads, ctx, vocab);
        try (GptModel model = new GptModel(shape, 5, threads)) {
            Random rnd = new Random(42);
            randomize(model, rnd);
            int[] tokens = new int[batch * (seqLen + 1)];
            for (int i = 0; i < tokens.length; i++) tokens[i] = rnd.nextInt(vocab);

            double floatLoss = model.forward(tokens, batch, seqLen, true);
            model.backward();
            float[] grads = model.grads().clone();

            ReferenceGpt ref = new ReferenceGpt(model.layout());
            double[] p = new double[model.params().length];
            for (int i = 0; i < p.length; i++) p[i] = model.params()[i];
            double refLoss = ref.loss(p, tokens, batch, seqLen);
            // The float forward against the double one: float32 rounding only (ε ≈ 6e-8 per operation).
            assertThat(floatLoss).isCloseTo(refLoss, org.assertj.core.api.Assertions.within(2e-5));

            List<String> failures = new ArrayList<>();
            double worst = 0;
            for (ParameterTensors.Tensor t : model.layout().tensors()) {
                double scale = 0;
                for (int i = 0; i < t.size(); i++) scale = Math.max(scale, Math.abs(grads[t.offset() + i]));
                for (int k = 0; k < 16; k++) {
                    int i = t.offset() + (k == 0 ? 0 : k == 1 ? t.size() - 1 : rnd.nextInt(t.size()));
                    double saved = p[i];
                    // h = 1e-4 in double: truncation error O(h²·f''') ≈ 1e-8 and rounding error
                    // ε_double·|loss|/h ≈ 1e-12, both far below the float32 gradient's own error.
                    double h = 1e-4;
                    p[i] = saved + h;
                    double up = ref.loss(p, tokens, batch, seqLen);
                    p[i] = saved - h;
                    double down = ref.loss(p, tokens, batch, seqLen);
                    p[i] = saved;
                    double numeric = (up - down) / (2 * h);
                    double analytic = grads[i];
                    // Tolerance: the float32 backward's rounding error is relative to the magnitudes
                    // it sums, which the tensor's largest gradient bounds, not to the element (a small
                    // element can be a difference of large terms). Observed: ≤ ~1e-6 of that scale.
                    // 1e-4 of it (plus 1e-4 relative) leaves ~100× headroom for other summation
                    // orders, yet any wrong term in a formula shows up at the gradient's own size.
                    double err = Math.abs(analytic - numeric);
                    double tol = 1e-4 * Math.abs(numeric) + 1e-4 * scale + 1e-9;
                    worst = Math.max(worst, err / (Math.abs(numeric) + scale + 1e-12));
                    if (err > tol) {
                        failures.add(t.name() + "[" + (i - t.offset()) + "]: analytic " + analytic + ", numeric " + numeric);
                    }
                }
            }
            System.out.printf("gradient check %s: worst relative error %.3g%n", shape, worst);
            assertThat(failures).isEmpty();
        }
    }

    /** Moves every parameter off its init (LN weights off 1, biases off 0) so no term of a gradient can hide. */
    static void randomize(GptModel model, Random rnd) {
        float[] p = model.params();
        for (ParameterTensors.Tensor t : model.layout().tensors()) {
            boolean lnWeight = t.name().contains("ln_") && t.name().endsWith(".weight");
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                p[i] = (float) ((lnWeight ? 1 : 0) + 0.3 * rnd.nextGaussian());
            }
        }
        model.parametersChanged();
    }
}
