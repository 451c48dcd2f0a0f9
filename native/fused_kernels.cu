// cpt's CUDA kernels (see fused_kernels.h). Each one is bound by memory traffic, so each reads its
// inputs once and writes its outputs once; arithmetic is fp32, storage bf16 where the eager ATen
// path would hold bf16.
#include "fused_kernels.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace cpt::cuda {
namespace {

using bf16 = __nv_bfloat16;
constexpr unsigned FULL_MASK = 0xffffffffu;
constexpr int THREADS = 256;

void check(const char *kernel) {
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA kernel ") + kernel + ": " + cudaGetErrorString(e));
}

cudaStream_t as_stream(void *stream) { return static_cast<cudaStream_t>(stream); }

/** Blocks for a grid-stride loop over n elements. */
unsigned grid_for(int64_t n) {
    int64_t blocks = (n + THREADS - 1) / THREADS;
    if (blocks > (1 << 20)) blocks = 1 << 20;
    return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

bool aligned16(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }
bool aligned8(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 7) == 0; }

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(FULL_MASK, v, offset);
    return v;
}

// ---- cross-entropy -------------------------------------------------------------------------------

/** Merges the running (max, Σ exp(z - max)) of two parts of a row. */
__device__ __forceinline__ void merge(float &m, float &s, float other_m, float other_s) {
    float top = fmaxf(m, other_m);
    if (top == -INFINITY) return;  // both parts empty
    s = s * expf(m - top) + other_s * expf(other_m - top);
    m = top;
}

/** One block a row: an online softmax over the row's logits, read once, 8 at a time when aligned. */
__global__ void cross_entropy_forward_kernel(const bf16 *logits, const int64_t *targets, float *row_loss, float *lse,
                                             int64_t vocab, bool vectorized) {
    int64_t row = blockIdx.x;
    const bf16 *z = logits + row * vocab;
    float m = -INFINITY, s = 0.f;
    if (vectorized) {
        const uint4 *packed = reinterpret_cast<const uint4 *>(z);
        for (int64_t i = threadIdx.x; i < vocab / 8; i += blockDim.x) {
            uint4 raw = packed[i];
            const bf16 *e = reinterpret_cast<const bf16 *>(&raw);
            float v[8], local_max = -INFINITY, local_sum = 0.f;
#pragma unroll
            for (int k = 0; k < 8; k++) {
                v[k] = __bfloat162float(e[k]);
                local_max = fmaxf(local_max, v[k]);
            }
#pragma unroll
            for (int k = 0; k < 8; k++) local_sum += expf(v[k] - local_max);
            merge(m, s, local_max, local_sum);
        }
    } else {
        for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) merge(m, s, __bfloat162float(z[i]), 1.f);
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        float other_m = __shfl_xor_sync(FULL_MASK, m, offset), other_s = __shfl_xor_sync(FULL_MASK, s, offset);
        merge(m, s, other_m, other_s);
    }
    __shared__ float warp_m[32], warp_s[32];
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    if (lane == 0) {
        warp_m[warp] = m;
        warp_s[warp] = s;
    }
    __syncthreads();
    if (warp != 0) return;
    m = lane < warps ? warp_m[lane] : -INFINITY;
    s = lane < warps ? warp_s[lane] : 0.f;
    for (int offset = 16; offset > 0; offset >>= 1) {
        float other_m = __shfl_xor_sync(FULL_MASK, m, offset), other_s = __shfl_xor_sync(FULL_MASK, s, offset);
        merge(m, s, other_m, other_s);
    }
    if (lane == 0) {
        float l = m + logf(s);
        lse[row] = l;
        row_loss[row] = l - __bfloat162float(z[targets[row]]);
    }
}

