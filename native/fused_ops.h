/*
 * fused_ops.h: the training step's memory-bound parts as single autograd ops, each with its forward
 * and backward written out. On CUDA (bf16) they run cpt's kernels (fused_kernels.cu), which read
 * and write each tensor once where eager ATen makes several passes (casts, cat, zero-filled
 * gradients, fp32 logits); on the CPU they run the same formulas as tensor ops, in the inputs'
 * dtype, so that the formulas and the autograd wiring are tested where CI runs.
 *
 * The kernels matter on an H100: in a 405m step (micro-batch 8 × 2048) eager spends about half of
 * its device time outside matrix products and attention (bench/gpu/results).
 */
#ifndef CPT_FUSED_OPS_H
#define CPT_FUSED_OPS_H

#include <torch/torch.h>

#include <vector>

namespace cpt::fused {

/** Whether this build has the CUDA kernels (it was compiled with nvcc against a CUDA libtorch). */
bool cuda_kernels_built();

/** Mean next-token cross-entropy of logits [N, V] (bf16 on CUDA) against targets [N] (int64), fp32. */
torch::Tensor cross_entropy(const torch::Tensor &logits, const torch::Tensor &targets);

/**
 * q, k and v as [B, H, T, hd] (contiguous, as the attention kernel wants them) from the stacked
 * projection qkv [B, T, 3·H·hd], with the rotary embedding (tables cos, sin [≥ T, rot], fp32) on the
 * first rot dims of each q and k head.
 */
std::vector<torch::Tensor> rotary_qkv(const torch::Tensor &qkv, const torch::Tensor &cos, const torch::Tensor &sin,
                                      int64_t heads);

/**
 * LayerNorm of x [..., d] (fp32) with (w1, b1), and with (w2, b2) too unless w2 is undefined: one
 * pass for both, since neox's two norms share their input. Outputs in out_dtype (bf16 on CUDA: what
 * the matrix products under autocast read).
 */
std::vector<torch::Tensor> layer_norms(const torch::Tensor &x, const torch::Tensor &w1, const torch::Tensor &b1,
                                       const torch::Tensor &w2, const torch::Tensor &b2, at::ScalarType out_dtype, double eps);

/** x + a + m: the fp32 residual stream plus the attention and MLP outputs (bf16 on CUDA). */
torch::Tensor residual_add(const torch::Tensor &x, const torch::Tensor &a, const torch::Tensor &m);

}  // namespace cpt::fused

#endif
