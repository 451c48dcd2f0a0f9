package dev.cpt.plan;

import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.RunSpec;

/**
 * The memory one GPU needs to train a run, and whether it fits: what {@code cpt plan} prints, so
 * that a user sees before launch that {@code 10b} needs sharding.
 *
 * <p>Model states, per parameter: fp32 weights (4 B), fp32 gradients (4 B), AdamW's two fp32
 * moments (8 B), and under bf16 autocast the bf16 copies of the weights the matmuls read (2 B).
 * ZeRO / FSDP across {@code gpus}: stage 1 shards the moments, 2 also the gradients, 3 also the
 * weights (Rajbhandari et al. 2020).
 *
 * <p>Activations of one micro-batch ({@code batch.microBatch} sequences b of length s, width h,
 * a heads, L layers, vocabulary V), counted at the peak, the start of the backward pass:
 * <ul>
 *   <li>bf16 autocast (the torch engine on CUDA, PyTorch AMP): what the backward keeps of a block,
 *       in bytes per token per unit of h: the block's fp32 input 4 (both LayerNorms' backward read
 *       it; gpt2 keeps its fp32 mid-block residual instead of neox's rotated q and k, the same
 *       total), the bf16 LayerNorm outputs the projections read 2 + 2, the stacked q/k/v projection
 *       6 (whole, as attention keeps v, a view of it), rotated q and k 2 + 2, the attention output 2
 *       and its contiguous copy 2, the MLP's 4h-wide GELU input 8 and output 8: 38·s·b·h a layer;
 *       flash attention keeps no s×s matrix. Plus the last LayerNorm's fp32 input and bf16 output,
 *       6·s·b·h. With activation checkpointing: each block's fp32 input (4·s·b·h a layer) plus one
 *       block recomputed (38·s·b·h) — an upper bound, as the recomputed block and the logits'
 *       peak are not alive at once — and only one block's bf16 weight copies at a time.
 *       Measured on an H100 for 405m at s 2048, b 8 (bench/gpu/README.md): 30.39 GiB at the
 *       allocator's peak against 30.38 counted here; 17.04 against 17.68 with checkpointing.
 *       <br>With cpt's fused kernels (the torch engine's default on CUDA) a neox block keeps 34:
 *       the rotary op writes q, k and v as contiguous bf16 tensors for the attention (2 + 2 + 2)
 *       and nothing of the stacked projection (6) or of the rotation (2 + 2) stays behind; gpt2's
 *       blocks run eager ops, 38. Measured: 22.72 GiB against 22.73; 10.88 against 11.47 with
 *       checkpointing.</li>
 *   <li>mpt keeps what gpt2 does (38, its fp32 mid-block residual, no rotation; its bias-free
 *       LayerNorms run eager under the fused kernels too), plus the one ALiBi bias all its layers
 *       share, a·s² elements (bf16 under autocast, fp32 otherwise); not measured.</li>
 *   <li>fp32: Korthikanti et al. 2022's s·b·h·(34 + 5·a·s/h) at 16-bit, doubled, the attention
 *       matrix included (not measured here).</li>
 * </ul>
 * Logits: 12·s·b·V bytes, log-softmax's fp32 output, the dense gradient nll_loss makes of it and
 * log-softmax's own gradient, alive together at the start of the backward; with the fused kernels
 * 4·s·b·V, the bf16 logits and their bf16 gradient (the cross-entropy reads the logits in place). Plus a fixed allowance
 * for the CUDA context, workspaces and fragmentation (not in the allocator's peak).
 */