__global__ void cross_entropy_backward_kernel(const bf16 *logits, const int64_t *targets, const float *lse,
                                              const float *grad_loss, float scale, bf16 *grad, int64_t vocab,
                                              bool vectorized) {
    int64_t row = blockIdx.x;
    const bf16 *z = logits + row * vocab;
    bf16 *out = grad + row * vocab;
    float g = grad_loss[0] * scale, l = lse[row];
    int64_t target = targets[row];
    if (vectorized) {
        const uint4 *packed = reinterpret_cast<const uint4 *>(z);
        uint4 *packed_out = reinterpret_cast<uint4 *>(out);
        for (int64_t i = threadIdx.x; i < vocab / 8; i += blockDim.x) {
            uint4 raw = packed[i], result;
            const bf16 *e = reinterpret_cast<const bf16 *>(&raw);
            bf16 *r = reinterpret_cast<bf16 *>(&result);
#pragma unroll
            for (int k = 0; k < 8; k++) {
                float p = expf(__bfloat162float(e[k]) - l) * g;
                if (i * 8 + k == target) p -= g;
                r[k] = __float2bfloat16(p);
            }
            packed_out[i] = result;
        }
    } else {
        for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) {
            float p = expf(__bfloat162float(z[j]) - l) * g;
            if (j == target) p -= g;
            out[j] = __float2bfloat16(p);
        }
    }
}

// ---- rotary embedding and the q/k/v layout -------------------------------------------------------

/*
 * A block per token (row b·T + t of qkv), its threads along the row's 3·H·hd columns: reads are
 * coalesced, and each head's hd outputs land contiguously. Index arithmetic is 32-bit within a
 * row: 64-bit division per element made the first version of this kernel 7× slower than memory.
 */
__global__ void rotary_qkv_forward_kernel(const bf16 *qkv, const float *cos, const float *sin, bf16 *q, bf16 *k, bf16 *v,
                                          int seq, int heads, int head_dim, int rot) {
    int64_t row = blockIdx.x;
    int t = static_cast<int>(row % seq);
    int64_t b = row / seq;
    int d = heads * head_dim, half = rot / 2;
    const bf16 *src = qkv + row * 3 * d;
    const float *c = cos + static_cast<int64_t>(t) * rot, *s = sin + static_cast<int64_t>(t) * rot;
    for (int col = threadIdx.x; col < 3 * d; col += blockDim.x) {
        int which = col / d, within = col - which * d, h = within / head_dim, j = within - h * head_dim;
        float x = __bfloat162float(src[col]);
        if (which < 2 && j < rot) {
            // rotate_half(x) = [-x2, x1] over the two halves of the rotated dims
            float partner = j < half ? -__bfloat162float(src[col + half]) : __bfloat162float(src[col - half]);
            x = x * c[j] + partner * s[j];
        }
        bf16 *dst = which == 0 ? q : which == 1 ? k : v;
        dst[((b * heads + h) * seq + t) * head_dim + j] = __float2bfloat16(x);
    }
}

/**
 * A block per token, writing its row of grad_qkv. With y_j = x_j·C_j + rh_j·S_j, rh = [-x2, x1]:
 * dx_j = gy_j·C_j + gy_{j+half}·S_{j+half} in the first half, gy_j·C_j - gy_{j-half}·S_{j-half} in
 * the second.
 */
__global__ void rotary_qkv_backward_kernel(const bf16 *grad_q, const bf16 *grad_k, const bf16 *grad_v, const float *cos,
                                           const float *sin, bf16 *grad_qkv, int seq, int heads, int head_dim, int rot) {
    int64_t row = blockIdx.x;
    int t = static_cast<int>(row % seq);
    int64_t b = row / seq;
    int d = heads * head_dim, half = rot / 2;
    const float *c = cos + static_cast<int64_t>(t) * rot, *s = sin + static_cast<int64_t>(t) * rot;
    bf16 *dst = grad_qkv + row * 3 * d;
    for (int col = threadIdx.x; col < 3 * d; col += blockDim.x) {
        int which = col / d, within = col - which * d, h = within / head_dim, j = within - h * head_dim;
        const bf16 *g = (which == 0 ? grad_q : which == 1 ? grad_k : grad_v) + ((b * heads + h) * seq + t) * head_dim;
        float gx = __bfloat162float(g[j]);
        if (which < 2 && j < rot) {
            gx *= c[j];
            if (j < half) {
                gx += __bfloat162float(g[j + half]) * s[j + half];
            } else {
                gx -= __bfloat162float(g[j - half]) * s[j - half];
            }
        }
        dst[col] = __float2bfloat16(gx);
    }
}

