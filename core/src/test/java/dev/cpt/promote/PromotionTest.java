package dev.cpt.promote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.plan.RunPlan;
import dev.cpt.spec.RunSpec;
import dev.cpt.spec.ScheduleSpec;
import dev.cpt.spec.SpecReader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PromotionTest {

    /** A toy sweep's winner: pretrain at η_max 3e-3, re-warm to 2× with 25% replay; an infinite run-level wd-free schedule elsewhere. */
    static final RunSpec TOY = SpecReader.read("""
        { "name": "sweep/strong-2x", "seed": 7, "model": { "preset": "toy-xs" }, "batch": { "sequences": 16, "seqLen": 64 },
          "datasets": { "en": { "train": "data/builtin/en/train.bin" }, "de": { "train": "data/builtin/de/train.bin" },
                        "en-b": { "train": "data/builtin/en-b/train.bin" } },
          "weightDecay": { "type": "piecewise", "pieces": [ { "untilStep": 800, "value": 0.0 }, { "until": 1.0, "value": 0.1 } ] },
          "stages": [
            { "name": "pretrain", "steps": 1200, "mix": { "en": 1 }, "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 12 } },
            { "name": "continue", "steps": 1200, "mix": { "de": 1 }, "resetOptimizer": true,
              "replay": { "fraction": 0.25, "from": { "en": 1 } },
              "lr": { "type": "cosine", "max": 6e-3, "min": 6e-4, "warmup": 0.02 } } ] }
        """, "toy");

    @Test
    void keepsTheExperimentAndScalesRatesToTheModelsEtaMax() {
        var r = Promotion.promote(TOY, Promotion.Options.paper("405m", Map.of("en", 300_000_000_000L, "continue", 200_000_000_000L),
                Map.of("en", "data/pile", "de", "data/german-cc")));
        RunSpec s = r.spec();
        assertThat(r.referenceMaxLr()).isEqualTo(3e-3);
        assertThat(r.lrFactor()).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-15));
        assertThat(s.model().preset()).isEqualTo("405m");
        assertThat(s.seed()).isEqualTo(7L);
        assertThat(s.batch().sequences()).isEqualTo(1104);
        assertThat(s.batch().microBatchSequences()).isEqualTo(4);
        assertThat(s.optimizer().beta2()).isEqualTo(0.95);
        var pre = (ScheduleSpec.Cosine) s.stages().get(0).lr();
        assertThat(pre.max()).isEqualTo(3e-4);
        assertThat(pre.min()).isEqualTo(3e-5);
        assertThat(pre.warmup()).isEqualTo(0.01);   // 12 of 1,200 steps
        assertThat(pre.warmupSteps()).isNull();
        var cont = (ScheduleSpec.Cosine) s.stages().get(1).lr();
        assertThat(cont.max()).isEqualTo(6e-4);     // the 2× re-warm stays 2×
        assertThat(cont.warmup()).isEqualTo(0.02);
        assertThat(s.stages().get(1).replay().fraction()).isEqualTo(0.25);
        assertThat(s.stages().get(1).resetOptimizer()).isTrue();
        // weight decay: values kept, the step-valued piece as a fraction of the run
        var wd = (ScheduleSpec.Piecewise) s.weightDecay();
        assertThat(wd.pieces().get(0).until()).isCloseTo(800 / 2400.0, org.assertj.core.data.Offset.offset(1e-15));
        assertThat(wd.pieces().get(1).value()).isEqualTo(0.1);
        // budgets by dataset or by stage name; whole steps of 1104 × 2048
        RunPlan plan = RunPlan.of(s);
        assertThat(plan.stages().get(0).steps()).isEqualTo(Math.round(300e9 / (1104 * 2048.0)));
        assertThat(s.datasets().get("en").train()).isEqualTo("data/pile/train.bin");
        assertThat(s.datasets().get("de").val()).isEqualTo("data/german-cc/val.bin");
        assertThat(s.datasets()).doesNotContainKey("en-b");
        assertThat(r.notes()).anyMatch(n -> n.contains("left out en-b"));
    }

    @Test
    void mistakesAreNamed() {
        Map<String, String> data = Map.of();
        assertThatThrownBy(() -> Promotion.promote(TOY, Promotion.Options.paper("toy-s", Map.of(), data)))
                .hasMessageContaining("promote to one of");
        assertThatThrownBy(() -> Promotion.promote(TOY, Promotion.Options.paper("405m", Map.of("en", 300_000_000_000L), data)))
                .hasMessageContaining("no token budget for stage \"continue\"").hasMessageContaining("de=N");
        assertThatThrownBy(() -> Promotion.promote(TOY, Promotion.Options.paper("405m",
                Map.of("en", 3L * 1_000_000_000, "de", 2L * 1_000_000_000, "fr", 1L), data)))
                .hasMessageContaining("--tokens fr");
        assertThatThrownBy(() -> Promotion.promote(TOY, Promotion.Options.paper("405m",
                Map.of("en", 3L * 1_000_000_000, "de", 2L * 1_000_000_000), Map.of("xx", "d"))))
                .hasMessageContaining("--data xx").hasMessageContaining("no dataset");
        var unmapped = Promotion.promote(TOY, Promotion.Options.paper("405m", Map.of("en", 3L * 1_000_000_000, "de", 2L * 1_000_000_000), data));
        assertThat(unmapped.notes()).anyMatch(n -> n.contains("still name the simulator run's files"));
    }
}
