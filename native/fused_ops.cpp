// The fused ops of fused_ops.h: an autograd function each, forward and backward side by side, the
// CUDA kernels on the GPU and the same formulas as tensor ops on the CPU.
#include "fused_ops.h"

#ifdef CPT_WITH_FUSED_KERNELS
#include <c10/cuda/CUDAStream.h>

#include "fused_kernels.h"
#endif

#include <stdexcept>
#include <string>

namespace cpt::fused {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

bool cuda_kernels_built() {
#ifdef CPT_WITH_FUSED_KERNELS
    return true;
#else
    return false;
#endif
}

namespace {

#ifdef CPT_WITH_FUSED_KERNELS
void *stream() { return at::cuda::getCurrentCUDAStream().stream(); }
const uint16_t *bf16_ptr(const Tensor &t) { return reinterpret_cast<const uint16_t *>(t.data_ptr<at::BFloat16>()); }
uint16_t *bf16_mut(Tensor &t) { return reinterpret_cast<uint16_t *>(t.data_ptr<at::BFloat16>()); }
#endif

/** The CUDA path's preconditions: a kernel reads raw memory, so dtype and layout are checked first. */
void require_cuda(const Tensor &t, at::ScalarType dtype, const char *what) {
#ifdef CPT_WITH_FUSED_KERNELS
    TORCH_CHECK(t.scalar_type() == dtype, "fused op: ", what, " must be ", c10::toString(dtype), ", not ",
                c10::toString(t.scalar_type()));
    TORCH_CHECK(t.is_contiguous(), "fused op: ", what, " must be contiguous");
#else
    throw std::runtime_error(std::string("fused op on CUDA: this build of the shim has no CUDA kernels (") + what + ")");
#endif
}

Tensor or_zeros(const Tensor &grad, const Tensor &like) { return grad.defined() ? grad : torch::zeros_like(like); }

// ---- cross-entropy -------------------------------------------------------------------------------

struct CrossEntropy : public torch::autograd::Function<CrossEntropy> {
    static Tensor forward(AutogradContext *ctx, Tensor logits, Tensor targets) {
        TORCH_CHECK(logits.dim() == 2 && targets.dim() == 1 && targets.size(0) == logits.size(0),
                    "fused cross_entropy: logits [N, V] and targets [N] expected");
        Tensor lse, loss;
        if (logits.is_cuda()) {
            require_cuda(logits, at::kBFloat16, "logits");
            require_cuda(targets, at::kLong, "targets");
#ifdef CPT_WITH_FUSED_KERNELS
            auto fp32 = logits.options().dtype(at::kFloat);
            lse = torch::empty({logits.size(0)}, fp32);
            auto row_loss = torch::empty({logits.size(0)}, fp32);
            cpt::cuda::cross_entropy_forward(bf16_ptr(logits), targets.data_ptr<int64_t>(), row_loss.data_ptr<float>(),
                                             lse.data_ptr<float>(), logits.size(0), logits.size(1), stream());
            loss = row_loss.mean();
#endif
        } else {
            auto z = logits.to(at::kFloat);
            lse = z.logsumexp(1);
            loss = (lse - z.gather(1, targets.unsqueeze(1)).squeeze(1)).mean();
        }
        ctx->save_for_backward({logits, targets});
        ctx->saved_data["lse"] = lse;
        return loss;
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        Tensor logits = saved[0], targets = saved[1], lse = ctx->saved_data["lse"].toTensor();
        int64_t n = logits.size(0);
        Tensor grad_loss = grads[0].to(at::kFloat).contiguous(), grad_logits;
        if (logits.is_cuda()) {
#ifdef CPT_WITH_FUSED_KERNELS
            grad_logits = torch::empty_like(logits);
            // The upstream gradient stays on the device: no wait for it.
            cpt::cuda::cross_entropy_backward(bf16_ptr(logits), targets.data_ptr<int64_t>(), lse.data_ptr<float>(),
                                              grad_loss.data_ptr<float>(), 1.0f / static_cast<float>(n), bf16_mut(grad_logits),
                                              n, logits.size(1), stream());
#endif
        } else {
            auto p = (logits.to(at::kFloat) - lse.unsqueeze(1)).exp();
            p.scatter_add_(1, targets.unsqueeze(1), -torch::ones({n, 1}, p.options()));
            grad_logits = (p * (grad_loss / static_cast<double>(n))).to(logits.scalar_type());
        }
        return {grad_logits, Tensor()};
    }
};

// ---- rotary embedding and the q/k/v layout -------------------------------------------------------

struct RotaryQkv : public torch::autograd::Function<RotaryQkv> {
    static variable_list forward(AutogradContext *ctx, Tensor qkv, Tensor cos, Tensor sin, int64_t heads) {
        TORCH_CHECK(qkv.dim() == 3 && qkv.size(2) % (3 * heads) == 0, "fused rotary_qkv: qkv [B, T, 3·H·hd] expected");
        int64_t b = qkv.size(0), t = qkv.size(1), d = qkv.size(2) / 3, hd = d / heads, rot = cos.size(1);
        TORCH_CHECK(rot % 2 == 0 && rot <= hd && cos.size(0) >= t, "fused rotary_qkv: tables do not fit the heads");
        variable_list out;
        if (qkv.is_cuda()) {
            require_cuda(qkv, at::kBFloat16, "qkv");
            require_cuda(cos, at::kFloat, "cos");
            require_cuda(sin, at::kFloat, "sin");
#ifdef CPT_WITH_FUSED_KERNELS
            for (int i = 0; i < 3; i++) out.push_back(torch::empty({b, heads, t, hd}, qkv.options()));
            cpt::cuda::rotary_qkv_forward(bf16_ptr(qkv), cos.data_ptr<float>(), sin.data_ptr<float>(), bf16_mut(out[0]),
                                          bf16_mut(out[1]), bf16_mut(out[2]), b, t, heads, hd, rot, stream());
#endif
        } else {
            int64_t half = rot / 2;
            auto c = cos.narrow(0, 0, t).to(qkv.scalar_type()), s = sin.narrow(0, 0, t).to(qkv.scalar_type());
            for (int which = 0; which < 3; which++) {
                auto x = qkv.narrow(2, which * d, d).reshape({b, t, heads, hd}).transpose(1, 2);  // [B, H, T, hd]
                if (which < 2) {
                    auto x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half), rest = x.narrow(-1, rot, hd - rot);
                    x = torch::cat({x1 * c.narrow(1, 0, half) - x2 * s.narrow(1, 0, half),
                                    x2 * c.narrow(1, half, half) + x1 * s.narrow(1, half, half), rest},
                                   -1);
                }
                out.push_back(x.contiguous());
            }
        }
        ctx->save_for_backward({cos, sin});
        ctx->saved_data["shape"] = std::vector<int64_t>{b, t, heads, hd};
        return out;
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        Tensor cos = saved[0], sin = saved[1];
        auto shape = ctx->saved_data["shape"].toIntVector();
        int64_t b = shape[0], t = shape[1], heads = shape[2], hd = shape[3], d = heads * hd, rot = cos.size(1);
        Tensor grad_qkv;
        if (cos.is_cuda()) {
#ifdef CPT_WITH_FUSED_KERNELS
            auto options = cos.options().dtype(at::kBFloat16);
            variable_list g;
            for (int i = 0; i < 3; i++) {
                g.push_back(grads[i].defined() ? grads[i].to(at::kBFloat16).contiguous() : torch::zeros({b, heads, t, hd}, options));
            }
            grad_qkv = torch::empty({b, t, 3 * d}, options);
            cpt::cuda::rotary_qkv_backward(bf16_ptr(g[0]), bf16_ptr(g[1]), bf16_ptr(g[2]), cos.data_ptr<float>(),
                                           sin.data_ptr<float>(), bf16_mut(grad_qkv), b, t, heads, hd, rot, stream());
#endif
        } else {
            int64_t half = rot / 2;
            auto dtype = grads[0].defined() ? grads[0].scalar_type() : at::kFloat;
            auto c = cos.narrow(0, 0, t).to(dtype), s = sin.narrow(0, 0, t).to(dtype);
            variable_list parts;
            for (int which = 0; which < 3; which++) {
                auto g = grads[which].defined() ? grads[which] : torch::zeros({b, heads, t, hd}, cos.options().dtype(dtype));
                if (which < 2) {
                    auto g1 = g.narrow(-1, 0, half), g2 = g.narrow(-1, half, half), rest = g.narrow(-1, rot, hd - rot);
                    g = torch::cat({g1 * c.narrow(1, 0, half) + g2 * s.narrow(1, half, half),
                                    g2 * c.narrow(1, half, half) - g1 * s.narrow(1, 0, half), rest},
                                   -1);
                }
                parts.push_back(g.transpose(1, 2).reshape({b, t, d}));
            }
            grad_qkv = torch::cat(parts, 2);
        }
        return {grad_qkv, Tensor(), Tensor(), Tensor()};
    }
};

// ---- LayerNorm -----------------------------------------------------------------------------------

constexpr int64_t PARAM_CHUNK_ROWS = 256;

struct LayerNorms : public torch::autograd::Function<LayerNorms> {
    /** With two == false, (w2, b2) are (w1, b1) again and get no gradient. */
    static variable_list forward(AutogradContext *ctx, Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, bool two,
                                 int64_t out_dtype, double eps) {
        auto dtype = static_cast<at::ScalarType>(out_dtype);
        Tensor mean, rstd;
        variable_list out;
        if (x.is_cuda()) {
            require_cuda(x, at::kFloat, "x");
            TORCH_CHECK(dtype == at::kBFloat16, "fused layer_norms on CUDA write bf16");
            for (auto *w : {&w1, &b1, &w2, &b2}) require_cuda(*w, at::kFloat, "weight or bias");
#ifdef CPT_WITH_FUSED_KERNELS
            int64_t d = x.size(-1), rows = x.numel() / d;
            mean = torch::empty({rows}, x.options());
            rstd = torch::empty({rows}, x.options());
            out.push_back(torch::empty(x.sizes(), x.options().dtype(dtype)));
            if (two) out.push_back(torch::empty(x.sizes(), x.options().dtype(dtype)));
            cpt::cuda::layer_norm_forward(x.data_ptr<float>(), w1.data_ptr<float>(), b1.data_ptr<float>(),
                                          two ? w2.data_ptr<float>() : nullptr, two ? b2.data_ptr<float>() : nullptr,
                                          bf16_mut(out[0]), two ? bf16_mut(out[1]) : nullptr, mean.data_ptr<float>(),
                                          rstd.data_ptr<float>(), rows, d, static_cast<float>(eps), stream());
#endif
        } else {
            mean = x.mean(-1, true);
            rstd = ((x - mean).pow(2).mean(-1, true) + eps).rsqrt();
            auto xhat = (x - mean) * rstd;
            out.push_back((xhat * w1 + b1).to(dtype));
            if (two) out.push_back((xhat * w2 + b2).to(dtype));
        }
        ctx->save_for_backward({x, w1, w2});
        ctx->saved_data["mean"] = mean;
        ctx->saved_data["rstd"] = rstd;
        ctx->saved_data["two"] = two;
        return out;
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        Tensor x = saved[0], w1 = saved[1], w2 = saved[2];
        Tensor mean = ctx->saved_data["mean"].toTensor(), rstd = ctx->saved_data["rstd"].toTensor();
        bool two = ctx->saved_data["two"].toBool();
        int64_t d = x.size(-1), rows = x.numel() / d;
        Tensor gx, gw1, gb1, gw2, gb2;
        if (x.is_cuda()) {
#ifdef CPT_WITH_FUSED_KERNELS
            auto options = x.options().dtype(at::kBFloat16);
            auto g1 = grads[0].defined() ? grads[0].to(at::kBFloat16).contiguous() : torch::zeros(x.sizes(), options);
            Tensor g2;
            if (two) g2 = grads[1].defined() ? grads[1].to(at::kBFloat16).contiguous() : torch::zeros(x.sizes(), options);
            gx = torch::empty_like(x);
            cpt::cuda::layer_norm_backward_input(x.data_ptr<float>(), mean.data_ptr<float>(), rstd.data_ptr<float>(),
                                                 w1.data_ptr<float>(), two ? w2.data_ptr<float>() : nullptr, bf16_ptr(g1),
                                                 two ? bf16_ptr(g2) : nullptr, gx.data_ptr<float>(), rows, d, stream());
            int64_t chunks = (rows + PARAM_CHUNK_ROWS - 1) / PARAM_CHUNK_ROWS;
            auto params = [&](const Tensor &g, Tensor &gw, Tensor &gb) {
                auto partial_w = torch::empty({chunks, d}, x.options()), partial_b = torch::empty({chunks, d}, x.options());
                cpt::cuda::layer_norm_backward_params(x.data_ptr<float>(), mean.data_ptr<float>(), rstd.data_ptr<float>(),
                                                      bf16_ptr(g), partial_w.data_ptr<float>(), partial_b.data_ptr<float>(),
                                                      rows, d, PARAM_CHUNK_ROWS, stream());
                gw = partial_w.sum(0);
                gb = partial_b.sum(0);
            };
            params(g1, gw1, gb1);
            if (two) params(g2, gw2, gb2);
#endif
        } else {
            auto xhat = (x - mean) * rstd;
            auto g1 = or_zeros(grads[0], x).to(x.scalar_type());
            auto g = g1 * w1;
            gw1 = (g1 * xhat).reshape({rows, d}).sum(0);
            gb1 = g1.reshape({rows, d}).sum(0);
            if (two) {
                auto g2 = or_zeros(grads[1], x).to(x.scalar_type());
                g = g + g2 * w2;
                gw2 = (g2 * xhat).reshape({rows, d}).sum(0);
                gb2 = g2.reshape({rows, d}).sum(0);
            }
            gx = rstd * (g - g.mean(-1, true) - xhat * (g * xhat).mean(-1, true));
        }
        return {gx, gw1, gb1, gw2, gb2, Tensor(), Tensor(), Tensor()};
    }
};

// ---- residual ------------------------------------------------------------------------------------

struct ResidualAdd : public torch::autograd::Function<ResidualAdd> {
    static Tensor forward(AutogradContext *ctx, Tensor x, Tensor a, Tensor m) {
        TORCH_CHECK(x.sizes() == a.sizes() && x.sizes() == m.sizes(), "fused residual_add: shapes differ");
        ctx->saved_data["a_dtype"] = static_cast<int64_t>(a.scalar_type());
        ctx->saved_data["m_dtype"] = static_cast<int64_t>(m.scalar_type());
        if (!x.is_cuda()) return x + a + m;
        require_cuda(x, at::kFloat, "x");
        require_cuda(a, at::kBFloat16, "a");
        require_cuda(m, at::kBFloat16, "m");
        Tensor out = torch::empty_like(x);
#ifdef CPT_WITH_FUSED_KERNELS
        cpt::cuda::residual_add(x.data_ptr<float>(), bf16_ptr(a), bf16_ptr(m), out.data_ptr<float>(), x.numel(), stream());
#endif
        return out;
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        auto a_dtype = static_cast<at::ScalarType>(ctx->saved_data["a_dtype"].toInt());
        auto m_dtype = static_cast<at::ScalarType>(ctx->saved_data["m_dtype"].toInt());
        Tensor g = grads[0], ga = g.to(a_dtype);  // one cast for both branches when they share a dtype
        return {g, ga, m_dtype == a_dtype ? ga : g.to(m_dtype)};
    }
};

}  // namespace

Tensor cross_entropy(const Tensor &logits, const Tensor &targets) { return CrossEntropy::apply(logits, targets); }

std::vector<Tensor> rotary_qkv(const Tensor &qkv, const Tensor &cos, const Tensor &sin, int64_t heads) {
    return RotaryQkv::apply(qkv, cos, sin, heads);
}

std::vector<Tensor> layer_norms(const Tensor &x, const Tensor &w1, const Tensor &b1, const Tensor &w2, const Tensor &b2,
                                at::ScalarType out_dtype, double eps) {
    bool two = w2.defined();
    return LayerNorms::apply(x.contiguous(), w1, b1, two ? w2 : w1, two ? b2 : b1, two, static_cast<int64_t>(out_dtype), eps);
}

Tensor residual_add(const Tensor &x, const Tensor &a, const Tensor &m) {
    return ResidualAdd::apply(x.contiguous(), a.contiguous(), m.contiguous());
}

}  // namespace cpt::fused