/*
 * The same, eight columns (16 bytes) a thread, for heads whose rotated halves are whole vectors
 * (head_dim % 8 == 0 and rot % 16 == 0: 405m's 64/16, 10b's 128/32): a vector of q or k is rotated
 * against its partner vector in the other half.
 */
__global__ void rotary_qkv_forward_vec_kernel(const bf16 *qkv, const float *cos, const float *sin, bf16 *q, bf16 *k,
                                              bf16 *v, int seq, int heads, int head_dim, int rot) {
    int64_t row = blockIdx.x;
    int t = static_cast<int>(row % seq);
    int64_t b = row / seq;
    int d = heads * head_dim, half = rot / 2;
    const uint4 *src = reinterpret_cast<const uint4 *>(qkv + row * 3 * d);
    const float *c = cos + static_cast<int64_t>(t) * rot, *s = sin + static_cast<int64_t>(t) * rot;
    for (int vec = threadIdx.x; vec < 3 * d / 8; vec += blockDim.x) {
        int col = vec * 8;
        int which = col / d, within = col - which * d, h = within / head_dim, j = within - h * head_dim;
        uint4 raw = src[vec];
        if (which < 2 && j < rot) {
            uint4 partner_raw = src[(j < half ? col + half : col - half) / 8], result;
            const bf16 *x = reinterpret_cast<const bf16 *>(&raw), *p = reinterpret_cast<const bf16 *>(&partner_raw);
            bf16 *r = reinterpret_cast<bf16 *>(&result);
            float sign = j < half ? -1.f : 1.f;  // rotate_half(x) = [-x2, x1]
#pragma unroll
            for (int e = 0; e < 8; e++) {
                r[e] = __float2bfloat16(__bfloat162float(x[e]) * c[j + e] + sign * __bfloat162float(p[e]) * s[j + e]);
            }
            raw = result;
        }
        bf16 *dst = which == 0 ? q : which == 1 ? k : v;
        *reinterpret_cast<uint4 *>(dst + ((b * heads + h) * seq + t) * head_dim + j) = raw;
    }
}

__global__ void rotary_qkv_backward_vec_kernel(const bf16 *grad_q, const bf16 *grad_k, const bf16 *grad_v,
                                               const float *cos, const float *sin, bf16 *grad_qkv, int seq, int heads,
                                               int head_dim, int rot) {
    int64_t row = blockIdx.x;
    int t = static_cast<int>(row % seq);
    int64_t b = row / seq;
    int d = heads * head_dim, half = rot / 2;
    const float *c = cos + static_cast<int64_t>(t) * rot, *s = sin + static_cast<int64_t>(t) * rot;
    uint4 *dst = reinterpret_cast<uint4 *>(grad_qkv + row * 3 * d);
    for (int vec = threadIdx.x; vec < 3 * d / 8; vec += blockDim.x) {
        int col = vec * 8;
        int which = col / d, within = col - which * d, h = within / head_dim, j = within - h * head_dim;
        const bf16 *g = (which == 0 ? grad_q : which == 1 ? grad_k : grad_v) + ((b * heads + h) * seq + t) * head_dim;
        uint4 raw = *reinterpret_cast<const uint4 *>(g + j);
        if (which < 2 && j < rot) {
            int partner = j < half ? j + half : j - half;
            uint4 partner_raw = *reinterpret_cast<const uint4 *>(g + partner), result;
            const bf16 *gy = reinterpret_cast<const bf16 *>(&raw), *gp = reinterpret_cast<const bf16 *>(&partner_raw);
            bf16 *r = reinterpret_cast<bf16 *>(&result);
            float sign = j < half ? 1.f : -1.f;
#pragma unroll
            for (int e = 0; e < 8; e++) {
                r[e] = __float2bfloat16(__bfloat162float(gy[e]) * c[j + e] + sign * __bfloat162float(gp[e]) * s[partner + e]);
            }
            raw = result;
        }
        dst[vec] = raw;
    }
}

