// cpt's torch engine: the gpt2, neox and mpt models, AdamW and checkpoints over libtorch, behind the C
// API of cpt_torch.h. Every entry point catches every C++ exception (see guarded()).
#include "cpt_torch.h"

#include "distributed.h"
#include "fused_ops.h"

#include <torch/torch.h>
#include <torch/version.h>
#include <ATen/autocast_mode.h>
#ifdef CPT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

// torch.optim.AdamW(fused=True)'s kernel and the foreach norms exist from libtorch 2.1; before that
// (Debian's 1.13) and on the CPU the optimizer runs as one loop of tensor ops per parameter.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define CPT_FUSED_ADAMW 1
#endif

namespace {

thread_local std::string last_error;

struct ArgumentError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct DeviceError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct IoError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <typename F>
int32_t guarded(F &&body) {
    try {
        body();
        last_error.clear();
        return CPT_OK;
    } catch (const ArgumentError &e) {
        last_error = e.what();
        return CPT_ERR_ARGUMENT;
    } catch (const DeviceError &e) {
        last_error = e.what();
        return CPT_ERR_DEVICE;
    } catch (const IoError &e) {
        last_error = e.what();
        return CPT_ERR_IO;
    } catch (const cpt::DistributedError &e) {
        last_error = e.what();
        return CPT_ERR_DISTRIBUTED;
    } catch (const std::invalid_argument &e) {
        last_error = e.what();
        return CPT_ERR_ARGUMENT;
    } catch (const c10::Error &e) {
        last_error = e.what_without_backtrace();
        return CPT_ERR_TORCH;
    } catch (const std::exception &e) {
        last_error = e.what();
        return CPT_ERR_INTERNAL;
    } catch (...) {
        last_error = "unknown C++ exception";
        return CPT_ERR_INTERNAL;
    }
}

void require(bool ok, const std::string &message) {
    if (!ok) throw ArgumentError(message);
}

}  // namespace

struct cpt_model {
    cpt_model_config config;
    torch::Device device{torch::kCPU};
    std::vector<std::string> names;
    std::unordered_map<std::string, int> by_name;
    std::vector<torch::Tensor> params;  // in names' order (ZeRO-3: defined only while their unit is gathered)
    std::vector<std::vector<int64_t>> shapes;
    std::vector<bool> decay;            // AdamW decays embeddings and linear weights, not biases or norms
    std::vector<torch::Tensor> exp_avg, exp_avg_sq;
    std::vector<torch::Tensor> steps;  // the fused kernel's per-tensor step counts (float, on the device)
    int64_t step = 0;
    torch::Tensor rotary_cos, rotary_sin;  // neox
    torch::Tensor alibi_slopes;            // mpt: [heads], fp32 on the device
    // mpt: the last ALiBi + causal bias made (its length and dtype), shared by every layer's attention,
    // so that the autograd graph keeps one, not one a layer (32 × 268 MB at LBS-7B's shape in bf16).
    mutable torch::Tensor alibi_bias;
    // Several ranks (cpt_model_distribute): gradient buckets, and with ZeRO >= 1 the moments of this
    // rank's shard, which then replace exp_avg and exp_avg_sq (left empty).
    std::unique_ptr<cpt::DataParallel> dp;

    bool sharded_optimizer() const { return dp && dp->zero_stage() >= 1; }
    bool sharded_weights() const { return dp && dp->zero_stage() == 3; }

    int64_t numel(size_t i) const {
        int64_t n = 1;
        for (auto d : shapes[i]) n *= d;
        return n;
    }

    int index(const std::string &name) const {
        auto it = by_name.find(name);
        if (it == by_name.end()) throw ArgumentError("no tensor \"" + name + "\" in this " + arch_name() + " model");
        return it->second;
    }

    const torch::Tensor &p(const std::string &name) const { return params[index(name)]; }

    std::string arch_name() const {
        return config.arch == CPT_ARCH_GPT2 ? "gpt2" : config.arch == CPT_ARCH_MPT ? "mpt" : "neox";
    }

    void add(const std::string &name, std::vector<int64_t> shape, double std, bool is_bias_or_norm_weight_one = false,
             bool ones = false) {
        auto options = torch::TensorOptions().dtype(torch::kFloat32);
        torch::Tensor t = ones ? torch::ones(shape, options)
                               : is_bias_or_norm_weight_one ? torch::zeros(shape, options) : torch::randn(shape, options) * std;
        by_name[name] = static_cast<int>(names.size());
        names.push_back(name);
        shapes.push_back(shape);
        params.push_back(t.to(device).set_requires_grad(true));
        decay.push_back(shape.size() >= 2);
    }

    void reset_optimizer() {
        exp_avg.clear();
        exp_avg_sq.clear();
        if (sharded_optimizer()) {
            dp->reset_moments();
            set_step(0);
            return;
        }
        for (auto &t : params) {
            exp_avg.push_back(torch::zeros_like(t));
            exp_avg_sq.push_back(torch::zeros_like(t));
        }
        set_step(0);
    }

    void set_step(int64_t s) {
        step = s;
        steps.clear();
        if (!fused()) return;
        for (size_t i = 0; i < params.size(); i++)
            steps.push_back(torch::full({}, static_cast<double>(s), torch::TensorOptions().dtype(torch::kFloat32).device(device)));
    }

    /** Whether AdamW runs as libtorch's fused multi-tensor kernel (CUDA, libtorch >= 2.1). */
    bool fused() const {
#ifdef CPT_FUSED_ADAMW
        return device.is_cuda();
#else
        return false;
#endif
    }
};

namespace {

torch::Tensor layer_norm(const cpt_model &m, const torch::Tensor &x, const std::string &prefix) {
    return at::layer_norm(x, {m.config.d_model}, m.p(prefix + ".weight"), m.p(prefix + ".bias"), m.config.layer_norm_eps);
}

/** The MLP's activation: exact GELU (erf) or its tanh approximation, as the config says. */
torch::Tensor gelu(const cpt_model &m, const torch::Tensor &x) {
    return at::gelu(x, m.config.hidden_act == CPT_ACT_GELU_TANH ? "tanh" : "none");
}

torch::Tensor linear(const cpt_model &m, const torch::Tensor &x, const std::string &prefix) {
    return at::linear(x, m.p(prefix + ".weight"), m.p(prefix + ".bias"));
}

/** Causal self-attention of q, k, v shaped [B, H, T, hd]. */
torch::Tensor attention(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v) {
#if TORCH_VERSION_MAJOR >= 2
    return at::scaled_dot_product_attention(q, k, v, {}, 0.0, true);
#else
    int64_t t = q.size(2);
    auto scores = at::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(3)));
    auto mask = torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).triu(1);
    scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
    return at::matmul(at::softmax(scores, -1), v);
#endif
}

/**
 * Rotary embeddings on the first rotary dims of each head (int(d_head * rotary_pct): Pythia a quarter). The parts
 * are taken with split and chunk, not narrow: their backward is one concatenation, where narrow's
 * is a zero-filled tensor per part plus an add to sum them.
 */
torch::Tensor rotary(const cpt_model &m, const torch::Tensor &x, int64_t t) {
    int64_t rot = m.rotary_cos.size(-1);
    // In the activations' dtype (bf16 under autocast), so that q and k stay bf16 for the attention kernel.
    auto cos = m.rotary_cos.narrow(0, 0, t).to(x.scalar_type()), sin = m.rotary_sin.narrow(0, 0, t).to(x.scalar_type());
    auto parts = x.split_with_sizes({rot, x.size(-1) - rot}, -1);  // the rotated dims, the rest
    auto halves = parts[0].chunk(2, -1);
    auto rotated_half = torch::cat({-halves[1], halves[0]}, -1);
    return torch::cat({parts[0] * cos + rotated_half * sin, parts[1]}, -1);
}

torch::Tensor self_attention(const cpt_model &m, const torch::Tensor &h, const std::string &qkv_name,
                             const std::string &out_name, bool rope) {
    int64_t b = h.size(0), t = h.size(1), d = m.config.d_model, heads = m.config.heads, hd = d / heads;
    // [B, T, 3d]: q, k, v stacked. split, not three narrows: its backward is one concatenation of the
    // three gradients, where narrows' would zero-fill three [B, T, 3d] tensors and add them up
    // (measured: 5% of a 405m step on an H100).
    auto qkv = linear(m, h, qkv_name).split(d, 2);
    auto q = qkv[0].view({b, t, heads, hd}).transpose(1, 2);
    auto k = qkv[1].view({b, t, heads, hd}).transpose(1, 2);
    auto v = qkv[2].view({b, t, heads, hd}).transpose(1, 2);
    if (rope) {
        q = rotary(m, q, t);
        k = rotary(m, k, t);
    }
    auto y = attention(q, k, v).transpose(1, 2).contiguous().view({b, t, d});
    return linear(m, y, out_name);
}

/** Whether the model's forward runs under bf16 autocast (CUDA only). */
bool autocasts(const cpt_model &m) { return m.device.is_cuda() && m.config.precision == CPT_PRECISION_BF16; }

/** The dtype the matrix products read: bf16 under autocast, else fp32. */
at::ScalarType compute_dtype(const cpt_model &m) { return autocasts(m) ? at::kBFloat16 : at::kFloat; }

struct AutocastScope {
    bool on;
    explicit AutocastScope(const cpt_model &m) : AutocastScope(autocasts(m)) {}
    explicit AutocastScope(bool enable) : on(enable) {
        if (!on) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
        at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
        at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
        at::autocast::set_enabled(true);
#endif
    }
    ~AutocastScope() {
        if (!on) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
        at::autocast::set_enabled(false);
#endif
        at::autocast::clear_cache();
    }
};

/*
 * mpt (MosaicML's MPT, SlimPajama-DC's LBS-7B). Names are MptForCausalLM's without "transformer.":
 * wte, blocks.N.{norm_1, attn.Wqkv, attn.out_proj, norm_2, ffn.up_proj, ffn.down_proj}, norm_f; no
 * biases anywhere, the LayerNorms included; the head is wte. Positions come from ALiBi alone.
 */

