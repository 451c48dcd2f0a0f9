package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.data.Batch;
import dev.cpt.generate.Generation;
import dev.cpt.generate.TokenSampler;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import dev.cpt.train.Engine;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link SimDecoder}, the KV-cached forward of one token at a time: its logits are the full
 * forward's at every position, greedy generation is the argmax of full forwards over the growing
 * sequence, a seed fixes a sampled continuation, and the thread count changes no bit.
 */
class SimDecoderTest {
    /** Head size 8 (not a whole vector on AVX-512), context 24 (not a multiple of 16): the kernels' tails run. */
    static final ModelSpec.Shape SHAPE = new ModelSpec.Shape("gpt2", 2, 32, 4, 24, 48);

    /** An engine trained a few steps on one sequence, so its predictions are far from uniform. */
    static SimEngine trained(int threads) {
        SimEngine engine = new SimEngine(SHAPE, OptimizerSpec.DEFAULT, 3, SHAPE.contextLength(), threads);
        Batch b = new Batch(2, SHAPE.contextLength());
        Random rnd = new Random(5);
        for (int i = 0; i < b.tokens().length; i++) b.tokens()[i] = rnd.nextInt(SHAPE.vocabSize());
        for (int i = 0; i < 8; i++) engine.trainStep(b, 1e-2, 0.0);
        return engine;
    }

    static int[] randomTokens(long seed, int n) {
        Random rnd = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rnd.nextInt(SHAPE.vocabSize());
        return t;
    }

    @Test
    void cachedLogitsAreTheFullForwardsAtEveryPosition() {
        int[] seq = randomTokens(9, SHAPE.contextLength());
        int v = SHAPE.vocabSize();
        try (SimEngine engine = trained(2); Engine.Decoder decoder = engine.decoder()) {
            assertThat(decoder.contextLength()).isEqualTo(SHAPE.contextLength());
            double worst = 0;
            for (int t = 0; t < seq.length; t++) {
                float[] cached = decoder.append(seq[t]).clone();
                assertThat(decoder.length()).isEqualTo(t + 1);
                // The full forward over the sequence so far (no cache); its last row predicts position t + 1.
                float[] full = engine.model().logits(Arrays.copyOf(seq, t + 2), 1, t + 1);
                for (int i = 0; i < v; i++) worst = Math.max(worst, Math.abs(cached[i] - full[t * v + i]));
            }
            System.out.printf("KV-cached against full-forward logits: largest difference %.3g%n", worst);
            assertThat(worst).isLessThan(1e-5);
            assertThatThrownBy(() -> decoder.append(1)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("the context of 24 tokens is full");
        }
        try (SimEngine engine = trained(1)) {
            assertThatThrownBy(() -> engine.decoder().append(48)).hasMessageContaining("token 48 is outside the model's vocabulary of 48");
        }
    }

    @Test
    void greedyGenerationIsTheArgmaxOfFullForwardsOverTheGrowingSequence() {
        int[] prompt = randomTokens(4, 3);
        try (SimEngine engine = trained(2)) {
            Generation g = Generation.run(engine.decoder(), prompt, 100, TokenSampler.greedy(), SHAPE.vocabSize(), -1,
                    new SplittableRandom(0));
            assertThat(g.stop()).isEqualTo(Generation.Stop.CONTEXT_FULL);
            int[] all = g.sequence();
            assertThat(all).hasSize(SHAPE.contextLength() + 1);
            assertThat(Arrays.stream(g.tokens()).distinct().count()).as("distinct tokens drawn").isGreaterThan(3);
            // Token by token: a full forward over the sequence up to each drawn token says that token is the argmax.
            for (int k = prompt.length; k < all.length; k++) {
                Engine.TokenScores s = engine.scoreTokens(List.of(Arrays.copyOf(all, k + 1))).getFirst();
                assertThat(s.greedy()[k - 1]).as("token %d (%d) is the full forward's argmax", k, all[k]).isTrue();
            }
            // The same continuation when stopped early, and from a fresh decoder.
            Generation first = Generation.run(engine.decoder(), prompt, 5, TokenSampler.greedy(), SHAPE.vocabSize(), -1,
                    new SplittableRandom(0));
            assertThat(first.stop()).isEqualTo(Generation.Stop.MAX_TOKENS);
            assertThat(first.tokens()).containsExactly(Arrays.copyOf(g.tokens(), 5));
        }
    }

    @Test
    void aSeedGivesTheSameContinuationAndAnotherSeedAnother() {
        int[] prompt = randomTokens(6, 4);
        TokenSampler sampler = new TokenSampler(1.0, 20, 0.95);
        try (SimEngine engine = trained(2)) {
            int[] a = Generation.run(engine.decoder(), prompt, 16, sampler, SHAPE.vocabSize(), -1, new SplittableRandom(11)).tokens();
            int[] b = Generation.run(engine.decoder(), prompt, 16, sampler, SHAPE.vocabSize(), -1, new SplittableRandom(11)).tokens();
            int[] c = Generation.run(engine.decoder(), prompt, 16, sampler, SHAPE.vocabSize(), -1, new SplittableRandom(12)).tokens();
            assertThat(a).hasSize(16).isEqualTo(b).isNotEqualTo(c);
        }
    }

    @Test
    void aLinearLayerOnOneRowGivesTheBatchedKernelsBits() {
        Random rnd = new Random(3);
        for (int[] dims : new int[][] {{37, 101}, {64, 256}, {256, 64}, {5, 3}}) {
            int in = dims[0];
            int out = dims[1];
            float[] x = new float[in];
            float[] wT = new float[in * out];
            float[] bias = new float[out];
            for (int i = 0; i < in; i++) x[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < wT.length; i++) wT[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < out; i++) bias[i] = (float) rnd.nextGaussian();
            try (Workers w = new Workers(2)) {
                for (int biasOff : new int[] {0, -1}) {
                    float[] batched = new float[out];
                    float[] row = new float[out];
                    Matmul.forward(w, batched, 0, x, 0, wT, 0, bias, biasOff, 1, in, out);
                    MatVec.forward(w, row, x, wT, 0, bias, biasOff, in, out);
                    assertThat(row).as("%d → %d, bias %s", in, out, biasOff >= 0).isEqualTo(batched);
                }
            }
        }
    }

    @Test
    void theThreadCountChangesNoBit() {
        int[] seq = randomTokens(2, SHAPE.contextLength());
        try (SimEngine one = trained(1); SimEngine three = trained(3)) {
            assertThat(three.model().params()).isEqualTo(one.model().params());
            Engine.Decoder a = one.decoder();
            Engine.Decoder b = three.decoder();
            for (int token : seq) assertThat(b.append(token)).isEqualTo(a.append(token));
        }
    }
}