// ---- LayerNorm -----------------------------------------------------------------------------------

/** A warp a row: mean, then the variance around it (two passes, as exact as Welford), then outputs. */
__global__ void layer_norm_forward_kernel(const float *x, const float *w1, const float *b1, const float *w2,
                                          const float *b2, bf16 *out1, bf16 *out2, float *mean, float *rstd, int64_t rows,
                                          int64_t d, float eps) {
    int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;  // the whole warp leaves together
    const float *xr = x + row * d;
    float sum = 0.f;
    for (int64_t c = lane; c < d; c += 32) sum += xr[c];
    float mu = warp_sum(sum) / static_cast<float>(d);
    float squares = 0.f;
    for (int64_t c = lane; c < d; c += 32) {
        float centered = xr[c] - mu;
        squares += centered * centered;
    }
    float r = rsqrtf(warp_sum(squares) / static_cast<float>(d) + eps);
    for (int64_t c = lane; c < d; c += 32) {
        float xhat = (xr[c] - mu) * r;
        out1[row * d + c] = __float2bfloat16(xhat * w1[c] + b1[c]);
        if (out2 != nullptr) out2[row * d + c] = __float2bfloat16(xhat * w2[c] + b2[c]);
    }
    if (lane == 0) {
        mean[row] = mu;
        rstd[row] = r;
    }
}

__global__ void layer_norm_backward_input_kernel(const float *x, const float *mean, const float *rstd, const float *w1,
                                                 const float *w2, const bf16 *grad_out1, const bf16 *grad_out2,
                                                 float *grad_x, int64_t rows, int64_t d) {
    int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float *xr = x + row * d;
    const bf16 *g1 = grad_out1 + row * d, *g2 = grad_out2 != nullptr ? grad_out2 + row * d : nullptr;
    float mu = mean[row], r = rstd[row];
    float sum_g = 0.f, sum_gx = 0.f;
    for (int64_t c = lane; c < d; c += 32) {
        float xhat = (xr[c] - mu) * r;
        float g = __bfloat162float(g1[c]) * w1[c];
        if (g2 != nullptr) g += __bfloat162float(g2[c]) * w2[c];
        sum_g += g;
        sum_gx += g * xhat;
    }
    float mean_g = warp_sum(sum_g) / static_cast<float>(d), mean_gx = warp_sum(sum_gx) / static_cast<float>(d);
    for (int64_t c = lane; c < d; c += 32) {
        float xhat = (xr[c] - mu) * r;
        float g = __bfloat162float(g1[c]) * w1[c];
        if (g2 != nullptr) g += __bfloat162float(g2[c]) * w2[c];
        grad_x[row * d + c] = r * (g - mean_g - xhat * mean_gx);
    }
}

__device__ __forceinline__ void load4(const bf16 *p, float v[4]) {
    uint2 raw = *reinterpret_cast<const uint2 *>(p);
    const bf16 *e = reinterpret_cast<const bf16 *>(&raw);
#pragma unroll
    for (int k = 0; k < 4; k++) v[k] = __bfloat162float(e[k]);
}

__device__ __forceinline__ void store4(bf16 *p, const float v[4]) {
    uint2 raw;
    bf16 *e = reinterpret_cast<bf16 *>(&raw);
#pragma unroll
    for (int k = 0; k < 4; k++) e[k] = __float2bfloat16(v[k]);
    *reinterpret_cast<uint2 *>(p) = raw;
}

__device__ __forceinline__ void unpack(const float4 &f, float v[4]) {
    v[0] = f.x;
    v[1] = f.y;
    v[2] = f.z;
    v[3] = f.w;
}

