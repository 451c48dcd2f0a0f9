// cpt_fused_check: each fused op of fused_ops.h against eager ATen with autograd, forward and
// backward, on random inputs. CPU in fp32 (the ops' tensor formulas); CUDA in bf16 (cpt's kernels)
// where this build has them, then, with --time, each op's forward + backward beside eager's at the
// shapes of a 405m micro-batch (8 × 2048). Exit status 1 if any check fails.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include "fused_ops.h"

namespace {

using torch::Tensor;
namespace fused = cpt::fused;

int failures = 0;

/** Largest |got - want| over the largest |want|. */
void expect(const char *name, const Tensor &got, const Tensor &want, double tolerance) {
    auto g = got.detach().to(torch::kCPU, torch::kFloat), w = want.detach().to(torch::kCPU, torch::kFloat);
    bool same_shape = g.sizes() == w.sizes();
    double scale = std::max(w.abs().max().item<double>(), 1e-12);
    double err = same_shape ? (g - w).abs().max().item<double>() / scale : INFINITY;
    bool ok = err <= tolerance;
    std::printf("%-4s %-44s relative error %.2e (tolerance %.0e)%s\n", ok ? "ok" : "FAIL", name, err, tolerance,
                same_shape ? "" : ", shapes differ");
    if (!ok) failures++;
}

Tensor leaf(const Tensor &t) { return t.detach().clone().requires_grad_(true); }

void check_cross_entropy(torch::Device device, at::ScalarType dtype, int64_t n, int64_t vocab, double tol) {
    auto logits = leaf((torch::randn({n, vocab}) * 3).to(device, dtype));
    auto targets = torch::randint(vocab, {n}, torch::kLong).to(device);
    auto loss = fused::cross_entropy(logits, targets);
    (loss * 2.5).backward();
    auto ref = leaf(logits.detach().to(torch::kFloat));
    auto ref_loss = at::cross_entropy_loss(ref, targets);
    (ref_loss * 2.5).backward();
    std::string what = "cross_entropy V=" + std::to_string(vocab);
    expect((what + " loss").c_str(), loss, ref_loss, tol / 10);
    expect((what + " grad").c_str(), logits.grad(), ref.grad(), tol);
}

std::vector<Tensor> rotary_tables(int64_t context, int64_t rot) {
    auto inv = 1.0 / torch::pow(10000.0, torch::arange(0, rot, 2, torch::kFloat64) / static_cast<double>(rot));
    auto freqs = torch::outer(torch::arange(context, torch::kFloat64), inv);
    auto emb = torch::cat({freqs, freqs}, -1);
    return {emb.cos().to(torch::kFloat), emb.sin().to(torch::kFloat)};
}

/** The model's eager rotary (cpt_torch.cpp's rotary()), on [B, H, T, hd]. */
Tensor eager_rotary(const Tensor &x, const Tensor &cos, const Tensor &sin) {
    int64_t rot = cos.size(-1), t = x.size(2);
    auto c = cos.narrow(0, 0, t).to(x.scalar_type()), s = sin.narrow(0, 0, t).to(x.scalar_type());
    auto parts = x.split_with_sizes({rot, x.size(-1) - rot}, -1);
    auto halves = parts[0].chunk(2, -1);
    auto rotated_half = torch::cat({-halves[1], halves[0]}, -1);
    return torch::cat({parts[0] * c + rotated_half * s, parts[1]}, -1);
}

void check_rotary(torch::Device device, at::ScalarType dtype, int64_t b, int64_t t, int64_t heads, int64_t hd, double tol) {
    int64_t d = heads * hd, rot = std::max<int64_t>(2, hd / 4 / 2 * 2);
    auto tables = rotary_tables(t + 3, rot);
    auto cos = tables[0].to(device), sin = tables[1].to(device);
    auto qkv = leaf(torch::randn({b, t, 3 * d}).to(device, dtype));
    auto out = fused::rotary_qkv(qkv, cos, sin, heads);
    std::vector<Tensor> grads;
    for (int i = 0; i < 3; i++) grads.push_back(torch::randn({b, heads, t, hd}).to(device, dtype));
    torch::autograd::backward(out, grads);

    auto ref_in = leaf(qkv.detach().to(torch::kFloat));
    auto parts = ref_in.split(d, 2);
    std::vector<Tensor> ref, ref_grads;
    for (int which = 0; which < 3; which++) {
        auto x = parts[which].view({b, t, heads, hd}).transpose(1, 2);
        ref.push_back(which < 2 ? eager_rotary(x, cos, sin) : x);
        ref_grads.push_back(grads[which].to(torch::kFloat));
    }
    torch::autograd::backward(ref, ref_grads);
    std::string p = "rotary_qkv (hd=" + std::to_string(hd) + ") ";
    std::string names[] = {p + "q", p + "k", p + "v"};
    for (int i = 0; i < 3; i++) {
        expect(names[i].c_str(), out[i], ref[i], tol);
        if (!out[i].is_contiguous()) {
            std::printf("FAIL %s is not contiguous\n", names[i].c_str());
            failures++;
        }
    }
    expect((p + "grad qkv").c_str(), qkv.grad(), ref_in.grad(), tol);
}

void check_layer_norms(torch::Device device, at::ScalarType dtype, bool two, int64_t d, double tol) {
    int64_t b = 2, t = 37;
    auto x = leaf((torch::randn({b, t, d}) * 2 + 0.5).to(device));
    std::vector<Tensor> w;
    for (int i = 0; i < 4; i++) w.push_back(leaf((torch::randn({d}) * 0.5 + (i % 2 == 0 ? 1.0 : 0.0)).to(device)));
    auto out = fused::layer_norms(x, w[0], w[1], two ? w[2] : Tensor(), two ? w[3] : Tensor(), dtype, 1e-5);
    std::vector<Tensor> grads;
    for (size_t i = 0; i < out.size(); i++) grads.push_back(torch::randn({b, t, d}).to(device, dtype));
    torch::autograd::backward(out, grads);

    auto rx = leaf(x.detach());
    std::vector<Tensor> rw, ref, ref_grads;
    for (auto &v : w) rw.push_back(leaf(v.detach()));
    ref.push_back(at::layer_norm(rx, {d}, rw[0], rw[1], 1e-5));
    if (two) ref.push_back(at::layer_norm(rx, {d}, rw[2], rw[3], 1e-5));
    for (auto &g : grads) ref_grads.push_back(g.to(torch::kFloat));
    torch::autograd::backward(ref, ref_grads);
    std::string p = std::string(two ? "layer_norms (two" : "layer_norms (one") + ", d=" + std::to_string(d) + ") ";
    for (size_t i = 0; i < out.size(); i++) expect((p + "out" + std::to_string(i + 1)).c_str(), out[i], ref[i], tol);
    // x and the weights' gradients are fp32 sums of bf16-exact products: tighter than the outputs
    expect((p + "grad x").c_str(), x.grad(), rx.grad(), tol / 10);
    const char *pnames[] = {"grad w1", "grad b1", "grad w2", "grad b2"};
    for (int i = 0; i < (two ? 4 : 2); i++) expect((p + pnames[i]).c_str(), w[i].grad(), rw[i].grad(), tol / 10);
}

void check_residual(torch::Device device, at::ScalarType dtype, std::vector<int64_t> shape, double tol) {
    auto x = leaf(torch::randn(shape).to(device));
    auto a = leaf(torch::randn(shape).to(device, dtype)), m = leaf(torch::randn(shape).to(device, dtype));
    auto out = fused::residual_add(x, a, m);
    auto g = torch::randn(shape).to(device);
    out.backward(g);
    expect("residual_add out", out, x.detach() + a.detach().to(torch::kFloat) + m.detach().to(torch::kFloat), tol / 10);
    expect("residual_add grad x", x.grad(), g, 0);
    expect("residual_add grad a", a.grad(), g.to(dtype), 0);
    expect("residual_add grad m", m.grad(), g.to(dtype), 0);
}

void check_all(torch::Device device, at::ScalarType dtype, double tol) {
    std::printf("-- %s, %s\n", device.is_cuda() ? "cuda" : "cpu", c10::toString(dtype));
    check_cross_entropy(device, dtype, 33, 256, tol);
    check_cross_entropy(device, dtype, 19, 1001, tol);  // not a multiple of 8: the unvectorised path
    if (device.is_cuda()) check_cross_entropy(device, dtype, 16, 50432, tol);
    check_rotary(device, dtype, 2, 19, 4, 64, tol);  // rot 16: eight columns a thread on CUDA
    check_rotary(device, dtype, 1, 5, 3, 128, tol);  // rot 32, as 10b
    check_rotary(device, dtype, 2, 19, 4, 32, tol);  // rot 8: a column a thread
    check_rotary(device, dtype, 1, 8, 2, 8, tol);    // rot 2
    check_layer_norms(device, dtype, true, 96, tol);  // four columns a lane on CUDA
    check_layer_norms(device, dtype, false, 96, tol);
    check_layer_norms(device, dtype, true, 30, tol);  // a column a lane
    check_layer_norms(device, dtype, false, 30, tol);
    check_residual(device, dtype, {3, 17, 40}, tol);
    check_residual(device, dtype, {1, 3, 5}, tol);  // not a multiple of 4: one element a thread
}

/** Median milliseconds of fn over `reps` runs after 3 warm-ups, the device synchronised around each. */
double median_ms(const std::function<void()> &fn, int reps = 15) {
    std::vector<double> ms;
    for (int i = 0; i < reps + 3; i++) {
        torch::cuda::synchronize();
        auto start = std::chrono::steady_clock::now();
        fn();
        torch::cuda::synchronize();
        if (i >= 3) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

/** Forward + backward of each op, fused vs eager, at a 405m micro-batch's shapes. */
void time_ops() {
    torch::Device cuda(torch::kCUDA);
    int64_t b = 8, t = 2048, heads = 16, hd = 64, d = heads * hd, vocab = 50432;
    auto bf = torch::TensorOptions().dtype(torch::kBFloat16).device(cuda);
    auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(cuda);
    std::printf("-- median ms of forward + backward, 405m micro-batch (%lld x %lld): fused, eager (autocast's dtypes)\n",
                static_cast<long long>(b), static_cast<long long>(t));
    auto report = [](const char *name, double fused_ms, double eager_ms) {
        std::printf("%-34s %8.3f %8.3f  (%.2fx)\n", name, fused_ms, eager_ms, eager_ms / fused_ms);
    };
    {
        auto logits = torch::randn({b * t, vocab}, bf).requires_grad_(true);
        auto targets = torch::randint(vocab, {b * t}, torch::TensorOptions().dtype(torch::kLong).device(cuda));
        report("cross_entropy", median_ms([&] { fused::cross_entropy(logits, targets).backward(); }),
               median_ms([&] { at::cross_entropy_loss(logits.to(torch::kFloat), targets).backward(); }));
    }
    {
        int64_t rot = hd / 4;
        auto tables = rotary_tables(t, rot);
        auto cos = tables[0].to(cuda), sin = tables[1].to(cuda);
        auto qkv = torch::randn({b, t, 3 * d}, bf).requires_grad_(true);
        std::vector<Tensor> g;
        for (int i = 0; i < 3; i++) g.push_back(torch::randn({b, heads, t, hd}, bf));
        report("rotary_qkv (q, k, v)", median_ms([&] { torch::autograd::backward(fused::rotary_qkv(qkv, cos, sin, heads), g); }),
               median_ms([&] {
                   auto parts = qkv.split(d, 2);
                   std::vector<Tensor> out;
                   for (int w = 0; w < 3; w++) {
                       auto x = parts[w].view({b, t, heads, hd}).transpose(1, 2);
                       out.push_back(w < 2 ? eager_rotary(x, cos, sin) : x);
                   }
                   torch::autograd::backward(out, g);
               }));
    }
    {
        auto x = torch::randn({b, t, d}, f32).requires_grad_(true);
        std::vector<Tensor> w;
        for (int i = 0; i < 4; i++) w.push_back(torch::randn({d}, f32).requires_grad_(true));
        std::vector<Tensor> g = {torch::randn({b, t, d}, bf), torch::randn({b, t, d}, bf)};
        report("layer_norms (two)", median_ms([&] {
                   torch::autograd::backward(fused::layer_norms(x, w[0], w[1], w[2], w[3], torch::kBFloat16, 1e-5), g);
               }),
               median_ms([&] {
                   // autocast: fp32 norms, cast to bf16 for the matrix products
                   auto n1 = at::layer_norm(x, {d}, w[0], w[1], 1e-5).to(torch::kBFloat16);
                   auto n2 = at::layer_norm(x, {d}, w[2], w[3], 1e-5).to(torch::kBFloat16);
                   torch::autograd::backward({n1, n2}, g);
               }));
    }
    {
        auto x = torch::randn({b, t, d}, f32).requires_grad_(true);
        auto a = torch::randn({b, t, d}, bf).requires_grad_(true), m = torch::randn({b, t, d}, bf).requires_grad_(true);
        auto g = torch::randn({b, t, d}, f32);
        report("residual_add", median_ms([&] { fused::residual_add(x, a, m).backward(g); }),
               median_ms([&] { (x + a + m).backward(g); }));
    }
}

}  // namespace

int main(int argc, char **argv) {
    bool timing = argc > 1 && std::strcmp(argv[1], "--time") == 0;
    torch::manual_seed(7);
    check_all(torch::Device(torch::kCPU), torch::kFloat, 1e-5);
    if (torch::cuda::is_available()) {
        if (fused::cuda_kernels_built()) {
            check_all(torch::Device(torch::kCUDA), torch::kBFloat16, 1e-2);
            if (timing) time_ops();
        } else {
            std::printf("-- CUDA is there, but this build has no CUDA kernels (no nvcc at build time)\n");
        }
    }
    std::printf("%s\n", failures == 0 ? "all fused-op checks passed" : "FUSED-OP CHECKS FAILED");
    return failures == 0 ? 0 : 1;
}