public record MemoryPlan(Options options, long parameters, double flopsPerToken, long weightBytes, long gradientBytes,
                         long optimizerBytes, long activationBytes, long logitBytes, long overheadBytes, int microBatch,
                         int accumulationSteps) {

    public static final long GIB = 1L << 30;
    /** CUDA context, cuBLAS/cuDNN workspaces, allocator fragmentation. */
    public static final long OVERHEAD = 3 * GIB;
    /** H100 SXM dense bf16 peak, for time estimates. */
    public static final double H100_BF16_FLOPS = 989e12;

    public enum Precision { BF16, FP32 }

    /**
     * @param gpus                    GPUs the run is spread over (data parallel)
     * @param gpuMemoryGiB            memory of one GPU
     * @param precision               bf16 autocast (flash attention) or plain fp32
     * @param zeroStage               0 (replicated), 1, 2 or 3
     * @param activationCheckpointing recompute each layer's activations in the backward pass
     * @param fusedKernels            bf16 with cpt's fused kernels (the torch engine's default on CUDA),
     *                                not eager ATen ops (PyTorch eager, {@code --kernels eager})
     */
    public record Options(int gpus, double gpuMemoryGiB, Precision precision, int zeroStage, boolean activationCheckpointing,
                          boolean fusedKernels) {
        public Options {
            if (gpus < 1) throw new IllegalArgumentException("gpus must be at least 1, not " + gpus);
            if (!(gpuMemoryGiB > 0)) throw new IllegalArgumentException("GPU memory must be positive, not " + gpuMemoryGiB);
            if (zeroStage < 0 || zeroStage > 3) throw new IllegalArgumentException("ZeRO stage must be 0, 1, 2 or 3, not " + zeroStage);
            if (precision == null) throw new IllegalArgumentException("precision is missing");
        }

        /** With the fused kernels, as the torch engine runs by default. */
        public Options(int gpus, double gpuMemoryGiB, Precision precision, int zeroStage, boolean activationCheckpointing) {
            this(gpus, gpuMemoryGiB, precision, zeroStage, activationCheckpointing, true);
        }

        public static Options defaults() {
            return new Options(1, 80, Precision.BF16, 0, false);
        }

        public Options withFusedKernels(boolean on) {
            return new Options(gpus, gpuMemoryGiB, precision, zeroStage, activationCheckpointing, on);
        }
    }

    public static MemoryPlan of(RunSpec spec, Options o) {
        ModelSpec.Shape s = spec.model().shape();
        long n = ModelSize.parameters(s);
        int seqLen = spec.batch().seqLen();
        int b = spec.batch().microBatchSequences();
        long g = o.gpus();
        boolean bf16 = o.precision() == Precision.BF16;
        // bf16 copies of the weights, kept by the autograd graph until the backward has used them;
        // with checkpointing only those outside the blocks and one block's at a time.
        long copies = !bf16 ? 0 : o.activationCheckpointing() ? 2 * (n - (s.layers() - 1L) * ModelSize.layerParameters(s)) : 2 * n;
        long weights = n * 4 + copies;
        long grads = n * 4;
        long moments = n * 8;
        if (o.zeroStage() >= 1) moments = ceilDiv(moments, g);
        if (o.zeroStage() >= 2) grads = ceilDiv(grads, g);
        if (o.zeroStage() >= 3) weights = ceilDiv(weights, g);

        double sbh = (double) seqLen * b * s.dModel();
        double activations;
        boolean fused = bf16 && o.fusedKernels();
        if (bf16) {
            double block = (fused && s.arch().equals("neox") ? 34 : 38) * sbh, finalNorm = 6 * sbh;
            activations = o.activationCheckpointing() ? s.layers() * 4 * sbh + block + finalNorm : s.layers() * block + finalNorm;
        } else {
            double perLayer = 2 * sbh * (34 + 5.0 * s.heads() * seqLen / s.dModel());
            activations = o.activationCheckpointing() ? s.layers() * 4 * sbh + perLayer : s.layers() * perLayer;
        }
        // mpt: the ALiBi + causal bias [1, a, s, s] the attention reads, one made per forward and kept
        // once by the graph for every layer's backward (in the activations' dtype).
        if (s.arch().equals("mpt")) activations += (double) s.heads() * seqLen * seqLen * (bf16 ? 2 : 4);
        long logits = (fused ? 4L : 12L) * seqLen * b * s.vocabSize();
        return new MemoryPlan(o, n, ModelSize.flopsPerToken(s, seqLen), weights, grads, moments, (long) activations, logits,
                OVERHEAD, b, spec.batch().accumulationSteps());
    }

    public long totalBytes() {
        return weightBytes + gradientBytes + optimizerBytes + activationBytes + logitBytes + overheadBytes;
    }

    public long capacityBytes() {
        return (long) (options.gpuMemoryGiB() * GIB);
    }

    public boolean fits() {
        return totalBytes() <= capacityBytes();
    }

    /**
     * The fewest GPUs on which the run fits with ZeRO-3 at this micro-batch, or 0 when even
     * sharding everything cannot make the activations fit (then a smaller micro-batch or
     * activation checkpointing is what helps).
     */
    public int gpusNeededWithZero3() {
        long states = (options.precision() == Precision.BF16 ? 18L : 16L) * parameters;
        long rest = activationBytes + logitBytes + overheadBytes;
        long free = capacityBytes() - rest;
        if (free <= 0) return 0;
        return (int) Math.max(1, ceilDiv(states, free));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