/** The forward four columns a lane (16 bytes of x, 8 of each output) when d % 4 == 0. */
__global__ void layer_norm_forward_vec_kernel(const float *x, const float *w1, const float *b1, const float *w2,
                                              const float *b2, bf16 *out1, bf16 *out2, float *mean, float *rstd,
                                              int64_t rows, int64_t d, float eps) {
    int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float4 *xr = reinterpret_cast<const float4 *>(x + row * d);
    int64_t n4 = d / 4;
    float sum = 0.f;
    for (int64_t i = lane; i < n4; i += 32) {
        float4 f = xr[i];
        sum += (f.x + f.y) + (f.z + f.w);
    }
    float mu = warp_sum(sum) / static_cast<float>(d);
    float squares = 0.f;
    for (int64_t i = lane; i < n4; i += 32) {
        float v[4];
        unpack(xr[i], v);
#pragma unroll
        for (int k = 0; k < 4; k++) squares += (v[k] - mu) * (v[k] - mu);
    }
    float r = rsqrtf(warp_sum(squares) / static_cast<float>(d) + eps);
    for (int64_t i = lane; i < n4; i += 32) {
        float v[4], w[4], b[4], o[4];
        unpack(xr[i], v);
#pragma unroll
        for (int k = 0; k < 4; k++) v[k] = (v[k] - mu) * r;
        unpack(reinterpret_cast<const float4 *>(w1)[i], w);
        unpack(reinterpret_cast<const float4 *>(b1)[i], b);
#pragma unroll
        for (int k = 0; k < 4; k++) o[k] = v[k] * w[k] + b[k];
        store4(out1 + row * d + 4 * i, o);
        if (out2 != nullptr) {
            unpack(reinterpret_cast<const float4 *>(w2)[i], w);
            unpack(reinterpret_cast<const float4 *>(b2)[i], b);
#pragma unroll
            for (int k = 0; k < 4; k++) o[k] = v[k] * w[k] + b[k];
            store4(out2 + row * d + 4 * i, o);
        }
    }
    if (lane == 0) {
        mean[row] = mu;
        rstd[row] = r;
    }
}

/** g = Σ_i grad_out_i·w_i for four columns. */
__device__ __forceinline__ void weighted4(const bf16 *g1, const bf16 *g2, const float *w1, const float *w2, int64_t i,
                                          float g[4]) {
    float a[4], w[4];
    load4(g1 + 4 * i, a);
    unpack(reinterpret_cast<const float4 *>(w1)[i], w);
#pragma unroll
    for (int k = 0; k < 4; k++) g[k] = a[k] * w[k];
    if (g2 != nullptr) {
        load4(g2 + 4 * i, a);
        unpack(reinterpret_cast<const float4 *>(w2)[i], w);
#pragma unroll
        for (int k = 0; k < 4; k++) g[k] += a[k] * w[k];
    }
}

__global__ void layer_norm_backward_input_vec_kernel(const float *x, const float *mean, const float *rstd, const float *w1,
                                                     const float *w2, const bf16 *grad_out1, const bf16 *grad_out2,
                                                     float *grad_x, int64_t rows, int64_t d) {
    int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float4 *xr = reinterpret_cast<const float4 *>(x + row * d);
    const bf16 *g1 = grad_out1 + row * d, *g2 = grad_out2 != nullptr ? grad_out2 + row * d : nullptr;
    float mu = mean[row], r = rstd[row];
    int64_t n4 = d / 4;
    float sum_g = 0.f, sum_gx = 0.f;
    for (int64_t i = lane; i < n4; i += 32) {
        float v[4], g[4];
        unpack(xr[i], v);
        weighted4(g1, g2, w1, w2, i, g);
#pragma unroll
        for (int k = 0; k < 4; k++) {
            sum_g += g[k];
            sum_gx += g[k] * (v[k] - mu) * r;
        }
    }
    float mean_g = warp_sum(sum_g) / static_cast<float>(d), mean_gx = warp_sum(sum_gx) / static_cast<float>(d);
    float4 *out = reinterpret_cast<float4 *>(grad_x + row * d);
    for (int64_t i = lane; i < n4; i += 32) {
        float v[4], g[4];
        unpack(xr[i], v);
        weighted4(g1, g2, w1, w2, i, g);
#pragma unroll
        for (int k = 0; k < 4; k++) v[k] = r * (g[k] - mean_g - (v[k] - mu) * r * mean_gx);
        out[i] = make_float4(v[0], v[1], v[2], v[3]);
    }
}

