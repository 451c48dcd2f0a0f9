package dev.cpt.reproduce;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RuleTest {

    static final double L = 2.0; // reference loss: 0.1% = 0.002, 1% = 0.02

    @Test
    void directionalNeedsTheClaimedSignBeyondTheSpreadAndTheMinimumEffect() {
        assertThat(Rule.less().judge(List.of(-0.05, -0.01), L)).isEqualTo(Verdict.REPRODUCED);     // m −0.03, spread 0.02
        assertThat(Rule.less().judge(List.of(-0.05, 0.01), L)).isEqualTo(Verdict.INCONCLUSIVE);    // seeds disagree
        assertThat(Rule.less().judge(List.of(0.05, 0.01), L)).isEqualTo(Verdict.NOT_REPRODUCED);   // the other way
        assertThat(Rule.less().judge(List.of(-0.0005, -0.0004), L)).isEqualTo(Verdict.NOT_REPRODUCED); // consistent but no effect
        assertThat(Rule.less().judge(List.of(-0.003, -0.0005), L)).isEqualTo(Verdict.INCONCLUSIVE); // |m| 0.00175 < 0.002 ≤ |m| + spread
        assertThat(Rule.greater().judge(List.of(0.05, 0.01), L)).isEqualTo(Verdict.REPRODUCED);
        assertThat(Rule.greater().judge(List.of(-0.05, -0.01), L)).isEqualTo(Verdict.NOT_REPRODUCED);
        // "clearly": the difference must exceed 1% of L
        assertThat(Rule.clearlyLess().judge(List.of(-0.015, -0.012), L)).isEqualTo(Verdict.NOT_REPRODUCED); // always below 1%
        assertThat(Rule.clearlyLess().judge(List.of(-0.025, -0.012), L)).isEqualTo(Verdict.INCONCLUSIVE);   // straddles 1%
        assertThat(Rule.clearlyLess().judge(List.of(-0.030, -0.025), L)).isEqualTo(Verdict.REPRODUCED);
        assertThat(Rule.clearlyGreater().judge(List.of(0.004, 0.005), L)).isEqualTo(Verdict.NOT_REPRODUCED);
    }

    @Test
    void matchNeedsTheWholeSeedRangeInsideTheTolerance() {
        assertThat(Rule.within().judge(List.of(0.005, -0.005), L)).isEqualTo(Verdict.REPRODUCED);   // |m| 0 + 0.005 ≤ 0.02
        assertThat(Rule.within().judge(List.of(0.015, 0.030), L)).isEqualTo(Verdict.INCONCLUSIVE);  // 0.0225 ± 0.0075
        assertThat(Rule.within().judge(List.of(-0.05, -0.04), L)).isEqualTo(Verdict.NOT_REPRODUCED);
        assertThat(Rule.atMost().judge(List.of(-0.2, -0.1), L)).isEqualTo(Verdict.REPRODUCED);     // better is no failure
    }

    @Test
    void atMostAtTheBoundaryAndBeyond() {
        assertThat(Rule.atMost().judge(List.of(0.009, 0.011), L)).isEqualTo(Verdict.REPRODUCED);
        assertThat(Rule.atMost().judge(List.of(0.03, 0.05), L)).isEqualTo(Verdict.NOT_REPRODUCED);
    }

    @Test
    void oneSeedDecidesNothing() {
        assertThat(Rule.less().judge(List.of(-1.0), L)).isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(Rule.within().judge(List.of(), L)).isEqualTo(Verdict.INCONCLUSIVE);
    }

    @Test
    void aClaimIsReproducedOnlyWhenEveryComparisonIs() {
        assertThat(Verdict.of(List.of(Verdict.REPRODUCED, Verdict.REPRODUCED))).isEqualTo(Verdict.REPRODUCED);
        assertThat(Verdict.of(List.of(Verdict.REPRODUCED, Verdict.INCONCLUSIVE))).isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(Verdict.of(List.of(Verdict.INCONCLUSIVE, Verdict.NOT_REPRODUCED))).isEqualTo(Verdict.NOT_REPRODUCED);
    }

    @Test
    void rulesDescribeThemselves() {
        assertThat(Rule.less().describe()).isEqualTo("d < 0, |d| ≥ 0.1% of L");
        assertThat(Rule.clearlyGreater().describe()).isEqualTo("d > 0, d ≥ 1% of L");
        assertThat(Rule.within().describe()).isEqualTo("|d| ≤ 1% of L");
        assertThat(Rule.atMost().describe()).isEqualTo("d ≤ 1% of L");
    }
}