/** A bias-free LayerNorm. ATen's own kernel (one pass, bias left out): cpt's fused layer_norms kernel wants a bias, so mpt runs eager here. */
torch::Tensor mpt_norm(const cpt_model &m, const torch::Tensor &x, const std::string &prefix) {
    return at::layer_norm(x, {m.config.d_model}, m.p(prefix + ".weight"), {}, m.config.layer_norm_eps);
}

/**
 * MPT's ALiBi slopes (gen_slopes): 2^(-alibi_bias_max * i / n) for i = 1..n over n = the next power
 * of two >= heads; when heads is not a power of two, the odd-indexed ones, then the even-indexed
 * ones, the first heads of those.
 */
torch::Tensor alibi_slopes(int64_t heads, double bias_max) {
    int64_t n = 1;
    while (n < heads) n *= 2;
    auto slopes = 1.0 / torch::pow(2.0, torch::arange(1, n + 1, torch::kFloat64) * (bias_max / static_cast<double>(n)));
    if (n != heads) slopes = torch::cat({slopes.slice(0, 1, n, 2), slopes.slice(0, 0, n, 2)}).slice(0, 0, heads);
    return slopes.to(torch::kFloat32);
}

/**
 * The additive attention bias [1, H, T, T]: slope_h * (j - i) for key j <= query i (ALiBi: minus
 * slope times distance), -inf above the diagonal (causal). MPT adds slope * (j - (T - 1)) instead,
 * which differs by a constant per row that softmax cancels; this form is 0 on the diagonal, where
 * a bf16 bias is most precise.
 */
torch::Tensor alibi_causal_bias(const cpt_model &m, int64_t t, at::ScalarType dtype) {
    const auto &cached = m.alibi_bias;
    if (cached.defined() && cached.size(-1) == t && cached.scalar_type() == dtype) return cached;
    auto options = torch::TensorOptions().dtype(torch::kFloat32).device(m.device);
    auto pos = torch::arange(t, options);
    auto distance = pos.unsqueeze(0) - pos.unsqueeze(1);  // [T, T]: j - i
    auto bias = m.alibi_slopes.view({-1, 1, 1}) * distance.unsqueeze(0);
    bias = bias.masked_fill(distance.unsqueeze(0) > 0, -std::numeric_limits<float>::infinity());
    m.alibi_bias = bias.unsqueeze(0).to(dtype);
    return m.alibi_bias;
}

/** Causal self-attention of q, k, v [B, H, T, hd] with ALiBi: softmax(q k^T / sqrt(hd) + bias) v. */
torch::Tensor alibi_attention(const cpt_model &m, const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v) {
    int64_t t = q.size(2);
#if TORCH_VERSION_MAJOR >= 2
    // SDPA with an additive float mask (in q's dtype, as it requires): the memory-efficient kernel
    // takes an arbitrary bias where flash attention takes none.
    return at::scaled_dot_product_attention(q, k, v, alibi_causal_bias(m, t, q.scalar_type()), 0.0, false);
#else
    // libtorch 1.13 has no SDPA: the scores in eager ops (the fp32 bias promotes them to fp32 for softmax).
    auto scores = at::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(3)));
    scores = scores + alibi_causal_bias(m, t, torch::kFloat32);
    return at::matmul(at::softmax(scores, -1).to(v.scalar_type()), v);
#endif
}

/** mpt's block i: y = x + out_proj(attn(norm_1(x))); y + down_proj(gelu(up_proj(norm_2(y)))), every linear bias-free. */
/**
 * The rest of block i once its attention output {@code a} (projected) is known: x + a and the MLP,
 * sequential (gpt2, mpt, neox without parallel residual) or parallel (neox). block() and
 * cached_block() differ only in how they attend, so they share this.
 */
torch::Tensor block_after_attention(const cpt_model &m, const torch::Tensor &x, const torch::Tensor &a, int i) {
    if (m.config.arch == CPT_ARCH_MPT) {
        std::string l = "blocks." + std::to_string(i);
        auto y = x + a;
        auto h = gelu(m, at::linear(mpt_norm(m, y, l + ".norm_2"), m.p(l + ".ffn.up_proj.weight")));
        return y + at::linear(h, m.p(l + ".ffn.down_proj.weight"));
    }
    if (m.config.arch == CPT_ARCH_GPT2) {
        std::string l = "h." + std::to_string(i);
        auto y = x + a;
        auto h = gelu(m, linear(m, layer_norm(m, y, l + ".ln_2"), l + ".mlp.c_fc"));
        return y + linear(m, h, l + ".mlp.c_proj");
    }
    std::string l = "layers." + std::to_string(i);
    if (!m.config.use_parallel_residual) {
        // sequential: y = x + attn(ln1(x)); y + mlp(ln2(y))
        auto y = x + a;
        auto h = gelu(m, linear(m, layer_norm(m, y, l + ".post_attention_layernorm"), l + ".mlp.dense_h_to_4h"));
        return y + linear(m, h, l + ".mlp.dense_4h_to_h");
    }
    // parallel residual: x + attn(ln1(x)) + mlp(ln2(x))
    auto h = gelu(m, linear(m, layer_norm(m, x, l + ".post_attention_layernorm"), l + ".mlp.dense_h_to_4h"));
    return x + a + linear(m, h, l + ".mlp.dense_4h_to_h");
}

torch::Tensor mpt_block(const cpt_model &m, const torch::Tensor &x, int i) {
    std::string l = "blocks." + std::to_string(i);
    int64_t b = x.size(0), t = x.size(1), d = m.config.d_model, heads = m.config.heads, hd = d / heads;
    auto qkv = at::linear(mpt_norm(m, x, l + ".norm_1"), m.p(l + ".attn.Wqkv.weight")).split(d, 2);  // q, k, v stacked
    auto q = qkv[0].view({b, t, heads, hd}).transpose(1, 2);
    auto k = qkv[1].view({b, t, heads, hd}).transpose(1, 2);
    auto v = qkv[2].view({b, t, heads, hd}).transpose(1, 2);
    auto a = alibi_attention(m, q, k, v).transpose(1, 2).contiguous().view({b, t, d});
    return block_after_attention(m, x, at::linear(a, m.p(l + ".attn.out_proj.weight")), i);
}

/** mpt's parameters in the engine's order, initialised as gpt2's and neox's (norms one, residual projections scaled). */
void add_mpt_parameters(cpt_model &m, double std, double residual) {
    int64_t d = m.config.d_model, v = m.config.vocab_size;
    m.add("wte.weight", {v, d}, std);
    for (int i = 0; i < m.config.layers; i++) {
        std::string p = "blocks." + std::to_string(i);
        m.add(p + ".norm_1.weight", {d}, 0, false, true);
        m.add(p + ".attn.Wqkv.weight", {3 * d, d}, std);
        m.add(p + ".attn.out_proj.weight", {d, d}, residual);
        m.add(p + ".norm_2.weight", {d}, 0, false, true);
        m.add(p + ".ffn.up_proj.weight", {4 * d, d}, std);
        m.add(p + ".ffn.down_proj.weight", {d, 4 * d}, residual);
    }
    m.add("norm_f.weight", {d}, 0, false, true);
    m.alibi_slopes = alibi_slopes(m.config.heads, m.config.alibi_bias_max).to(m.device);
}

/** Block i of the model: x plus its attention and MLP (sequential for gpt2 and mpt, parallel for neox). */
torch::Tensor block(const cpt_model &m, const torch::Tensor &x, int i) {
    if (m.config.arch == CPT_ARCH_MPT) return mpt_block(m, x, i);
    if (m.config.arch == CPT_ARCH_GPT2) {
        std::string l = "h." + std::to_string(i);
        return block_after_attention(m, x, self_attention(m, layer_norm(m, x, l + ".ln_1"), l + ".attn.c_attn", l + ".attn.c_proj", false), i);
    }
    std::string l = "layers." + std::to_string(i);
    if (m.config.fused_kernels && m.config.use_parallel_residual) {
        // The same block through cpt's fused ops: both norms in one pass (bf16 out under autocast),
        // q/k/v laid out and rotated in one, the residual sum in one. The rotary kernel takes its
        // rotated dims from the tables' width, so any even int(d_head * rotary_pct) is exact. A
        // sequential block (use_parallel_residual false) has no shared norm input nor three-way sum
        // to fuse: it runs eagerly below, fused or not.
        int64_t b = x.size(0), t = x.size(1), d = m.config.d_model;
        auto n = cpt::fused::layer_norms(x, m.p(l + ".input_layernorm.weight"), m.p(l + ".input_layernorm.bias"),
                                         m.p(l + ".post_attention_layernorm.weight"), m.p(l + ".post_attention_layernorm.bias"),
                                         compute_dtype(m), m.config.layer_norm_eps);
        auto qkv = cpt::fused::rotary_qkv(linear(m, n[0], l + ".attention.query_key_value"), m.rotary_cos, m.rotary_sin,
                                          m.config.heads);
        auto y = attention(qkv[0], qkv[1], qkv[2]).transpose(1, 2).contiguous().view({b, t, d});
        auto h = gelu(m, linear(m, n[1], l + ".mlp.dense_h_to_4h"));
        return cpt::fused::residual_add(x, linear(m, y, l + ".attention.dense"), linear(m, h, l + ".mlp.dense_4h_to_h"));
    }
    auto a = self_attention(m, layer_norm(m, x, l + ".input_layernorm"), l + ".attention.query_key_value",
                            l + ".attention.dense", true);
    return block_after_attention(m, x, a, i);
}

/**
 * Activation checkpointing of one block, as torch.utils.checkpoint (reentrant) does it: the forward
 * keeps only the block's input; the backward runs the block again with gradients on (under autocast
 * if the forward was) and back-propagates through it, which accumulates the block's weight gradients
 * and returns the input's. Memory: one [B, T, d] tensor a layer instead of every intermediate.
 */
