package dev.cpt.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.cpt.spec.RunSpec;
import org.junit.jupiter.api.Test;

class StepTimePlanTest {

    static final long P = 405_596_160L;
    static final double FLOPS_PER_TOKEN = 6.0 * P + 12.0 * 24 * 1024 * 2048;
    static final double TOKENS = 1104.0 * 2048;
    static final double PEAK = 989e12;
    /** Slow enough that a 405m's gradients take longer than one micro-batch's backward. */
    static final Interconnect LINK = Interconnect.parse("10");

    static RunSpec spec(int micro) {
        return ModelSizeAndMemoryPlanTest.spec("405m", micro);
    }

    static StepTimePlan plan(int gpus, int zero, int micro) {
        return StepTimePlan.of(spec(micro), 1000, gpus, zero, MemoryPlan.Precision.BF16, 0.5, PEAK, LINK);
    }

    @Test
    void oneGpuComputesAndCommunicatesNothing() {
        StepTimePlan t = plan(1, 0, 4);
        double compute = FLOPS_PER_TOKEN * TOKENS / (0.5 * PEAK);
        assertThat(t.computeSeconds()).isCloseTo(compute, within(1e-12));
        assertThat(t.collectives()).isEmpty();
        assertThat(t.stepSeconds()).isEqualTo(t.computeSeconds());
        assertThat(t.effectiveMfu()).isCloseTo(0.5, within(1e-12));
        assertThat(t.microBatchesPerRank()).isEqualTo(276);
        assertThat(t.gpuHours()).isCloseTo(compute * 1000 / 3600, within(1e-9));
    }

    @Test
    void zero0AllReducesTheGradientsBehindTheLastBackward() {
        // 8 GPUs: 138 sequences each, micro-batch 4 → 35 micro-batches (the last one short)
        StepTimePlan t = plan(8, 0, 4);
        assertThat(t.microBatchesPerRank()).isEqualTo(35);
        double compute = FLOPS_PER_TOKEN * TOKENS / 8 / (0.5 * PEAK);
        assertThat(t.computeSeconds()).isCloseTo(compute, within(1e-12));
        StepTimePlan.Collective ar = t.collectives().getFirst();
        assertThat(t.collectives()).hasSize(1);
        assertThat(ar.name()).isEqualTo("all-reduce gradients");
        assertThat(ar.bytes()).isCloseTo(2 * 7.0 / 8 * 4 * P, within(1e-3));
        assertThat(ar.seconds()).isCloseTo(2 * 7.0 / 8 * 4 * P / 10e9, within(1e-12));
        // the last micro-batch's backward, 2/3 of a 35th of the compute (33 ms against 284 ms), hides that much of it
        double window = 2 * compute / 3 / 35;
        assertThat(ar.exposed()).isCloseTo(ar.seconds() - window, within(1e-12));
        assertThat(t.stepSeconds()).isCloseTo(compute + ar.seconds() - window, within(1e-12));
        assertThat(t.effectiveMfu()).isLessThan(0.5);
    }

    @Test
    void aTransferShorterThanTheBackwardLeavesOnlyItsLastBucket() {
        // the whole batch as one micro-batch on 2 GPUs over NVLink: the backward is far longer
        StepTimePlan t = StepTimePlan.of(spec(552), 1, 2, 0, MemoryPlan.Precision.BF16, 0.5, PEAK, Interconnect.parse("nvlink4"));
        StepTimePlan.Collective ar = t.collectives().getFirst();
        assertThat(ar.seconds()).isLessThan(2 * t.computeSeconds() / 3);
        assertThat(ar.exposed()).isCloseTo(ar.seconds() / 24, within(1e-12));
    }

    @Test
    void zero1And2AllGatherTheUpdatedWeightsAfterTheStep() {
        StepTimePlan z1 = plan(8, 1, 4), z2 = plan(8, 2, 4);
        assertThat(z1.collectives()).extracting(StepTimePlan.Collective::name).containsExactly("all-reduce gradients", "all-gather updated weights");
        assertThat(z2.collectives()).extracting(StepTimePlan.Collective::name).containsExactly("reduce-scatter gradients", "all-gather updated weights");
        StepTimePlan.Collective ag = z1.collectives().get(1);
        assertThat(ag.bytes()).isCloseTo(7.0 / 8 * 2 * P, within(1e-3)); // bf16 weights
        assertThat(ag.exposed()).isEqualTo(ag.seconds());
        // a reduce-scatter moves half an all-reduce's bytes
        assertThat(z2.collectives().getFirst().bytes()).isCloseTo(z1.collectives().getFirst().bytes() / 2, within(1e-3));
        assertThat(z2.stepSeconds()).isLessThan(z1.stepSeconds());
    }

    @Test
    void zero3GathersTheWeightsForEveryMicroBatchTwice() {
        StepTimePlan t = plan(8, 3, 4);
        int m = t.microBatchesPerRank();
        assertThat(t.collectives()).extracting(StepTimePlan.Collective::name).containsExactly(
                "all-gather weights for the forward", "all-gather weights for the backward", "reduce-scatter gradients");
        double gather = 7.0 / 8 * 2 * P;
        assertThat(t.collectives().get(0).bytes()).isCloseTo(gather * m, within(1e-2));
        assertThat(t.collectives().get(1).bytes()).isCloseTo(gather * m, within(1e-2));
        // the torch engine reduce-scatters every micro-batch's gradients (FSDP outside no_sync)
        assertThat(t.collectives().get(2).bytes()).isCloseTo(7.0 / 8 * 4 * P * m, within(1e-2));
        // each micro-batch's forward is C/3/m; a gather longer than it shows the difference
        double fwd = t.computeSeconds() / 3 / m, g = gather / 10e9, rs = 7.0 / 8 * 4 * P / 10e9;
        assertThat(t.collectives().get(0).exposed()).isCloseTo(m * Math.max(g / 24, g - fwd), within(1e-12));
        // each backward (2C/3/m) hides its gathers and reduce-scatters but for the last block's
        assertThat(t.collectives().get(1).exposed()).isCloseTo(m * Math.max((g + rs) / 24, g + rs - 2 * fwd), within(1e-12));
        assertThat(t.stepSeconds()).isGreaterThan(plan(8, 2, 4).stepSeconds());
    }

    @Test
    void interconnectsAreNamedOrGivenInGbPerSecond() {
        assertThat(Interconnect.parse("nvlink4").bytesPerSecond()).isEqualTo(450e9);
        assertThat(Interconnect.parse("IB-NDR").bytesPerSecond()).isEqualTo(50e9);
        assertThat(Interconnect.parse("200 GB/s").bytesPerSecond()).isEqualTo(200e9);
        assertThat(Interconnect.parse("12.5").name()).isEqualTo("12.5 GB/s");
        assertThat(Interconnect.assumed(8, 8).name()).isEqualTo("nvlink4");
        assertThat(Interconnect.assumed(16, 8).name()).isEqualTo("ib-ndr");
        assertThatThrownBy(() -> Interconnect.parse("token-ring")).hasMessageContaining("\"token-ring\"").hasMessageContaining("nvlink4");
        assertThatThrownBy(() -> Interconnect.parse("-3")).hasMessageContaining("positive");
        assertThatThrownBy(() -> StepTimePlan.of(spec(4), 1, 8, 0, MemoryPlan.Precision.BF16, 1.5, PEAK, LINK))
                .hasMessageContaining("MFU must be in (0, 1]");
    }
}
