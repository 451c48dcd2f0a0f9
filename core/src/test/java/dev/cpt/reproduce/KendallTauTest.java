package dev.cpt.reproduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class KendallTauTest {
  @Test
  void identicalAndReversedOrders() {
    double[] x = {1, 2, 3, 4};
    assertThat(KendallTau.tauB(x, new double[] {10, 20, 30, 40})).isEqualTo(1.0);
    assertThat(KendallTau.tauB(x, new double[] {4, 3, 2, 1})).isEqualTo(-1.0);
  }

  @Test
  void oneSwapOfFourItems() {
    // Pairs: 6; swapping items 3 and 4 makes 1 discordant, 5 concordant: (5 − 1) / 6.
    assertThat(KendallTau.tauB(new double[] {1, 2, 3, 4}, new double[] {1, 2, 4, 3}))
        .isCloseTo(4.0 / 6.0, within(1e-12));
  }

  @Test
  void tiesUseTheTauBDenominator() {
    // x = (1,1,2,3), y = (1,2,3,4): n0 = 6, one pair tied in x, none in y; the 5 untied pairs are
    // concordant, so tau-b = 5 / sqrt(5 · 6) (tau-a would give 5/6).
    assertThat(KendallTau.tauB(new double[] {1, 1, 2, 3}, new double[] {1, 2, 3, 4}))
        .isCloseTo(5.0 / Math.sqrt(30.0), within(1e-12));
    // x = (1,1,2), y = (1,2,2): pairs (1,2) tied in x, (2,3) tied in y, (1,3) concordant:
    // 1 / sqrt(2 · 2) = 0.5.
    assertThat(KendallTau.tauB(new double[] {1, 1, 2}, new double[] {1, 2, 2}))
        .isCloseTo(0.5, within(1e-12));
  }

  @Test
  void constantScoringHasNoTau() {
    assertThat(KendallTau.tauB(new double[] {1, 1, 1}, new double[] {1, 2, 3})).isNaN();
  }

  @Test
  void rejectsUnpairedOrTooFewItems() {
    assertThatThrownBy(() -> KendallTau.tauB(new double[] {1, 2}, new double[] {1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2 vs 1");
    assertThatThrownBy(() -> KendallTau.tauB(new double[] {1}, new double[] {1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 2");
  }
}