struct CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
    static torch::Tensor forward(torch::autograd::AutogradContext *ctx, torch::Tensor x, int64_t model, int64_t layer,
                                 bool autocast) {
        ctx->saved_data["model"] = model;
        ctx->saved_data["layer"] = layer;
        ctx->saved_data["autocast"] = autocast;
        ctx->save_for_backward({x});
        return block(*reinterpret_cast<const cpt_model *>(model), x, static_cast<int>(layer));
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grad_outputs) {
        const auto &m = *reinterpret_cast<const cpt_model *>(ctx->saved_data["model"].toInt());
        auto x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
        torch::Tensor y;
        {
            torch::AutoGradMode grad(true);
            AutocastScope autocast(ctx->saved_data["autocast"].toBool());
            y = block(m, x, static_cast<int>(ctx->saved_data["layer"].toInt()));
        }
        torch::autograd::backward({y}, {grad_outputs[0]});
        return {x.grad(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

/**
 * A block under ZeRO-3, as FSDP runs it with activation checkpointing: the forward gathers the
 * block's weights (prefetching the next block's), runs it without keeping activations and frees the
 * weights; the backward gathers them again (prefetching the previous block's), recomputes the block
 * with gradients, and reduce-scatters its weight gradients into this rank's shard. Recomputing is
 * what lets the gathered weights go: autograd's saved tensors would otherwise hold them.
 */
struct ShardedBlock : public torch::autograd::Function<ShardedBlock> {
    static torch::Tensor forward(torch::autograd::AutogradContext *ctx, torch::Tensor x, int64_t model, int64_t layer,
                                 bool autocast) {
        auto &m = *reinterpret_cast<cpt_model *>(model);
        ctx->saved_data["model"] = model;
        ctx->saved_data["layer"] = layer;
        ctx->saved_data["autocast"] = autocast;
        ctx->save_for_backward({x});
        int unit = static_cast<int>(layer) + 1;
        m.dp->materialize(unit, m.params, m.shapes, false, unit + 1 < m.dp->units() ? unit + 1 : -1);
        auto y = block(m, x, static_cast<int>(layer));
        m.dp->release(unit, m.params);
        return y;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grad_outputs) {
        auto &m = *reinterpret_cast<cpt_model *>(ctx->saved_data["model"].toInt());
        int layer = static_cast<int>(ctx->saved_data["layer"].toInt()), unit = layer + 1;
        auto x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
        m.dp->materialize(unit, m.params, m.shapes, true, unit - 1 >= 1 ? unit - 1 : -1);
        torch::Tensor y;
        {
            torch::AutoGradMode grad(true);
            AutocastScope autocast(ctx->saved_data["autocast"].toBool());
            y = block(m, x, layer);
        }
        std::vector<torch::Tensor> inputs{x};
        for (int i : m.dp->members(unit)) inputs.push_back(m.params[i]);
        auto grads = torch::autograd::grad({y}, inputs, {grad_outputs[0]}, false, false, true);
        m.dp->release(unit, m.params);
        m.dp->reduce_unit_gradients(unit, std::vector<torch::Tensor>(grads.begin() + 1, grads.end()));
        return {grads[0], torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

/** The input of the blocks for token ids idx [B, T] at positions start, start + 1, ...: gpt2 adds its learned positions. */
torch::Tensor embed_tokens(const cpt_model &m, const torch::Tensor &idx, int64_t start) {
    if (m.config.arch == CPT_ARCH_GPT2) {
        auto pos = torch::arange(start, start + idx.size(1), torch::TensorOptions().dtype(torch::kLong).device(m.device));
        return at::embedding(m.p("wte.weight"), idx) + at::embedding(m.p("wpe.weight"), pos);
    }
    // mpt has no position embedding: ALiBi carries the positions inside attention.
    return at::embedding(m.p(m.config.arch == CPT_ARCH_MPT ? "wte.weight" : "embed_in.weight"), idx);
}

/** The head's weight: gpt2's and mpt's wte, neox's embed_in when tied, else its embed_out. */
const torch::Tensor &head_weight(const cpt_model &m) {
    if (m.config.arch != CPT_ARCH_NEOX) return m.p("wte.weight");
    return m.p(m.config.tie_word_embeddings ? "embed_in.weight" : "embed_out.weight");
}

/** Mean next-token cross-entropy of rows [B, T + 1] (int64 on the model's device). */
torch::Tensor forward_loss(const cpt_model &m, const torch::Tensor &rows) {
    int64_t t = rows.size(1) - 1;
    auto idx = rows.narrow(1, 0, t), targets = rows.narrow(1, 1, t);
    bool gpt2 = m.config.arch == CPT_ARCH_GPT2, mpt = m.config.arch == CPT_ARCH_MPT;
    torch::Tensor x = embed_tokens(m, idx, 0);
    bool checkpoint = m.config.activation_checkpointing != 0 && torch::GradMode::is_enabled();
    for (int i = 0; i < m.config.layers; i++) {
        if (m.sharded_weights()) {
            x = ShardedBlock::apply(x, reinterpret_cast<int64_t>(&m), static_cast<int64_t>(i), autocasts(m));
        } else {
            x = checkpoint ? CheckpointedBlock::apply(x, reinterpret_cast<int64_t>(&m), static_cast<int64_t>(i), autocasts(m))
                           : block(m, x, i);
        }
    }
    if (mpt) {
        x = mpt_norm(m, x, "norm_f");
    } else if (m.config.fused_kernels && !gpt2) {
        x = cpt::fused::layer_norms(x, m.p("final_layer_norm.weight"), m.p("final_layer_norm.bias"), torch::Tensor(),
                                    torch::Tensor(), compute_dtype(m), m.config.layer_norm_eps)[0];
    } else {
        x = layer_norm(m, x, gpt2 ? "ln_f" : "final_layer_norm");
    }
    auto logits = at::linear(x, head_weight(m));
    if (m.config.fused_kernels) {
        // Never materialises fp32 logits: the kernels read the bf16 ones, once forward, once backward.
        return cpt::fused::cross_entropy(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}));
    }
    return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}).to(torch::kFloat32), targets.reshape({-1}));
}

/** Checks the tokens against the vocabulary and moves them to the device as int64 rows. */
torch::Tensor rows_of(const cpt_model &m, const int32_t *tokens, int32_t sequences, int32_t seq_len) {
    require(tokens != nullptr, "tokens is null");
    require(sequences > 0, "sequences must be positive, not " + std::to_string(sequences));
    require(seq_len > 0 && seq_len <= m.config.context_length,
            "seq_len " + std::to_string(seq_len) + " is not within [1, " + std::to_string(m.config.context_length) +
                "] (the model's context)");
    int64_t n = static_cast<int64_t>(sequences) * (seq_len + 1);
    for (int64_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= m.config.vocab_size) {
            throw ArgumentError("token " + std::to_string(tokens[i]) + " at row " + std::to_string(i / (seq_len + 1)) +
                                ", position " + std::to_string(i % (seq_len + 1)) + " is outside the vocabulary [0, " +
                                std::to_string(m.config.vocab_size) + ")");
        }
    }
    auto cpu = torch::from_blob(const_cast<int32_t *>(tokens), {sequences, seq_len + 1}, torch::kInt32);
    if (!m.device.is_cuda()) return cpu.to(torch::kLong);
    // Through pinned memory, so that the copy to the GPU is asynchronous: the step's one wait for
    // the device stays the read of its loss. (The caching host allocator keeps the buffer until
    // the copy is done.)
    auto pinned = torch::empty(cpu.sizes(), torch::TensorOptions().dtype(torch::kInt32).pinned_memory(true));
    pinned.copy_(cpu);
    return pinned.to(m.device, /*non_blocking=*/true).to(torch::kLong);
}

/** AdamW as torch.optim.AdamW: decoupled decay, then the bias-corrected Adam step, tensor by tensor. */
void adamw(cpt_model &m, double lr, double weight_decay) {
    double b1 = m.config.beta1, b2 = m.config.beta2;
    double bc1 = 1 - std::pow(b1, static_cast<double>(m.step)), bc2 = 1 - std::pow(b2, static_cast<double>(m.step));
    for (size_t i = 0; i < m.params.size(); i++) {
        auto &p = m.params[i];
        auto &g = p.grad();
        if (m.decay[i] && weight_decay != 0) p.mul_(1 - lr * weight_decay);
        m.exp_avg[i].mul_(b1).add_(g, 1 - b1);
        m.exp_avg_sq[i].mul_(b2).addcmul_(g, g, 1 - b2);
        auto denom = (m.exp_avg_sq[i].sqrt() / std::sqrt(bc2)).add_(m.config.eps);
        p.addcdiv_(m.exp_avg[i], denom, -lr / bc1);
    }
}

/**
 * The same update through torch.optim.AdamW(fused=True)'s kernel: two launches (decayed and
 * undecayed tensors) instead of six per tensor. Like the Python optimizer, the step counts are
 * advanced before the kernel reads them.
 */
void adamw_fused(cpt_model &m, const std::vector<torch::Tensor> &grads, double lr, double weight_decay) {
#ifdef CPT_FUSED_ADAMW
    for (int decayed = 0; decayed < 2; decayed++) {
        std::vector<torch::Tensor> p, g, avg, sq, steps;
        for (size_t i = 0; i < m.params.size(); i++) {
            if (m.decay[i] != (decayed == 1)) continue;
            p.push_back(m.params[i]);
            g.push_back(grads[i]);
            avg.push_back(m.exp_avg[i]);
            sq.push_back(m.exp_avg_sq[i]);
            steps.push_back(m.steps[i]);
        }
        if (p.empty()) continue;
        at::_foreach_add_(steps, 1.0);
        at::_fused_adamw_(p, g, avg, sq, {}, steps, lr, m.config.beta1, m.config.beta2, decayed ? weight_decay : 0.0,
                          m.config.eps, false, false);
    }
#else
    throw std::logic_error("fused AdamW needs libtorch >= 2.1");
#endif
}

/**
 * One step under ZeRO-3 (cpt_train_step's rows of this rank). The parameters outside the blocks
 * (embeddings, final norm, head) stay gathered for the whole step and their gradients accumulate
 * over the micro-batches, reduce-scattered once; each block's are gathered, used and freed inside
 * ShardedBlock, and reduce-scattered after every micro-batch's backward, as FSDP does outside
 * no_sync: keeping them whole across micro-batches would cost the memory ZeRO-3 exists to save.
 */
