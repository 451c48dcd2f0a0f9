package dev.cpt.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenSamplerTest {
    /** Probabilities 0.5, 0.25, 0.125, 0.125 at temperature 1, as logits. */
    static final float[] LOGITS = {(float) Math.log(0.5), (float) Math.log(0.25), (float) Math.log(0.125), (float) Math.log(0.125)};

    @Test
    void temperatureZeroIsTheFirstLargestLogit() {
        assertThat(TokenSampler.greedy().next(new float[] {1, 3, 3, 2}, 4, null)).isEqualTo(1);
        // Ids past the tokenizer's vocabulary (padding rows) are never chosen.
        assertThat(TokenSampler.greedy().next(new float[] {1, 2, 9}, 2, null)).isEqualTo(1);
    }

    @Test
    void topKKeepsTheKLargestAndRenormalises() {
        double[] p = new TokenSampler(1, 2, 1).probabilities(LOGITS, 4);
        assertThat(p[0]).isCloseTo(2 / 3.0, within(1e-6));
        assertThat(p[1]).isCloseTo(1 / 3.0, within(1e-6));
        assertThat(p[2]).isZero();
        assertThat(p[3]).isZero();
        // Ties at the k-th largest are kept, as transformers' TopKLogitsWarper keeps them.
        double[] tie = new TokenSampler(1, 3, 1).probabilities(LOGITS, 4);
        assertThat(tie[2]).isCloseTo(0.125, within(1e-6));
        assertThat(tie[3]).isCloseTo(0.125, within(1e-6));
    }

    @Test
    void topPKeepsTheSmallestSetThatReachesP() {
        double[] p = new TokenSampler(1, 0, 0.7).probabilities(LOGITS, 4);
        assertThat(p[0]).isCloseTo(2 / 3.0, within(1e-6));
        assertThat(p[1]).isCloseTo(1 / 3.0, within(1e-6));
        assertThat(p[2] + p[3]).isZero();
        // Exactly reaching p needs no more tokens: 0.5 + 0.25 = 0.75.
        double[] exact = new TokenSampler(1, 0, 0.75).probabilities(LOGITS, 4);
        assertThat(exact[2] + exact[3]).isZero();
        // A p below the top token's probability keeps the top token alone.
        assertThat(new TokenSampler(1, 0, 0.1).probabilities(LOGITS, 4)[0]).isEqualTo(1.0);
        // Top-k first, then top-p on what top-k left: {0.5, 0.25, 0.125, 0.125} → top-3 → p 0.6 of the renormalised.
        double[] both = new TokenSampler(1, 3, 0.6).probabilities(LOGITS, 4);
        assertThat(both[0]).isCloseTo(2 / 3.0, within(1e-6));
        assertThat(both[1]).isCloseTo(1 / 3.0, within(1e-6));
    }

    @Test
    void temperatureSharpensAndTheDrawFollowsTheDistribution() {
        double[] cold = new TokenSampler(0.5, 0, 1).probabilities(LOGITS, 4);
        // p^(1/T), renormalised: 0.25, 0.0625, 0.015625, 0.015625 over 0.34375.
        assertThat(cold[0]).isCloseTo(0.25 / 0.34375, within(1e-6));
        TokenSampler s = new TokenSampler(1, 0, 1);
        SplittableRandom rng = new SplittableRandom(7);
        int[] counts = new int[4];
        for (int i = 0; i < 40_000; i++) counts[s.next(LOGITS, 4, rng)]++;
        assertThat(counts[0] / 40_000.0).isCloseTo(0.5, within(0.02));
        assertThat(counts[1] / 40_000.0).isCloseTo(0.25, within(0.02));
        // top-k 1 is greedy, whatever the temperature.
        assertThat(new TokenSampler(2, 1, 1).next(new float[] {1, 3, 2}, 3, new SplittableRandom(1))).isEqualTo(1);
    }

    @Test
    void badSettingsAreNamed() {
        assertThatThrownBy(() -> new TokenSampler(-1, 0, 1)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new TokenSampler(1, -1, 1)).hasMessageContaining("top-k");
        assertThatThrownBy(() -> new TokenSampler(1, 0, 0)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> new TokenSampler(1, 0, 1.5)).hasMessageContaining("top-p");
    }
}