constexpr int PARAM_ROWS = 8;  // threads down a column tile

/** Block (32 columns × 8): one chunk of rows for 32 columns; partial sums per chunk, no atomics. */
__global__ void layer_norm_backward_params_kernel(const float *x, const float *mean, const float *rstd,
                                                  const bf16 *grad_out, float *partial_w, float *partial_b, int64_t rows,
                                                  int64_t d, int64_t chunk_rows) {
    int64_t c = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
    int64_t first = static_cast<int64_t>(blockIdx.y) * chunk_rows;
    int64_t last = first + chunk_rows < rows ? first + chunk_rows : rows;
    float acc_w = 0.f, acc_b = 0.f;
    if (c < d) {
        for (int64_t r = first + threadIdx.y; r < last; r += PARAM_ROWS) {
            float g = __bfloat162float(grad_out[r * d + c]);
            acc_w += g * (x[r * d + c] - mean[r]) * rstd[r];
            acc_b += g;
        }
    }
    __shared__ float sw[PARAM_ROWS][33], sb[PARAM_ROWS][33];
    sw[threadIdx.y][threadIdx.x] = acc_w;
    sb[threadIdx.y][threadIdx.x] = acc_b;
    __syncthreads();
    if (threadIdx.y == 0 && c < d) {
        float total_w = 0.f, total_b = 0.f;
        for (int y = 0; y < PARAM_ROWS; y++) {
            total_w += sw[y][threadIdx.x];
            total_b += sb[y][threadIdx.x];
        }
        partial_w[blockIdx.y * d + c] = total_w;
        partial_b[blockIdx.y * d + c] = total_b;
    }
}

// ---- residual ------------------------------------------------------------------------------------

/** Four elements a thread (16 bytes of x, 8 of each branch) when the pointers allow. */
__global__ void residual_add4_kernel(const float4 *x, const uint2 *a, const uint2 *m, float4 *out, int64_t n4) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n4;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        float4 xv = x[i];
        uint2 ar = a[i], mr = m[i];
        const bf16 *av = reinterpret_cast<const bf16 *>(&ar), *mv = reinterpret_cast<const bf16 *>(&mr);
        xv.x = (xv.x + __bfloat162float(av[0])) + __bfloat162float(mv[0]);
        xv.y = (xv.y + __bfloat162float(av[1])) + __bfloat162float(mv[1]);
        xv.z = (xv.z + __bfloat162float(av[2])) + __bfloat162float(mv[2]);
        xv.w = (xv.w + __bfloat162float(av[3])) + __bfloat162float(mv[3]);
        out[i] = xv;
    }
}

__global__ void residual_add_kernel(const float *x, const bf16 *a, const bf16 *m, float *out, int64_t n) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        out[i] = (x[i] + __bfloat162float(a[i])) + __bfloat162float(m[i]);
    }
}

}  // namespace

void cross_entropy_forward(const uint16_t *logits, const int64_t *targets, float *row_loss, float *lse, int64_t rows,
                           int64_t vocab, void *stream) {
    if (rows == 0) return;
    bool vectorized = vocab % 8 == 0 && aligned16(logits);
    cross_entropy_forward_kernel<<<static_cast<unsigned>(rows), THREADS, 0, as_stream(stream)>>>(
        reinterpret_cast<const bf16 *>(logits), targets, row_loss, lse, vocab, vectorized);
    check("cross_entropy_forward");
}