void train_step_sharded(cpt_model &m, const torch::Tensor &rows, int32_t sequences, int32_t micro_batch, double lr,
                        double weight_decay, double grad_clip, cpt_step_result *out) {
    cpt::DataParallel &dp = *m.dp;
    dp.begin_step_sharded();
    double share = static_cast<double>(micro_batch) / (static_cast<double>(sequences) * dp.group().world());
    dp.materialize(0, m.params, m.shapes, true, 1);
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(m.device));
    for (int32_t start = 0; start < sequences; start += micro_batch) {
        torch::Tensor loss;
        {
            AutocastScope autocast(m);
            loss = forward_loss(m, rows.narrow(0, start, micro_batch));
        }
        (loss * share).backward();
        loss_sum = loss_sum + loss.detach() * share;
    }
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> root;
    for (int i : dp.members(0)) root.push_back(m.params[i].grad());
    dp.reduce_unit_gradients(0, root);
    dp.release(0, m.params);
    dp.finish_gradients();
    dp.group().all_reduce(loss_sum);
    auto total = dp.grad_norm(m.params);
    if (grad_clip > 0) dp.scale_gradients(m.params, torch::clamp_max(grad_clip / (total + 1e-6), 1.0));
    m.step++;
    dp.adamw_sharded(m.params, m.decay, m.step, lr, weight_decay, m.config.beta1, m.config.beta2, m.config.eps);
    auto both = torch::stack({loss_sum.to(torch::kFloat64), total.to(torch::kFloat64)}).to(torch::kCPU);
    out->loss = both[0].item<double>();
    out->grad_norm = both[1].item<double>();
}

/**
 * What the model's tensors hold now, by kind, counted from the tensors themselves (a full copy kept
 * anywhere would show): weights (ZeRO-3: this rank's pieces and any unit being gathered), gradients
 * (the flat buffer, the shard, reductions in flight, .grad tensors of their own) and AdamW moments.
 */
cpt_state_bytes state_bytes(const cpt_model &m) {
    auto bytes = [](const torch::Tensor &t) -> int64_t { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; };
    cpt_state_bytes out{0, 0, 0};
    cpt::DataParallel *dp = m.dp.get();
    for (size_t i = 0; i < m.params.size(); i++) {
        const auto &p = m.params[i];
        if (!m.sharded_weights()) out.weights += bytes(p);  // under ZeRO-3 they are views of gathered units, counted below
        // ZeRO 0-1: views into the flat buffer, counted with it; otherwise tensors of their own.
        if (p.defined() && (!dp || dp->zero_stage() >= 2)) out.gradients += bytes(p.grad());
    }
    for (size_t i = 0; i < m.exp_avg.size(); i++) out.optimizer += bytes(m.exp_avg[i]) + bytes(m.exp_avg_sq[i]);
    if (dp) {
        out.weights += dp->held_weight_bytes();
        out.gradients += dp->held_gradient_bytes();
        out.optimizer += dp->held_optimizer_bytes();
    }
    return out;
}

/** The model a checkpoint is of: format 1, then its architecture and shape. */
torch::Tensor format_of(const cpt_model &m) {
    return torch::tensor({1, m.config.arch, m.config.layers, m.config.d_model, m.config.heads, m.config.context_length,
                          m.config.vocab_size}, torch::kLong);
}

void check_format(const cpt_model &m, const torch::Tensor &format, const std::string &path) {
    auto want = format_of(m);
    if (format.dim() != 1 || format.numel() != want.numel() || !format.to(torch::kLong).equal(want)) {
        throw IoError(path + " holds another model's checkpoint");
    }
}

void open_archive(torch::serialize::InputArchive &archive, const std::string &path) {
    try {
        archive.load_from(path);
    } catch (const c10::Error &e) {
        throw IoError(path + " is not a cpt torch checkpoint (or is damaged): " + e.what_without_backtrace());
    }
}

void read_entry(torch::serialize::InputArchive &archive, const std::string &key, torch::Tensor &t, const std::string &path) {
    if (!archive.try_read(key, t)) throw IoError(path + " lacks \"" + key + "\": not a checkpoint of this model");
}

/** Writes to PATH.tmp and renames it: a crash leaves the old file or none, never half of one. */
void save_atomically(torch::serialize::OutputArchive &archive, const std::string &path) {
    std::string tmp = path + ".tmp";
    try {
        archive.save_to(tmp);
    } catch (const c10::Error &e) {
        std::remove(tmp.c_str());
        throw IoError("cannot write " + tmp + ": " + e.what_without_backtrace());
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw IoError("cannot rename " + tmp + " to " + path);
    }
}

std::string shard_name(int rank, int world) {
    char name[64];
    std::snprintf(name, sizeof name, "torch-rank-%05d-of-%05d.pt", rank, world);
    return name;
}

/**
 * Several ranks must resume from the same checkpoint. All steps are equal exactly when
 * world·Σs² = (Σs)², which every rank finds alike (so none goes on while another stops).
 */
void check_same_step_on_every_rank(cpt_model &m, int64_t step, const std::string &path) {
    if (!m.dp) return;
    double s0 = static_cast<double>(step);
    auto sums = torch::tensor({s0, s0 * s0}, torch::kFloat64);
    m.dp->group().all_reduce(sums);
    double world = m.dp->group().world(), sum = sums[0].item<double>(), squares = sums[1].item<double>();
    if (world * squares != sum * sum) {
        throw IoError(path + " is at step " + std::to_string(step) +
                      ", but another rank loaded a checkpoint of another step: every rank must see the same run directory");
    }
}

