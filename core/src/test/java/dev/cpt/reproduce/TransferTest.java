package dev.cpt.reproduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class TransferTest {

    /** Forgetting per variant, seed and scale; average final loss follows as d0Loss = 2 + forgetting. */
    static void add(Outcomes o, String experiment, String variant, long seed, double forgetting) {
        o.add(experiment, variant, seed, ClaimsTest.run(forgetting, 2 + forgetting));
    }

    @Test
    void rankingsTauAndBestAreTakenPerSeedAcrossScales() {
        Outcomes o = new Outcomes();
        // toy-xs: a < b < c on both seeds. toy-s seed 1: the same order; seed 2: b < a < c (one pair swapped).
        for (long s : new long[] {1, 2}) {
            add(o, "rewarm", "weak-a", s, 0.1);
            add(o, "rewarm", "weak-b", s, 0.2);
            add(o, "rewarm", "weak-c", s, 0.3);
        }
        add(o, "toy-s/rewarm", "weak-a", 1, 0.05);
        add(o, "toy-s/rewarm", "weak-b", 1, 0.06);
        add(o, "toy-s/rewarm", "weak-c", 1, 0.07);
        add(o, "toy-s/rewarm", "weak-a", 2, 0.10);
        add(o, "toy-s/rewarm", "weak-b", 2, 0.02);
        add(o, "toy-s/rewarm", "weak-c", 2, 0.30);
        // a variant run at one scale only is left out
        add(o, "rewarm", "weak-d", 1, 0.0);
        add(o, "rewarm", "weak-d", 2, 0.0);

        Transfer.Row row = Transfer.row(o, ModelScale.TOY_XS, ModelScale.TOY_S, "rewarm", "weak", "forgetting", Claims.forgetting());
        assertThat(row.smallRanking()).containsExactly("a", "b", "c");
        // toy-s means: a 0.075, b 0.04, c 0.185
        assertThat(row.largeRanking()).containsExactly("b", "a", "c");
        assertThat(row.seeds()).containsExactly(1L, 2L);
        // 3 pairs: seed 1 all concordant (τ 1); seed 2 one discordant (τ (2 − 1)/3)
        assertThat(row.tau().get(0)).isCloseTo(1.0, within(1e-12));
        assertThat(row.tau().get(1)).isCloseTo(1.0 / 3, within(1e-12));
        assertThat(row.meanTau()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(row.spreadTau()).isCloseTo(1.0 / 3, within(1e-12));
        assertThat(row.sameBest()).isFalse();
        assertThat(row.why()).isNull();
    }

    @Test
    void aVariantWithoutTheQuantityIsLeftOutAndTooFewVariantsSaySo() {
        Outcomes o = new Outcomes();
        for (String e : List.of("replay", "toy-s/replay")) {
            for (long s : new long[] {1, 2}) {
                add(o, e, "strong-replay-0pct", s, 0.3);
                // a baseline that ends on D0 has no forgetting
                var d = new dev.cpt.metrics.RunSummary.DatasetSummary(2.0, java.util.Map.of(), null, null, null);
                o.add(e, "strong-union", s, new Outcomes.Run(new dev.cpt.metrics.RunSummary("u", 0, 0, java.util.Map.of("en", d), 2.0, null, null),
                        List.of(), null));
            }
        }
        Transfer.Row row = Transfer.row(o, ModelScale.TOY_XS, ModelScale.TOY_S, "replay", "strong", "forgetting", Claims.forgetting());
        assertThat(row.smallRanking()).containsExactly("replay-0pct");
        assertThat(row.tau()).isEmpty();
        assertThat(row.why()).contains("fewer than 2 variants");
    }
}