void cross_entropy_backward(const uint16_t *logits, const int64_t *targets, const float *lse, const float *grad_loss,
                            float scale, uint16_t *grad_logits, int64_t rows, int64_t vocab, void *stream) {
    if (rows == 0) return;
    bool vectorized = vocab % 8 == 0 && aligned16(logits) && aligned16(grad_logits);
    cross_entropy_backward_kernel<<<static_cast<unsigned>(rows), THREADS, 0, as_stream(stream)>>>(
        reinterpret_cast<const bf16 *>(logits), targets, lse, grad_loss, scale, reinterpret_cast<bf16 *>(grad_logits), vocab,
        vectorized);
    check("cross_entropy_backward");
}

void rotary_qkv_forward(const uint16_t *qkv, const float *cos, const float *sin, uint16_t *q, uint16_t *k, uint16_t *v,
                        int64_t batch, int64_t seq, int64_t heads, int64_t head_dim, int64_t rot, void *stream) {
    if (batch * seq * heads * head_dim == 0) return;
    if (head_dim % 8 == 0 && rot % 16 == 0 && aligned16(qkv) && aligned16(q) && aligned16(k) && aligned16(v)) {
        rotary_qkv_forward_vec_kernel<<<static_cast<unsigned>(batch * seq), THREADS, 0, as_stream(stream)>>>(
            reinterpret_cast<const bf16 *>(qkv), cos, sin, reinterpret_cast<bf16 *>(q), reinterpret_cast<bf16 *>(k),
            reinterpret_cast<bf16 *>(v), static_cast<int>(seq), static_cast<int>(heads), static_cast<int>(head_dim),
            static_cast<int>(rot));
        check("rotary_qkv_forward");
        return;
    }
    rotary_qkv_forward_kernel<<<static_cast<unsigned>(batch * seq), THREADS, 0, as_stream(stream)>>>(
        reinterpret_cast<const bf16 *>(qkv), cos, sin, reinterpret_cast<bf16 *>(q), reinterpret_cast<bf16 *>(k),
        reinterpret_cast<bf16 *>(v), static_cast<int>(seq), static_cast<int>(heads), static_cast<int>(head_dim),
        static_cast<int>(rot));
    check("rotary_qkv_forward");
}

void rotary_qkv_backward(const uint16_t *grad_q, const uint16_t *grad_k, const uint16_t *grad_v, const float *cos,
                         const float *sin, uint16_t *grad_qkv, int64_t batch, int64_t seq, int64_t heads, int64_t head_dim,
                         int64_t rot, void *stream) {
    if (batch * seq * heads * head_dim == 0) return;
    if (head_dim % 8 == 0 && rot % 16 == 0 && aligned16(grad_q) && aligned16(grad_k) && aligned16(grad_v) &&
        aligned16(grad_qkv)) {
        rotary_qkv_backward_vec_kernel<<<static_cast<unsigned>(batch * seq), THREADS, 0, as_stream(stream)>>>(
            reinterpret_cast<const bf16 *>(grad_q), reinterpret_cast<const bf16 *>(grad_k),
            reinterpret_cast<const bf16 *>(grad_v), cos, sin, reinterpret_cast<bf16 *>(grad_qkv), static_cast<int>(seq),
            static_cast<int>(heads), static_cast<int>(head_dim), static_cast<int>(rot));
        check("rotary_qkv_backward");
        return;
    }
    rotary_qkv_backward_kernel<<<static_cast<unsigned>(batch * seq), THREADS, 0, as_stream(stream)>>>(
        reinterpret_cast<const bf16 *>(grad_q), reinterpret_cast<const bf16 *>(grad_k), reinterpret_cast<const bf16 *>(grad_v),
        cos, sin, reinterpret_cast<bf16 *>(grad_qkv), static_cast<int>(seq), static_cast<int>(heads),
        static_cast<int>(head_dim), static_cast<int>(rot));
    check("rotary_qkv_backward");
}

