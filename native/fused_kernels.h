/*
 * fused_kernels.h: cpt's own CUDA kernels for the bf16 training step, each doing in one pass over
 * memory what eager ATen does in several (see fused_ops.h for where each is used and why).
 *
 * Plain C++ with raw device pointers, so that the .cu file needs no libtorch headers: bf16 values
 * travel as uint16_t (the bit pattern of __nv_bfloat16), `stream` is a cudaStream_t. Every launcher
 * checks the launch and throws std::runtime_error with CUDA's message if it failed.
 */
#ifndef CPT_FUSED_KERNELS_H
#define CPT_FUSED_KERNELS_H

#include <cstdint>

namespace cpt::cuda {

/* Per row of bf16 logits [rows, vocab]: lse = log Σ exp(z), row_loss = lse - z[target]. */
void cross_entropy_forward(const uint16_t *logits, const int64_t *targets, float *row_loss, float *lse, int64_t rows,
                           int64_t vocab, void *stream);
/* grad_logits = (softmax(z) - onehot(target)) · (*grad_loss) · scale, in bf16. */
void cross_entropy_backward(const uint16_t *logits, const int64_t *targets, const float *lse, const float *grad_loss,
                            float scale, uint16_t *grad_logits, int64_t rows, int64_t vocab, void *stream);

/*
 * From the stacked projection qkv [B, T, 3·H·hd] (q, k, v in that order, each H heads of hd) to q, k
 * and v as [B, H, T, hd], with the rotary embedding applied to the first `rot` dims of each q and k
 * head: y = x·cos[t] + rotate_half(x)·sin[t], cos and sin fp32 [≥ T, rot].
 */
void rotary_qkv_forward(const uint16_t *qkv, const float *cos, const float *sin, uint16_t *q, uint16_t *k, uint16_t *v,
                        int64_t batch, int64_t seq, int64_t heads, int64_t head_dim, int64_t rot, void *stream);
/* Its backward: the gradients of q, k, v [B, H, T, hd] back to one [B, T, 3·H·hd]. */
void rotary_qkv_backward(const uint16_t *grad_q, const uint16_t *grad_k, const uint16_t *grad_v, const float *cos,
                         const float *sin, uint16_t *grad_qkv, int64_t batch, int64_t seq, int64_t heads, int64_t head_dim,
                         int64_t rot, void *stream);

/*
 * One or two LayerNorms of the same fp32 rows x [rows, d] (neox's two norms share their input, so
 * its statistics are computed once): out_i = bf16(x̂·w_i + b_i), x̂ = (x - mean)·rstd. w2, b2 and
 * out2 are null for one norm. mean and rstd [rows] are kept for the backward.
 */
void layer_norm_forward(const float *x, const float *w1, const float *b1, const float *w2, const float *b2, uint16_t *out1,
                        uint16_t *out2, float *mean, float *rstd, int64_t rows, int64_t d, float eps, void *stream);
/* dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), g = Σ_i grad_out_i·w_i (grad_out2, w2 null for one norm). */
void layer_norm_backward_input(const float *x, const float *mean, const float *rstd, const float *w1, const float *w2,
                               const uint16_t *grad_out1, const uint16_t *grad_out2, float *grad_x, int64_t rows, int64_t d,
                               void *stream);
/*
 * The weight and bias gradients of one norm, in two deterministic stages: this kernel sums each
 * chunk of `chunk_rows` rows into partial_w, partial_b [ceil(rows / chunk_rows), d]; the caller
 * adds the chunks up.
 */
void layer_norm_backward_params(const float *x, const float *mean, const float *rstd, const uint16_t *grad_out,
                                float *partial_w, float *partial_b, int64_t rows, int64_t d, int64_t chunk_rows,
                                void *stream);

/* out = (x + a) + m: the fp32 residual stream plus two bf16 branch outputs, in one pass. */
void residual_add(const float *x, const uint16_t *a, const uint16_t *m, float *out, int64_t n, void *stream);

}  // namespace cpt::cuda

#endif
