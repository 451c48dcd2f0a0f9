package dev.cpt.plan;

import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.RunSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The time of one optimizer step on N GPUs: compute at an assumed (or measured) MFU, plus what the
 * data-parallel collectives of the ZeRO stage move and how much of it the implementation hides
 * behind compute. The model, per step and GPU, with P parameters, fp32 gradients (g = 4P bytes),
 * the weights the matmuls read (w = 2P under bf16 autocast, 4P in fp32), m micro-batches per rank,
 * compute C = flops per token × tokens per step / N / (MFU · peak), of which the forward is C/3
 * and the backward 2C/3:
 *
 * <ul>
 *   <li>ZeRO-0: all-reduce of the gradients, 2(N−1)/N·g, in per-block buckets during the last
 *       micro-batch's backward (the earlier micro-batches accumulate without communicating). Hidden
 *       up to that backward's length, except the last bucket, which can only start when the
 *       backward ends.</li>
 *   <li>ZeRO-1 (AdamW moments and fp32 master weights sharded): the same all-reduce; then each rank
 *       updates its shard and the updated weights are all-gathered, (N−1)/N·w, after the step: exposed.</li>
 *   <li>ZeRO-2 (gradients sharded too): a reduce-scatter, (N−1)/N·g, hidden as the all-reduce is;
 *       the same all-gather after the step.</li>
 *   <li>ZeRO-3 (weights sharded too): every micro-batch gathers the weights block by block for the
 *       forward and again for the backward, (N−1)/N·w each, prefetching the next block's while the
 *       current one computes, so that only the first block's gather and what exceeds the compute is
 *       exposed; each micro-batch's backward also reduce-scatters every block's gradients, (N−1)/N·g,
 *       as the torch engine does (FSDP outside no_sync: whole gradients are never kept).</li>
 * </ul>
 * With one GPU nothing is communicated. Latency is not modelled: at the bucket sizes of a 405M
 * model and up, transfers are bandwidth-bound.
 */
public record StepTimePlan(int gpus, int zeroStage, Interconnect interconnect, double mfu, double peakFlops,
                           int microBatchesPerRank, double computeSeconds, List<Collective> collectives,
                           double exposedSeconds, double stepSeconds, long tokensPerStep, double flopsPerToken, long steps) {

    /**
     * One collective of a step.
     *
     * @param bytes   what each GPU sends over the step, by the bus-bandwidth formulas above
     * @param seconds at the interconnect's bandwidth
     * @param exposed the part not hidden behind compute
     * @param when    where in the step it runs
     */
    public record Collective(String name, double bytes, double seconds, double exposed, String when) {}

    public static StepTimePlan of(RunSpec spec, long steps, int gpus, int zeroStage, MemoryPlan.Precision precision, double mfu,
                                  double peakFlops, Interconnect link) {
        if (!(mfu > 0 && mfu <= 1)) throw new IllegalArgumentException("MFU must be in (0, 1], not " + mfu);
        if (!(peakFlops > 0)) throw new IllegalArgumentException("peak FLOP/s must be positive, not " + peakFlops);
        if (gpus < 1) throw new IllegalArgumentException("gpus must be at least 1, not " + gpus);
        if (zeroStage < 0 || zeroStage > 3) throw new IllegalArgumentException("ZeRO stage must be 0, 1, 2 or 3, not " + zeroStage);
        ModelSpec.Shape s = spec.model().shape();
        long p = ModelSize.parameters(s);
        double flopsPerToken = ModelSize.flopsPerToken(s, spec.batch().seqLen());
        long tokens = spec.batch().tokensPerStep();
        int perRank = Math.ceilDiv(spec.batch().sequences(), gpus);
        int m = Math.max(1, Math.ceilDiv(perRank, Math.min(perRank, spec.batch().microBatchSequences())));
        double compute = flopsPerToken * tokens / gpus / (mfu * peakFlops);
        double forward = compute / 3, backward = 2 * compute / 3;
        double lastBackward = backward / m;
        double g = 4.0 * p, w = (precision == MemoryPlan.Precision.BF16 ? 2.0 : 4.0) * p;
        double share = (gpus - 1.0) / gpus, bw = link.bytesPerSecond();
        int blocks = Math.max(1, s.layers());

        List<Collective> c = new ArrayList<>();
        if (gpus > 1) {
            if (zeroStage <= 1) {
                double t = 2 * share * g / bw;
                c.add(new Collective("all-reduce gradients", 2 * share * g, t, hidden(t, lastBackward, t / blocks),
                        "in buckets during the last micro-batch's backward"));
            } else if (zeroStage == 2) {
                double t = share * g / bw;
                c.add(new Collective("reduce-scatter gradients", share * g, t, hidden(t, lastBackward, t / blocks),
                        "in buckets during the last micro-batch's backward"));
            }
            if (zeroStage == 1 || zeroStage == 2) {
                double t = share * w / bw;
                c.add(new Collective("all-gather updated weights", share * w, t, t, "after the optimizer step"));
            }
            if (zeroStage == 3) {
                double gather = share * w / bw;
                double rs = share * g / bw;
                // Per micro-batch the gathers run one block ahead of the compute: the first block's is waited for.
                double exposedF = m * hidden(gather, forward / m, gather / blocks);
                // Every micro-batch's backward gathers each block again and reduce-scatters its gradients.
                double exposedB = m * hidden(gather + rs, backward / m, (gather + rs) / blocks);
                c.add(new Collective("all-gather weights for the forward", share * w * m, gather * m, exposedF,
                        m + " × (once a micro-batch), a block ahead of the forward"));
                c.add(new Collective("all-gather weights for the backward", share * w * m, gather * m, exposedB,
                        m + " × (once a micro-batch), a block ahead of the backward"));
                c.add(new Collective("reduce-scatter gradients", share * g * m, rs * m, 0,
                        m + " × (once a micro-batch, block by block in its backward; exposure counted with that backward's gathers)"));
            }
        }
        double exposed = c.stream().mapToDouble(Collective::exposed).sum();
        return new StepTimePlan(gpus, zeroStage, link, mfu, peakFlops, m, compute, List.copyOf(c), exposed, compute + exposed,
                tokens, flopsPerToken, steps);
    }

    /** What of a transfer of {@code t} seconds stays exposed beside {@code window} seconds of compute, at least {@code tail}. */
    static double hidden(double t, double window, double tail) {
        return Math.max(Math.min(t, tail), t - window);
    }

    public double tokensPerSecond() {
        return tokensPerStep / stepSeconds;
    }

    /** Model FLOPs per second over what the GPUs could do: the assumed MFU less what communication costs. */
    public double effectiveMfu() {
        return flopsPerToken * tokensPerSecond() / (gpus * peakFlops);
    }

    public double gpuHours() {
        return stepSeconds * steps * gpus / 3600;
    }

    public double wallHours() {
        return stepSeconds * steps / 3600;
    }
}