void layer_norm_forward(const float *x, const float *w1, const float *b1, const float *w2, const float *b2, uint16_t *out1,
                        uint16_t *out2, float *mean, float *rstd, int64_t rows, int64_t d, float eps, void *stream) {
    if (rows == 0) return;
    unsigned rows_per_block = THREADS / 32, blocks = static_cast<unsigned>((rows + rows_per_block - 1) / rows_per_block);
    bool two = w2 != nullptr;
    if (d % 4 == 0 && aligned16(x) && aligned16(w1) && aligned16(b1) && aligned8(out1) &&
        (!two || (aligned16(w2) && aligned16(b2) && aligned8(out2)))) {
        layer_norm_forward_vec_kernel<<<blocks, THREADS, 0, as_stream(stream)>>>(
            x, w1, b1, w2, b2, reinterpret_cast<bf16 *>(out1), reinterpret_cast<bf16 *>(out2), mean, rstd, rows, d, eps);
        check("layer_norm_forward");
        return;
    }
    layer_norm_forward_kernel<<<blocks, THREADS, 0, as_stream(stream)>>>(x, w1, b1, w2, b2, reinterpret_cast<bf16 *>(out1),
                                                                        reinterpret_cast<bf16 *>(out2), mean, rstd, rows, d, eps);
    check("layer_norm_forward");
}

void layer_norm_backward_input(const float *x, const float *mean, const float *rstd, const float *w1, const float *w2,
                               const uint16_t *grad_out1, const uint16_t *grad_out2, float *grad_x, int64_t rows, int64_t d,
                               void *stream) {
    if (rows == 0) return;
    unsigned rows_per_block = THREADS / 32, blocks = static_cast<unsigned>((rows + rows_per_block - 1) / rows_per_block);
    bool two = w2 != nullptr;
    if (d % 4 == 0 && aligned16(x) && aligned16(w1) && aligned8(grad_out1) && aligned16(grad_x) &&
        (!two || (aligned16(w2) && aligned8(grad_out2)))) {
        layer_norm_backward_input_vec_kernel<<<blocks, THREADS, 0, as_stream(stream)>>>(
            x, mean, rstd, w1, w2, reinterpret_cast<const bf16 *>(grad_out1), reinterpret_cast<const bf16 *>(grad_out2),
            grad_x, rows, d);
        check("layer_norm_backward_input");
        return;
    }
    layer_norm_backward_input_kernel<<<blocks, THREADS, 0, as_stream(stream)>>>(
        x, mean, rstd, w1, w2, reinterpret_cast<const bf16 *>(grad_out1), reinterpret_cast<const bf16 *>(grad_out2), grad_x,
        rows, d);
    check("layer_norm_backward_input");
}

void layer_norm_backward_params(const float *x, const float *mean, const float *rstd, const uint16_t *grad_out,
                                float *partial_w, float *partial_b, int64_t rows, int64_t d, int64_t chunk_rows,
                                void *stream) {
    if (rows == 0) return;
    dim3 grid(static_cast<unsigned>((d + 31) / 32), static_cast<unsigned>((rows + chunk_rows - 1) / chunk_rows));
    dim3 block(32, PARAM_ROWS);
    layer_norm_backward_params_kernel<<<grid, block, 0, as_stream(stream)>>>(
        x, mean, rstd, reinterpret_cast<const bf16 *>(grad_out), partial_w, partial_b, rows, d, chunk_rows);
    check("layer_norm_backward_params");
}

void residual_add(const float *x, const uint16_t *a, const uint16_t *m, float *out, int64_t n, void *stream) {
    if (n == 0) return;
    if (n % 4 == 0 && aligned16(x) && aligned16(out) && (reinterpret_cast<uintptr_t>(a) & 7) == 0 &&
        (reinterpret_cast<uintptr_t>(m) & 7) == 0) {
        residual_add4_kernel<<<grid_for(n / 4), THREADS, 0, as_stream(stream)>>>(
            reinterpret_cast<const float4 *>(x), reinterpret_cast<const uint2 *>(a), reinterpret_cast<const uint2 *>(m),
            reinterpret_cast<float4 *>(out), n / 4);
    } else {
        residual_add_kernel<<<grid_for(n), THREADS, 0, as_stream(stream)>>>(x, reinterpret_cast<const bf16 *>(a),
                                                                            reinterpret_cast<const bf16 *>(m), out, n);
    }
    check("residual_add");
}

}  // namespace cpt::cuda