std::string version_string() {
    return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
           std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace

extern "C" {

const char *cpt_last_error(void) { return last_error.c_str(); }

const char *cpt_torch_version(void) {
    static const std::string v = version_string();
    return v.c_str();
}

int32_t cpt_cuda_available(void) {
    try {
        return torch::cuda::is_available() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

int32_t cpt_cuda_device_count(void) {
    try {
        return torch::cuda::is_available() ? static_cast<int32_t>(torch::cuda::device_count()) : 0;
    } catch (...) {
        return 0;
    }
}

int32_t cpt_fused_kernels_available(void) { return cpt::fused::cuda_kernels_built() ? 1 : 0; }

int32_t cpt_model_create(const cpt_model_config *c, cpt_model **out) {
    return guarded([&] {
        require(c != nullptr && out != nullptr, "config and out must not be null");
        *out = nullptr;
        require(c->arch == CPT_ARCH_GPT2 || c->arch == CPT_ARCH_NEOX || c->arch == CPT_ARCH_MPT,
                "unknown architecture " + std::to_string(c->arch));
        require(c->layers > 0 && c->d_model > 0 && c->heads > 0 && c->context_length > 0 && c->vocab_size > 0,
                "layers, d_model, heads, context_length and vocab_size must be positive");
        require(c->d_model % c->heads == 0, "d_model " + std::to_string(c->d_model) + " is not divisible by heads " +
                                                std::to_string(c->heads));
        require(c->layer_norm_eps > 0, "layer_norm_eps must be positive, not " + std::to_string(c->layer_norm_eps));
        require(c->hidden_act == CPT_ACT_GELU_EXACT || c->hidden_act == CPT_ACT_GELU_TANH,
                "unknown hidden_act " + std::to_string(c->hidden_act));
        require(c->use_parallel_residual == 0 || c->use_parallel_residual == 1, "use_parallel_residual must be 0 or 1");
        require(c->tie_word_embeddings == 0 || c->tie_word_embeddings == 1, "tie_word_embeddings must be 0 or 1");
        if (c->arch == CPT_ARCH_GPT2) {
            require(c->tie_word_embeddings == 1 && c->use_parallel_residual == 0,
                    "gpt2 has a tied head and sequential blocks: tie_word_embeddings 1, use_parallel_residual 0");
        } else if (c->arch == CPT_ARCH_MPT) {
            require(c->tie_word_embeddings == 1 && c->use_parallel_residual == 0,
                    "mpt has a tied head and sequential blocks: tie_word_embeddings 1, use_parallel_residual 0");
            require(c->alibi_bias_max > 0, "alibi_bias_max must be positive, not " + std::to_string(c->alibi_bias_max));
            require(c->hidden_act == CPT_ACT_GELU_EXACT, "mpt's GELU is exact: hidden_act must be CPT_ACT_GELU_EXACT");
        } else {
            int64_t hd = c->d_model / c->heads, rot = static_cast<int64_t>(hd * c->rotary_pct);
            require(c->rotary_pct > 0 && c->rotary_pct <= 1, "rotary_pct " + std::to_string(c->rotary_pct) + " is not in (0, 1]");
            require(c->rotary_base > 0, "rotary_base must be positive, not " + std::to_string(c->rotary_base));
            require(rot >= 2 && rot % 2 == 0, "rotary_pct " + std::to_string(c->rotary_pct) + " of d_head " + std::to_string(hd) +
                                                  " rotates " + std::to_string(rot) +
                                                  " dims (int(d_head * rotary_pct)); rotary needs an even number >= 2");
        }
        require(c->device == CPT_DEVICE_CPU || c->device == CPT_DEVICE_CUDA, "unknown device " + std::to_string(c->device));
        require(c->precision == CPT_PRECISION_FP32 || c->precision == CPT_PRECISION_BF16,
                "unknown precision " + std::to_string(c->precision));
        require(c->fused_kernels == 0 || c->fused_kernels == 1, "fused_kernels must be 0 or 1, not " + std::to_string(c->fused_kernels));
        if (c->fused_kernels && c->device == CPT_DEVICE_CUDA) {
            require(c->precision == CPT_PRECISION_BF16, "the fused kernels run under bf16 on CUDA: use precision bf16, or turn them off");
            if (!cpt::fused::cuda_kernels_built()) {
                throw DeviceError("this build of the shim has no CUDA kernels (no nvcc when it was built): rebuild native/ on a "
                                  "machine with the CUDA toolkit, or turn the fused kernels off");
            }
        }
        if (c->device == CPT_DEVICE_CUDA && !torch::cuda::is_available()) {
            throw DeviceError("CUDA is not available to this libtorch (" + version_string() +
                              "): use --device cpu, or a libtorch built with CUDA on a machine with a GPU");
        }
        auto m = std::make_unique<cpt_model>();
        m->config = *c;
        if (c->device == CPT_DEVICE_CUDA) {
            int gpus = static_cast<int>(torch::cuda::device_count());
            if (c->device_index < 0 || c->device_index >= gpus) {
                throw DeviceError("GPU " + std::to_string(c->device_index) + " does not exist: this machine shows " +
                                  std::to_string(gpus) + " (a rank's GPU is its LOCAL_RANK)");
            }
        }
        m->device = c->device == CPT_DEVICE_CUDA ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(c->device_index))
                                                 : torch::Device(torch::kCPU);
#ifdef CPT_WITH_CUDA
        // The process's current GPU, as torch.cuda.set_device(local_rank) makes it: kernels, NCCL and
        // new tensors all go to the rank's own GPU.
        if (m->device.is_cuda()) c10::cuda::set_device(m->device.index());
#endif
        if (c->threads > 0) at::set_num_threads(c->threads);
        // libtorch's generator is global: models created on several threads at once (a sweep's
        // jobs, ranks in one process) would interleave their draws. One at a time, each gets its seed's.
        static std::mutex init_lock;
        std::lock_guard<std::mutex> hold(init_lock);
        torch::manual_seed(static_cast<uint64_t>(c->seed));
        int64_t d = c->d_model, v = c->vocab_size, l = c->layers;
        double std = 0.02, residual = 0.02 / std::sqrt(2.0 * static_cast<double>(l));
        if (c->arch == CPT_ARCH_MPT) {
            add_mpt_parameters(*m, std, residual);
        } else if (c->arch == CPT_ARCH_GPT2) {
            m->add("wte.weight", {v, d}, std);
            m->add("wpe.weight", {c->context_length, d}, std);
            for (int i = 0; i < l; i++) {
                std::string p = "h." + std::to_string(i);
                m->add(p + ".ln_1.weight", {d}, 0, false, true);
                m->add(p + ".ln_1.bias", {d}, 0, true);
                m->add(p + ".attn.c_attn.weight", {3 * d, d}, std);
                m->add(p + ".attn.c_attn.bias", {3 * d}, 0, true);
                m->add(p + ".attn.c_proj.weight", {d, d}, residual);
                m->add(p + ".attn.c_proj.bias", {d}, 0, true);
                m->add(p + ".ln_2.weight", {d}, 0, false, true);
                m->add(p + ".ln_2.bias", {d}, 0, true);
                m->add(p + ".mlp.c_fc.weight", {4 * d, d}, std);
                m->add(p + ".mlp.c_fc.bias", {4 * d}, 0, true);
                m->add(p + ".mlp.c_proj.weight", {d, 4 * d}, residual);
                m->add(p + ".mlp.c_proj.bias", {d}, 0, true);
            }
            m->add("ln_f.weight", {d}, 0, false, true);
            m->add("ln_f.bias", {d}, 0, true);
        } else {
            m->add("embed_in.weight", {v, d}, std);
            for (int i = 0; i < l; i++) {
                std::string p = "layers." + std::to_string(i);
                m->add(p + ".input_layernorm.weight", {d}, 0, false, true);
                m->add(p + ".input_layernorm.bias", {d}, 0, true);
                m->add(p + ".post_attention_layernorm.weight", {d}, 0, false, true);
                m->add(p + ".post_attention_layernorm.bias", {d}, 0, true);
                m->add(p + ".attention.query_key_value.weight", {3 * d, d}, std);
                m->add(p + ".attention.query_key_value.bias", {3 * d}, 0, true);
                m->add(p + ".attention.dense.weight", {d, d}, residual);
                m->add(p + ".attention.dense.bias", {d}, 0, true);
                m->add(p + ".mlp.dense_h_to_4h.weight", {4 * d, d}, std);
                m->add(p + ".mlp.dense_h_to_4h.bias", {4 * d}, 0, true);
                m->add(p + ".mlp.dense_4h_to_h.weight", {d, 4 * d}, residual);
                m->add(p + ".mlp.dense_4h_to_h.bias", {d}, 0, true);
            }
            m->add("final_layer_norm.weight", {d}, 0, false, true);
            m->add("final_layer_norm.bias", {d}, 0, true);
            if (!c->tie_word_embeddings) m->add("embed_out.weight", {v, d}, std);
            // As GPT-NeoX computes them: rot = int(d_head * rotary_pct), inv_freq = base^(-2i/rot).
            int64_t hd = d / c->heads, rot = static_cast<int64_t>(hd * c->rotary_pct);
            auto inv = 1.0 / torch::pow(c->rotary_base, torch::arange(0, rot, 2, torch::kFloat64) / static_cast<double>(rot));
            auto t = torch::arange(c->context_length, torch::kFloat64);
            auto freqs = torch::outer(t, inv);
            auto emb = torch::cat({freqs, freqs}, -1);
            m->rotary_cos = emb.cos().to(torch::kFloat32).to(m->device);
            m->rotary_sin = emb.sin().to(torch::kFloat32).to(m->device);
        }
        m->reset_optimizer();
        *out = m.release();
    });
}

void cpt_model_destroy(cpt_model *model) {
    try {
        delete model;
    } catch (...) {
    }
}

int32_t cpt_model_parameter_count(cpt_model *m, int64_t *out) {
    return guarded([&] {
        require(m != nullptr && out != nullptr, "model and out must not be null");
        int64_t n = 0;
        for (size_t i = 0; i < m->shapes.size(); i++) n += m->numel(i);
        *out = n;
    });
}

int32_t cpt_model_tensor_count(cpt_model *m, int32_t *out) {
    return guarded([&] {
        require(m != nullptr && out != nullptr, "model and out must not be null");
        *out = static_cast<int32_t>(m->names.size());
    });
}

int32_t cpt_model_tensor_name(cpt_model *m, int32_t index, char *buffer, int32_t capacity) {
    return guarded([&] {
        require(m != nullptr && buffer != nullptr, "model and buffer must not be null");
        require(index >= 0 && index < static_cast<int32_t>(m->names.size()), "tensor index " + std::to_string(index) + " out of range");
        const std::string &name = m->names[index];
        require(static_cast<int32_t>(name.size()) < capacity, "buffer too small for \"" + name + "\"");
        std::memcpy(buffer, name.c_str(), name.size() + 1);
    });
}

int32_t cpt_model_tensor_numel(cpt_model *m, const char *name, int64_t *out) {
    return guarded([&] {
        require(m != nullptr && name != nullptr && out != nullptr, "model, name and out must not be null");
        *out = m->numel(m->index(name));
    });
}

int32_t cpt_model_get_tensor(cpt_model *m, const char *name, float *destination, int64_t numel) {
    return guarded([&] {
        require(m != nullptr && name != nullptr && destination != nullptr, "model, name and destination must not be null");
        require(!m->sharded_weights(), "under ZeRO-3 no rank holds whole tensors: save a checkpoint (every rank) and read it instead");
        auto t = m->p(name).detach().to(torch::kCPU).contiguous();
        require(t.numel() == numel, std::string(name) + " has " + std::to_string(t.numel()) + " values, not " + std::to_string(numel));
        std::memcpy(destination, t.data_ptr<float>(), sizeof(float) * numel);
    });
}

int32_t cpt_model_set_tensor(cpt_model *m, const char *name, const float *source, int64_t numel) {
    return guarded([&] {
        require(m != nullptr && name != nullptr && source != nullptr, "model, name and source must not be null");
        require(!m->sharded_weights(), "under ZeRO-3 no rank holds whole tensors: set the weights before cpt_model_distribute");
        auto &t = m->params[m->index(name)];
        require(t.numel() == numel, std::string(name) + " has " + std::to_string(t.numel()) + " values, not " + std::to_string(numel));
        torch::NoGradGuard no_grad;
        auto src = torch::from_blob(const_cast<float *>(source), t.sizes(), torch::kFloat32);
        t.copy_(src);
    });
}

int32_t cpt_train_step(cpt_model *m, const int32_t *tokens, int32_t sequences, int32_t seq_len, int32_t micro_batch,
                       double lr, double weight_decay, double grad_clip, cpt_step_result *out) {
    return guarded([&] {
        require(m != nullptr && out != nullptr, "model and out must not be null");
        require(micro_batch > 0 && sequences % micro_batch == 0,
                "micro_batch " + std::to_string(micro_batch) + " does not divide sequences " + std::to_string(sequences));
        require(std::isfinite(lr) && lr >= 0, "lr must be finite and non-negative");
        auto rows = rows_of(*m, tokens, sequences, seq_len);
        cpt::DataParallel *dp = m->dp.get();
        if (m->sharded_weights()) {
            train_step_sharded(*m, rows, sequences, micro_batch, lr, weight_decay, grad_clip, out);
            return;
        }
        if (dp) {
            dp->begin_step(m->params);
        } else {
            for (auto &p : m->params) p.mutable_grad() = torch::Tensor();
        }
        torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(m->device));
        // Each rank holds sequences of the global batch's world·sequences: scaled so, the sum of the
        // ranks' gradients is the global batch's mean gradient.
        int world = dp ? dp->group().world() : 1;
        double share = static_cast<double>(micro_batch) / (static_cast<double>(sequences) * world);
        for (int32_t start = 0; start < sequences; start += micro_batch) {
            torch::Tensor loss;
            {
                // Autocast around the forward only, as torch.autocast is meant to be used: the
                // backward runs each op in the dtype its forward chose.
                AutocastScope autocast(*m);
                loss = forward_loss(*m, rows.narrow(0, start, micro_batch));
            }
            // Several ranks: only the last micro-batch's backward communicates, bucket by bucket as
            // its gradients become final; the earlier ones only accumulate.
            if (dp) dp->before_backward(start + micro_batch == sequences);
            (loss * share).backward();
            loss_sum = loss_sum + loss.detach() * share;
        }
        torch::NoGradGuard no_grad;
        if (dp) {
            dp->finish_gradients();
            dp->group().all_reduce(loss_sum);
        }
        std::vector<torch::Tensor> grads;
        for (auto &p : m->params) grads.push_back(p.grad());
        // The global L2 norm of the gradients before clipping, as clip_grad_norm_ computes it.
        torch::Tensor total;
        if (dp) {
            total = dp->grad_norm(m->params);
        } else {
#ifdef CPT_FUSED_ADAMW
            total = torch::stack(at::_foreach_norm(grads, 2)).norm(2);
#else
            std::vector<torch::Tensor> norms;
            for (auto &g : grads) norms.push_back(g.norm(2));
            total = torch::stack(norms).norm(2);
#endif
        }
        if (grad_clip > 0) {
            auto coef = torch::clamp_max(grad_clip / (total + 1e-6), 1.0);
            if (dp) {
                dp->scale_gradients(m->params, coef);
            } else {
#ifdef CPT_FUSED_ADAMW
                at::_foreach_mul_(grads, coef);
#else
                for (auto &g : grads) g.mul_(coef);
#endif
            }
        }
        m->step++;
        if (m->sharded_optimizer()) {
            dp->adamw_sharded(m->params, m->decay, m->step, lr, weight_decay, m->config.beta1, m->config.beta2, m->config.eps);
        } else if (m->fused()) {
            adamw_fused(*m, grads, lr, weight_decay);
        } else {
            adamw(*m, lr, weight_decay);
        }
        // The one wait for the device in a step: loss and norm come back together.
        auto both = torch::stack({loss_sum.to(torch::kFloat64), total.to(torch::kFloat64)}).to(torch::kCPU);
        out->loss = both[0].item<double>();
        out->grad_norm = both[1].item<double>();
    });
}

int32_t cpt_eval_loss(cpt_model *m, const int32_t *tokens, int32_t sequences, int32_t seq_len, double *out) {
    return guarded([&] {
        require(m != nullptr && out != nullptr, "model and out must not be null");
        auto rows = rows_of(*m, tokens, sequences, seq_len);
        torch::NoGradGuard no_grad;
        AutocastScope autocast(*m);
        if (m->sharded_weights()) m->dp->materialize(0, m->params, m->shapes, false, 1);
        auto loss = forward_loss(*m, rows).to(torch::kFloat64).reshape({1});
        if (m->sharded_weights()) m->dp->release(0, m->params);
        if (m->dp) {
            // Every rank scores as many rows, so the mean of the ranks' means is the whole batch's.
            m->dp->group().all_reduce(loss);
            loss = loss / m->dp->group().world();
        }
        *out = loss.item<double>();
    });
}

int32_t cpt_reset_optimizer(cpt_model *m) {
    return guarded([&] {
        require(m != nullptr, "model must not be null");
        m->reset_optimizer();
    });
}

int32_t cpt_save(cpt_model *m, const char *path) {
    return guarded([&] {
        require(m != nullptr, "model must not be null");
        require(!m->sharded_optimizer(), "under ZeRO >= 1 every rank writes its own shard: cpt_save_shard");
        // ZeRO-0: every rank holds the same state, and rank 0 writes it.
        if (m->dp && m->dp->group().rank() != 0) return;
        require(path != nullptr, "path must not be null");
        torch::serialize::OutputArchive archive;
        archive.write("format", format_of(*m));
        archive.write("step", torch::tensor({m->step}, torch::kLong));
        for (size_t i = 0; i < m->names.size(); i++) {
            archive.write("param." + m->names[i], m->params[i].detach().to(torch::kCPU));
            archive.write("exp_avg." + m->names[i], m->exp_avg[i].to(torch::kCPU));
            archive.write("exp_avg_sq." + m->names[i], m->exp_avg_sq[i].to(torch::kCPU));
        }
        save_atomically(archive, path);
    });
}

int32_t cpt_save_shard(cpt_model *m, const char *dir) {
    return guarded([&] {
        require(m != nullptr && dir != nullptr, "model and dir must not be null");
        require(m->sharded_optimizer(), "only ranks of a ZeRO >= 1 run write shards; one rank or ZeRO-0 writes one file: cpt_save");
        auto &group = m->dp->group();
        // Rank 0 has made the directory once every rank is here; every shard is on disk at the second barrier.
        group.barrier();
        torch::serialize::OutputArchive archive;
        auto pieces = m->dp->pieces(m->params);
        archive.write("format", format_of(*m));
        archive.write("step", torch::tensor({m->step}, torch::kLong));
        archive.write("shard", torch::tensor({static_cast<int64_t>(group.rank()), static_cast<int64_t>(group.world()),
                                              static_cast<int64_t>(pieces.size())}, torch::kLong));
        for (size_t k = 0; k < pieces.size(); k++) {
            auto &p = pieces[k];
            std::string key = "piece." + std::to_string(k);
            archive.write(key + ".where", torch::tensor({static_cast<int64_t>(p.param), p.begin, p.length}, torch::kLong));
            archive.write(key + ".param", p.weights.to(torch::kCPU).clone());
            archive.write(key + ".exp_avg", p.exp_avg.to(torch::kCPU).clone());
            archive.write(key + ".exp_avg_sq", p.exp_avg_sq.to(torch::kCPU).clone());
        }
        save_atomically(archive, std::string(dir) + "/" + shard_name(group.rank(), group.world()));
        group.barrier();
    });
}

int32_t cpt_load(cpt_model *m, const char *path) {
    return guarded([&] {
        require(m != nullptr && path != nullptr, "model and path must not be null");
        torch::serialize::InputArchive archive;
        open_archive(archive, path);
        torch::Tensor format, step;
        auto read = [&](const std::string &key, torch::Tensor &t) { read_entry(archive, key, t, path); };
        read("format", format);
        check_format(*m, format, path);
        read("step", step);
        std::vector<torch::Tensor> params(m->names.size()), avg(m->names.size()), sq(m->names.size());
        for (size_t i = 0; i < m->names.size(); i++) {
            read("param." + m->names[i], params[i]);
            read("exp_avg." + m->names[i], avg[i]);
            read("exp_avg_sq." + m->names[i], sq[i]);
            if (!params[i].sizes().equals(m->shapes[i]) || !avg[i].sizes().equals(m->shapes[i]) || !sq[i].sizes().equals(m->shapes[i])) {
                throw IoError(std::string(path) + ": " + m->names[i] + " has another shape");
            }
        }
        check_same_step_on_every_rank(*m, step.item<int64_t>(), path);
        // Everything read and checked: only now the model changes.
        torch::NoGradGuard no_grad;
        if (m->sharded_weights()) {
            m->dp->load_weights(params);  // this rank's pieces
        } else {
            for (size_t i = 0; i < m->names.size(); i++) m->params[i].copy_(params[i]);
        }
        if (m->sharded_optimizer()) {
            m->dp->load_moments(avg, sq);  // this rank's shard, whatever world size wrote the file
        } else {
            for (size_t i = 0; i < m->names.size(); i++) {
                m->exp_avg[i] = avg[i].to(m->device).clone();
                m->exp_avg_sq[i] = sq[i].to(m->device).clone();
            }
        }
        m->set_step(step.item<int64_t>());
    });
}

int32_t cpt_load_shards(cpt_model *m, const char *dir) {
    return guarded([&] {
        require(m != nullptr && dir != nullptr, "model and dir must not be null");
        // The shards' names say how many there are; each must be there, written at the same step.
        std::map<int, std::string> files;
        int world = -1;
        for (auto &entry : std::filesystem::directory_iterator(dir)) {
            int r = 0, n = 0;
            std::string name = entry.path().filename().string();
            if (std::sscanf(name.c_str(), "torch-rank-%d-of-%d.pt", &r, &n) != 2 || name != shard_name(r, n)) continue;
            if (world >= 0 && n != world) throw IoError(std::string(dir) + " mixes shards of " + std::to_string(world) + " and " + std::to_string(n) + " ranks");
            world = n;
            files[r] = entry.path().string();
        }
        if (world < 0) throw IoError(std::string(dir) + " has no checkpoint shards (torch-rank-R-of-N.pt)");
        for (int r = 0; r < world; r++) {
            if (!files.count(r)) throw IoError(std::string(dir) + " lacks " + shard_name(r, world) + ": the checkpoint is incomplete");
        }
        // This rank's targets: whole tensors where it keeps them whole, else its own pieces (dp->take).
        bool whole_weights = !m->sharded_weights(), whole_moments = !m->sharded_optimizer();
        std::vector<torch::Tensor> params, avg, sq;
        std::vector<int64_t> covered(m->names.size(), 0);
        for (size_t i = 0; i < m->names.size(); i++) {
            if (whole_weights) params.push_back(torch::zeros(m->shapes[i], torch::kFloat32));
            if (whole_moments) {
                avg.push_back(torch::zeros(m->shapes[i], torch::kFloat32));
                sq.push_back(torch::zeros(m->shapes[i], torch::kFloat32));
            }
        }
        int64_t step = -1;
        if (m->sharded_optimizer()) m->dp->reset_moments();
        for (auto &[rank, path] : files) {
            torch::serialize::InputArchive archive;
            open_archive(archive, path);
            torch::Tensor format, at, shard;
            read_entry(archive, "format", format, path);
            check_format(*m, format, path);
            read_entry(archive, "step", at, path);
            if (step >= 0 && at.item<int64_t>() != step) throw IoError(path + " is at step " + std::to_string(at.item<int64_t>()) + ", the other shards at " + std::to_string(step));
            step = at.item<int64_t>();
            read_entry(archive, "shard", shard, path);
            int64_t pieces = shard[2].item<int64_t>();
            for (int64_t k = 0; k < pieces; k++) {
                std::string key = "piece." + std::to_string(k);
                torch::Tensor where, w, a, v;
                read_entry(archive, key + ".where", where, path);
                read_entry(archive, key + ".param", w, path);
                read_entry(archive, key + ".exp_avg", a, path);
                read_entry(archive, key + ".exp_avg_sq", v, path);
                int64_t i = where[0].item<int64_t>(), begin = where[1].item<int64_t>(), length = where[2].item<int64_t>();
                if (i < 0 || i >= static_cast<int64_t>(m->names.size()) || begin < 0 || begin + length > m->numel(i) || w.numel() != length ||
                    a.numel() != length || v.numel() != length) {
                    throw IoError(path + ": " + key + " does not fit this model");
                }
                if (whole_weights) params[i].view({-1}).narrow(0, begin, length).copy_(w);
                if (whole_moments) {
                    avg[i].view({-1}).narrow(0, begin, length).copy_(a);
                    sq[i].view({-1}).narrow(0, begin, length).copy_(v);
                } else {
                    m->dp->take(static_cast<int>(i), begin, w.to(m->device), a.to(m->device), v.to(m->device));
                }
                covered[i] += length;
            }
        }
        for (size_t i = 0; i < m->names.size(); i++) {
            if (covered[i] != m->numel(i)) {
                throw IoError(std::string(dir) + ": the shards hold " + std::to_string(covered[i]) + " of the " + std::to_string(m->numel(i)) +
                              " values of " + m->names[i]);
            }
        }
        check_same_step_on_every_rank(*m, step, dir);
        torch::NoGradGuard no_grad;
        if (whole_weights) {
            for (size_t i = 0; i < m->names.size(); i++) m->params[i].copy_(params[i]);
        }
        if (whole_moments) {
            for (size_t i = 0; i < m->names.size(); i++) {
                m->exp_avg[i] = avg[i].to(m->device);
                m->exp_avg_sq[i] = sq[i].to(m->device);
            }
        }
        m->set_step(step);
    });
}

int32_t cpt_memory_statistics(cpt_model *m, cpt_memory_stats *out) {
    return guarded([&] {
        require(m != nullptr && out != nullptr, "model and out must not be null");
#ifdef CPT_WITH_CUDA
        if (m->device.is_cuda()) {
            // The caching allocator's own counters: what torch.cuda.max_memory_allocated() reports.
            auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(m->device.index() < 0 ? 0 : m->device.index());
            const size_t all = 0;  // StatType::AGGREGATE, first in every version (the enum moved namespaces in 2.x)
            out->allocated_bytes = stats.allocated_bytes[all].current;
            out->peak_allocated_bytes = stats.allocated_bytes[all].peak;
            out->reserved_bytes = stats.reserved_bytes[all].current;
            return;
        }
#endif
        // On the CPU: the model's own tensors (weights and the two AdamW moments).
        int64_t bytes = 0;
        auto held = state_bytes(*m);
        bytes = held.weights + held.gradients + held.optimizer;
        out->allocated_bytes = bytes;
        out->peak_allocated_bytes = bytes;
        out->reserved_bytes = bytes;
    });
}

int32_t cpt_memory_reset_peak(cpt_model *m) {
    return guarded([&] {
        require(m != nullptr, "model must not be null");
#ifdef CPT_WITH_CUDA
        if (m->device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(m->device.index() < 0 ? 0 : m->device.index());
#endif
    });
}

struct cpt_group {
    std::shared_ptr<cpt::Group> group;
    torch::Device device{torch::kCPU};  // NCCL: the GPU of the model distributed over it
};

int32_t cpt_model_state_bytes(cpt_model *m, cpt_state_bytes *out) {
    return guarded([&] {
        require(m != nullptr && out != nullptr, "model and out must not be null");
        *out = state_bytes(*m);
    });
}

int32_t cpt_gloo_available(void) { return cpt::gloo_built() ? 1 : 0; }

int32_t cpt_nccl_available(void) { return cpt::nccl_built() ? 1 : 0; }

int32_t cpt_group_create(const cpt_group_config *c, cpt_group **out) {
    return guarded([&] {
        require(c != nullptr && out != nullptr, "config and out must not be null");
        *out = nullptr;
        require(c->master_address != nullptr && *c->master_address, "master_address must be a host name or address");
        require(c->backend == CPT_BACKEND_GLOO || c->backend == CPT_BACKEND_NCCL, "unknown backend " + std::to_string(c->backend));
        auto g = std::make_unique<cpt_group>();
        g->group = cpt::Group::create(c->master_address, c->master_port, c->rank, c->world_size,
                                      c->backend == CPT_BACKEND_NCCL ? cpt::Group::NCCL : cpt::Group::GLOO, c->threads,
                                      c->timeout_ms);
        *out = g.release();
    });
}

void cpt_group_destroy(cpt_group *group) {
    try {
        delete group;
    } catch (...) {
    }
}

int32_t cpt_group_barrier(cpt_group *g) {
    return guarded([&] {
        require(g != nullptr, "group must not be null");
        g->group->barrier();
    });
}

int32_t cpt_group_all_reduce_sum(cpt_group *g, double *values, int32_t count) {
    return guarded([&] {
        require(g != nullptr && values != nullptr, "group and values must not be null");
        require(count > 0, "count must be positive");
        auto t = torch::from_blob(values, {count}, torch::kFloat64).clone();
        if (g->group->backend() == cpt::Group::NCCL) t = t.to(g->device.is_cuda() ? g->device : torch::Device(torch::kCUDA));
        g->group->all_reduce(t);
        t = t.to(torch::kCPU);
        std::memcpy(values, t.data_ptr<double>(), sizeof(double) * count);
    });
}

int32_t cpt_model_distribute(cpt_model *m, cpt_group *g, int32_t zero_stage, int64_t bucket_bytes) {
    return guarded([&] {
        require(m != nullptr && g != nullptr, "model and group must not be null");
        require(!m->dp, "this model is already distributed");
        require(zero_stage >= 0 && zero_stage <= 3, "ZeRO stage " + std::to_string(zero_stage) +
                                                        " is not one this engine has: 0 (data parallel), 1 (sharded "
                                                        "optimizer state), 2 (and sharded gradients) or 3 (and sharded weights)");
        require(bucket_bytes > 0, "bucket_bytes must be positive");
        bool nccl = g->group->backend() == cpt::Group::NCCL;
        // Gloo also reduces CUDA tensors (through the host): two ranks can share one GPU to check the CUDA path.
        require(!nccl || m->device.is_cuda(), "an NCCL group needs a CUDA model");
        torch::NoGradGuard no_grad;
        // Rank 0's weights everywhere: a sum of rank 0's values and everyone else's zeros.
        for (auto &p : m->params) {
            auto t = g->group->rank() == 0 ? p.detach().clone() : torch::zeros_like(p);
            g->group->all_reduce(t);
            p.copy_(t);
        }
        // ZeRO-3's units: the parameters outside the blocks (0), and each block's (1 + b).
        std::vector<int> unit_of;
        for (auto &name : m->names) {
            std::string prefix = m->config.arch == CPT_ARCH_GPT2 ? "h." : m->config.arch == CPT_ARCH_MPT ? "blocks." : "layers.";
            unit_of.push_back(name.rfind(prefix, 0) == 0 ? 1 + std::stoi(name.substr(prefix.size())) : 0);
        }
        m->dp = std::make_unique<cpt::DataParallel>(g->group, zero_stage, bucket_bytes, m->params, unit_of);
        g->device = m->device;
        if (zero_stage >= 1) {
            m->exp_avg.clear();
            m->exp_avg_sq.clear();
        }
        if (zero_stage == 3) {
            for (auto &p : m->params) p = torch::Tensor();  // only this rank's pieces stay (in dp)
        }
        m->reset_optimizer();
    });
}

}  // extern "C"

// ---- Scoring and incremental decoding (cpt eval, cpt generate) ----

struct cpt_decoder {
    cpt_model *model;
    // Per layer [1, heads, context_length, d_head], made on the first token in the activations' dtype
    // (bf16 under CUDA autocast); positions [0, length) hold the keys and values of the tokens fed.
    std::vector<torch::Tensor> keys, values;
    int64_t length = 0;
};

namespace {

/** Scoring and decoding read the model's whole tensors, of an architecture whose embedding and head they know. */
void require_scorable(const cpt_model &m, const char *call) {
    require(m.config.arch == CPT_ARCH_GPT2 || m.config.arch == CPT_ARCH_NEOX || m.config.arch == CPT_ARCH_MPT,
            std::string(call) + " runs gpt2, neox and mpt models, not " + m.arch_name());
    require(!m.sharded_weights(), std::string(call) + ": under ZeRO-3 no rank holds whole tensors; score on one rank's model");
}

void require_token(const cpt_model &m, int32_t token, const std::string &where) {
    if (token < 0 || token >= m.config.vocab_size) {
        throw ArgumentError("token " + std::to_string(token) + " " + where + " is outside the vocabulary [0, " +
                            std::to_string(m.config.vocab_size) + ")");
    }
}

/** The logits of the blocks' output x: the final LayerNorm, then the head (tied or not). */
torch::Tensor head_logits(const cpt_model &m, const torch::Tensor &x) {
    if (m.config.arch == CPT_ARCH_MPT) return at::linear(mpt_norm(m, x, "norm_f"), head_weight(m));
    return at::linear(layer_norm(m, x, m.config.arch == CPT_ARCH_GPT2 ? "ln_f" : "final_layer_norm"), head_weight(m));
}

/** The blocks' output for token ids idx [B, T] from position 0 (before the final LayerNorm): the training forward's blocks, no loss. */
torch::Tensor final_hidden(const cpt_model &m, const torch::Tensor &idx) {
    auto x = embed_tokens(m, idx, 0);
    for (int i = 0; i < m.config.layers; i++) x = block(m, x, i);
    return x;
}

/** Rotary embedding of x [B, H, 1, hd] at position pos: rotary()'s rule with the tables' row pos. */
torch::Tensor rotary_at(const cpt_model &m, const torch::Tensor &x, int64_t pos) {
    int64_t rot = m.rotary_cos.size(-1);
    auto cos = m.rotary_cos.narrow(0, pos, 1).to(x.scalar_type()), sin = m.rotary_sin.narrow(0, pos, 1).to(x.scalar_type());
    auto parts = x.split_with_sizes({rot, x.size(-1) - rot}, -1);
    auto halves = parts[0].chunk(2, -1);
    auto rotated_half = torch::cat({-halves[1], halves[0]}, -1);
    return torch::cat({parts[0] * cos + rotated_half * sin, parts[1]}, -1);
}

/** The architecture's linear layer: mpt's have no bias. */
torch::Tensor arch_linear(const cpt_model &m, const torch::Tensor &x, const std::string &prefix) {
    return m.config.arch == CPT_ARCH_MPT ? at::linear(x, m.p(prefix + ".weight")) : linear(m, x, prefix);
}

/**
 * Self-attention of one new token h [1, 1, d] at position d.length: its key and value go into the
 * layer's cache, and its query attends to every cached position (all earlier or its own: no mask).
 * neox rotates q and k at the position; mpt adds ALiBi's slope_h * (j - pos) to the scores, the row
 * pos of alibi_causal_bias.
 */
torch::Tensor cached_attention(const cpt_model &m, cpt_decoder &dec, int layer, const torch::Tensor &h, const std::string &qkv_name,
                               const std::string &out_name, bool rope) {
    int64_t d = m.config.d_model, heads = m.config.heads, hd = d / heads, pos = dec.length;
    auto qkv = arch_linear(m, h, qkv_name).split(d, 2);
    auto q = qkv[0].view({1, 1, heads, hd}).transpose(1, 2);
    auto k = qkv[1].view({1, 1, heads, hd}).transpose(1, 2);
    auto v = qkv[2].view({1, 1, heads, hd}).transpose(1, 2);
    if (rope) {
        q = rotary_at(m, q, pos);
        k = rotary_at(m, k, pos);
    }
    auto &keys = dec.keys[layer], &values = dec.values[layer];
    if (!keys.defined() || keys.scalar_type() != k.scalar_type()) {
        keys = torch::zeros({1, heads, m.config.context_length, hd}, k.options());
        values = torch::zeros({1, heads, m.config.context_length, hd}, v.options());
    }
    keys.narrow(2, pos, 1).copy_(k);
    values.narrow(2, pos, 1).copy_(v);
    auto seen_k = keys.narrow(2, 0, pos + 1), seen_v = values.narrow(2, 0, pos + 1);
    auto scores = at::matmul(q, seen_k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd));
    if (m.config.arch == CPT_ARCH_MPT) {
        auto distance = torch::arange(-pos, 1, torch::TensorOptions().dtype(torch::kFloat32).device(m.device));  // j - pos, j = 0..pos
        scores = scores + m.alibi_slopes.view({1, heads, 1, 1}) * distance.view({1, 1, 1, pos + 1});
    }
    auto y = at::matmul(at::softmax(scores, -1).to(seen_v.scalar_type()), seen_v).transpose(1, 2).contiguous().view({1, 1, d});
    return arch_linear(m, y, out_name);
}

/** Block i for one new token: block()'s layers (its eager form) with cached_attention. */
torch::Tensor cached_block(const cpt_model &m, cpt_decoder &dec, const torch::Tensor &x, int i) {
    torch::Tensor a;
    if (m.config.arch == CPT_ARCH_MPT) {
        std::string l = "blocks." + std::to_string(i);
        a = cached_attention(m, dec, i, mpt_norm(m, x, l + ".norm_1"), l + ".attn.Wqkv", l + ".attn.out_proj", false);
    } else if (m.config.arch == CPT_ARCH_GPT2) {
        std::string l = "h." + std::to_string(i);
        a = cached_attention(m, dec, i, layer_norm(m, x, l + ".ln_1"), l + ".attn.c_attn", l + ".attn.c_proj", false);
    } else {
        std::string l = "layers." + std::to_string(i);
        a = cached_attention(m, dec, i, layer_norm(m, x, l + ".input_layernorm"), l + ".attention.query_key_value",
                             l + ".attention.dense", true);
    }
    return block_after_attention(m, x, a, i);
}

}  // namespace

extern "C" {

int32_t cpt_score_tokens(cpt_model *m, const int32_t *tokens, const int32_t *lengths, int32_t rows, int32_t max_len,
                         double *out_logprobs, int32_t *out_greedy) {
    return guarded([&] {
        require(m != nullptr && tokens != nullptr && lengths != nullptr && out_logprobs != nullptr && out_greedy != nullptr,
                "model, tokens, lengths, out_logprobs and out_greedy must not be null");
        require_scorable(*m, "cpt_score_tokens");
        require(rows > 0, "rows must be positive, not " + std::to_string(rows));
        require(max_len >= 2 && max_len <= m->config.context_length + 1,
                "max_len " + std::to_string(max_len) + " is not within [2, " + std::to_string(m->config.context_length + 1) +
                    "] (the model's context + 1)");
        // The rows as int64 with their padding zeroed (any value would do: causal attention never reads it into a row's scores).
        std::vector<int64_t> ids(static_cast<size_t>(rows) * max_len, 0);
        for (int32_t r = 0; r < rows; r++) {
            require(lengths[r] >= 2 && lengths[r] <= max_len, "row " + std::to_string(r) + " has " + std::to_string(lengths[r]) +
                                                                  " tokens; scoring needs 2 to max_len " + std::to_string(max_len));
            for (int32_t i = 0; i < lengths[r]; i++) {
                int32_t token = tokens[static_cast<int64_t>(r) * max_len + i];
                require_token(*m, token, "at row " + std::to_string(r) + ", position " + std::to_string(i));
                ids[static_cast<size_t>(r) * max_len + i] = token;
            }
        }
        int64_t t = max_len - 1;
        auto all = torch::from_blob(ids.data(), {rows, max_len}, torch::kLong).to(m->device);
        torch::NoGradGuard no_grad;
        std::vector<torch::Tensor> logprobs, greedy;
        {
            AutocastScope autocast(*m);
            auto x = final_hidden(*m, all.narrow(1, 0, t));
            // Row by row, each only up to its own length: the logits of one row at a time, not [rows, t, vocab].
            for (int32_t r = 0; r < rows; r++) {
                int64_t n = lengths[r] - 1;
                auto logits = head_logits(*m, x[r].narrow(0, 0, n)).to(torch::kFloat32);
                auto targets = all[r].narrow(0, 1, n);
                auto lp = logits.gather(1, targets.unsqueeze(1)).squeeze(1) - logits.logsumexp(1);
                logprobs.push_back(lp.to(torch::kFloat64));
                greedy.push_back(logits.argmax(1).eq(targets).to(torch::kInt32));
            }
        }
        // One copy back for the whole batch.
        auto lp = torch::cat(logprobs).to(torch::kCPU).contiguous();
        auto gr = torch::cat(greedy).to(torch::kCPU).contiguous();
        const double *lpv = lp.data_ptr<double>();
        const int32_t *grv = gr.data_ptr<int32_t>();
        std::fill(out_logprobs, out_logprobs + static_cast<int64_t>(rows) * t, 0.0);
        std::fill(out_greedy, out_greedy + static_cast<int64_t>(rows) * t, 0);
        int64_t at_ = 0;
        for (int32_t r = 0; r < rows; r++) {
            int64_t n = lengths[r] - 1;
            std::memcpy(out_logprobs + r * t, lpv + at_, sizeof(double) * n);
            std::memcpy(out_greedy + r * t, grv + at_, sizeof(int32_t) * n);
            at_ += n;
        }
    });
}

int32_t cpt_forward_logits(cpt_model *m, const int32_t *tokens, int32_t length, float *out_logits) {
    return guarded([&] {
        require(m != nullptr && tokens != nullptr && out_logits != nullptr, "model, tokens and out_logits must not be null");
        require_scorable(*m, "cpt_forward_logits");
        require(length >= 1 && length <= m->config.context_length, "length " + std::to_string(length) + " is not within [1, " +
                                                                        std::to_string(m->config.context_length) + "] (the model's context)");
        std::vector<int64_t> ids(length);
        for (int32_t i = 0; i < length; i++) {
            require_token(*m, tokens[i], "at position " + std::to_string(i));
            ids[i] = tokens[i];
        }
        auto idx = torch::from_blob(ids.data(), {1, length}, torch::kLong).to(m->device);
        torch::NoGradGuard no_grad;
        torch::Tensor logits;
        {
            AutocastScope autocast(*m);
            logits = head_logits(*m, final_hidden(*m, idx));
        }
        auto cpu = logits.to(torch::kFloat32).to(torch::kCPU).contiguous();
        std::memcpy(out_logits, cpu.data_ptr<float>(), sizeof(float) * cpu.numel());
    });
}

int32_t cpt_decoder_create(cpt_model *m, cpt_decoder **out) {
    return guarded([&] {
        require(m != nullptr && out != nullptr, "model and out must not be null");
        *out = nullptr;
        require_scorable(*m, "cpt_decoder_create");
        auto d = std::make_unique<cpt_decoder>();
        d->model = m;
        d->keys.resize(m->config.layers);
        d->values.resize(m->config.layers);
        *out = d.release();
    });
}

void cpt_decoder_destroy(cpt_decoder *decoder) {
    try {
        delete decoder;
    } catch (...) {
    }
}

int32_t cpt_decoder_append(cpt_decoder *dec, int32_t token, float *out_logits) {
    return guarded([&] {
        require(dec != nullptr && out_logits != nullptr, "decoder and out_logits must not be null");
        const cpt_model &m = *dec->model;
        require(dec->length < m.config.context_length,
                "the context of " + std::to_string(m.config.context_length) + " tokens is full");
        require_token(m, token, "at position " + std::to_string(dec->length));
        torch::NoGradGuard no_grad;
        torch::Tensor logits;
        {
            AutocastScope autocast(m);
            auto idx = torch::full({1, 1}, static_cast<int64_t>(token), torch::TensorOptions().dtype(torch::kLong).device(m.device));
            auto x = embed_tokens(m, idx, dec->length);
            for (int i = 0; i < m.config.layers; i++) x = cached_block(m, *dec, x, i);
            logits = head_logits(m, x);
        }
        auto cpu = logits.to(torch::kFloat32).to(torch::kCPU).contiguous();
        std::memcpy(out_logits, cpu.data_ptr<float>(), sizeof(float) * m.config.vocab_size);
        // Only now: a failure above leaves the length, and the slots written at it are overwritten next time.
        dec->length++;
    });
}

int32_t cpt_decoder_length(cpt_decoder *dec, int32_t *out) {
    return guarded([&] {
        require(dec != nullptr && out != nullptr, "decoder and out must not be null");
        *out = static_cast<int32_t>(dec->length);
    });
}

}  // extern "C"
