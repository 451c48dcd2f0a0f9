// See distributed.h. Every collective is libtorch's c10d (as PyTorch's DDP and FSDP use it): no
// sockets or reduction code of cpt's own.
#include "distributed.h"

#include <torch/version.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>

#ifdef CPT_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef CPT_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>

namespace cpt {

bool gloo_built() {
#ifdef CPT_WITH_GLOO
    return true;
#else
    return false;
#endif
}

bool nccl_built() {
#ifdef CPT_WITH_NCCL
    return true;
#else
    return false;
#endif
}

#ifdef CPT_WITH_GLOO

// From PyTorch 2.0 the backends (Gloo, NCCL) derive from c10d::Backend; in 1.13 from ProcessGroup.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct Group::Impl {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<Collectives> pg;
};

namespace {

class WorkPending : public Group::Pending {
public:
    explicit WorkPending(c10::intrusive_ptr<c10d::Work> work) : work_(std::move(work)) {}
    void wait() override {
        if (!work_) return;
        try {
            work_->wait();
        } catch (const std::exception &e) {
            work_.reset();
            std::string m = e.what();
            if (auto c10 = dynamic_cast<const c10::Error *>(&e)) m = c10->what_without_backtrace();
            throw DistributedError("a collective failed (another rank died, or did not come within the timeout): " + m);
        }
        work_.reset();
    }

private:
    c10::intrusive_ptr<c10d::Work> work_;
};

/** A collective already finished on the calling thread (the CPU fallbacks' second half). */
class DonePending : public Group::Pending {
public:
    explicit DonePending(std::function<void()> then, std::shared_ptr<Group::Pending> first)
        : first_(std::move(first)), then_(std::move(then)) {}
    void wait() override {
        if (first_) first_->wait();
        first_.reset();
        if (then_) then_();
        then_ = nullptr;
    }

private:
    std::shared_ptr<Group::Pending> first_;
    std::function<void()> then_;
};

template <typename F>
auto translated(const char *what, F &&body) -> decltype(body()) {
    try {
        return body();
    } catch (const DistributedError &) {
        throw;
    } catch (const c10::Error &e) {
        throw DistributedError(std::string(what) + " failed: " + e.what_without_backtrace());
    } catch (const std::exception &e) {
        throw DistributedError(std::string(what) + " failed: " + e.what());
    }
}

}  // namespace

std::shared_ptr<Group> Group::create(const std::string &address, int port, int rank, int world, Backend backend, int threads,
                                     int64_t timeout_ms) {
    if (world < 1 || rank < 0 || rank >= world) throw std::invalid_argument("rank " + std::to_string(rank) + " is outside the world of " + std::to_string(world));
    if (port < 1 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is outside 1..65535");
    if (timeout_ms <= 0) throw std::invalid_argument("the timeout must be positive");
    auto timeout = std::chrono::milliseconds(timeout_ms);
    auto impl = std::make_unique<Impl>();
    std::string where = "the rendezvous of rank " + std::to_string(rank) + " of " + std::to_string(world) + " at " + address + ":" +
                        std::to_string(port) + " (rank 0 serves it; every rank must join within " +
                        std::to_string(timeout_ms / 1000) + " s)";
    translated(where.c_str(), [&] {
        c10d::TCPStoreOptions opts;
        opts.port = static_cast<std::uint16_t>(port);
        opts.isServer = rank == 0;
        opts.numWorkers = static_cast<std::size_t>(world);
        opts.waitWorkers = true;
        opts.timeout = timeout;
        impl->store = c10::make_intrusive<c10d::TCPStore>(address, opts);
    });
    // One prefix per backend, so that a store could also serve other groups.
    auto store = c10::make_intrusive<c10d::PrefixStore>(backend == NCCL ? "cpt/nccl" : "cpt/gloo", impl->store);
    if (backend == GLOO) {
        translated(("joining the Gloo process group: " + where).c_str(), [&] {
            auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
            // As torch.distributed does: GLOO_SOCKET_IFNAME names the interface, else the hostname's address.
            const char *ifname = std::getenv("GLOO_SOCKET_IFNAME");
            opts->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                                      : c10d::ProcessGroupGloo::createDefaultDevice());
            opts->threads = std::max(1, threads);
            impl->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, opts);
        });
    } else {
#ifdef CPT_WITH_NCCL
        translated(("joining the NCCL process group: " + where).c_str(), [&] {
            auto opts = c10d::ProcessGroupNCCL::Options::create();
            opts->timeout = timeout;
            impl->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, opts);
        });
#else
        throw DistributedError("this shim has no NCCL (it was built against a libtorch without CUDA): use --device cpu, "
                               "or rebuild native/ against a CUDA libtorch");
#endif
    }
    return std::shared_ptr<Group>(new Group(rank, world, backend, std::move(impl)));
}

Group::Group(int rank, int world, Backend backend, std::unique_ptr<Impl> impl)
    : rank_(rank), world_(world), backend_(backend), impl_(std::move(impl)) {}

Group::~Group() = default;

void Group::barrier() {
    translated("barrier", [&] { impl_->pg->barrier()->wait(); });
}

void Group::all_reduce(torch::Tensor &t) { all_reduce_async(t)->wait(); }

std::shared_ptr<Group::Pending> Group::all_reduce_async(torch::Tensor t) {
    return translated("all-reduce", [&] {
        std::vector<torch::Tensor> tensors{t};
        return std::shared_ptr<Pending>(std::make_shared<WorkPending>(impl_->pg->allreduce(tensors)));
    });
}

std::shared_ptr<Group::Pending> Group::reduce_scatter_async(torch::Tensor out, torch::Tensor in) {
    return translated("reduce-scatter", [&] {
        if (backend_ == GLOO) {
            // libtorch 1.13's Gloo has no reduce_scatter: all-reduce the whole and keep this rank's
            // piece (twice the traffic; the CPU path is for tests and laptops).
            auto whole = in.clone();
            auto first = all_reduce_async(whole);
            int64_t n = out.numel();
            int r = rank_;
            return std::shared_ptr<Pending>(std::make_shared<DonePending>([whole, out, n, r]() mutable {
                out.copy_(whole.narrow(0, r * n, n));
            }, first));
        }
        return std::shared_ptr<Pending>(std::make_shared<WorkPending>(impl_->pg->_reduce_scatter_base(out, in)));
    });
}

std::shared_ptr<Group::Pending> Group::all_gather_async(torch::Tensor out, torch::Tensor in) {
    return translated("all-gather", [&] {
        if (backend_ == GLOO) {
            // libtorch 1.13's Gloo has no _allgather_base: the list form, one output per rank (views of out).
            std::vector<std::vector<torch::Tensor>> outputs(1);
            int64_t n = in.numel();
            for (int r = 0; r < world_; r++) outputs[0].push_back(out.narrow(0, r * n, n));
            std::vector<torch::Tensor> inputs{in.clone()};
            return std::shared_ptr<Pending>(std::make_shared<WorkPending>(impl_->pg->allgather(outputs, inputs)));
        }
        return std::shared_ptr<Pending>(std::make_shared<WorkPending>(impl_->pg->_allgather_base(out, in)));
    });
}

#else  // no Gloo headers when the shim was built

struct Group::Impl {};

std::shared_ptr<Group> Group::create(const std::string &, int, int, int, Backend, int, int64_t) {
    throw DistributedError("this shim was built without c10d's Gloo headers, so it cannot train on several ranks: "
                           "apt-get install libgloo-dev and rebuild native/ (native/build.sh)");
}
Group::Group(int rank, int world, Backend backend, std::unique_ptr<Impl> impl)
    : rank_(rank), world_(world), backend_(backend), impl_(std::move(impl)) {}
Group::~Group() = default;
void Group::barrier() {}
void Group::all_reduce(torch::Tensor &) {}
std::shared_ptr<Group::Pending> Group::all_reduce_async(torch::Tensor) { return nullptr; }
std::shared_ptr<Group::Pending> Group::reduce_scatter_async(torch::Tensor, torch::Tensor) { return nullptr; }
std::shared_ptr<Group::Pending> Group::all_gather_async(torch::Tensor, torch::Tensor) { return nullptr; }

#endif

// ---- DataParallel -------------------------------------------------------------------------------

DataParallel::DataParallel(std::shared_ptr<Group> group, int zero_stage, int64_t bucket_bytes,
                           const std::vector<torch::Tensor> &params, const std::vector<int> &unit_of)
    : group_(std::move(group)), zero_(zero_stage), params_(const_cast<std::vector<torch::Tensor> *>(&params)) {
    if (zero_ < 0 || zero_ > 3) {
        throw std::invalid_argument("ZeRO stage " + std::to_string(zero_) + " is not one this engine has (0, 1, 2 or 3)");
    }
    if (bucket_bytes <= 0) throw std::invalid_argument("the bucket size must be positive");
    int world = group_->world(), n = static_cast<int>(params.size());
    offset_.assign(n, 0);
    bucket_of_.assign(n, 0);
    std::vector<std::vector<int>> groups;
    if (zero_ == 3) {
        if (static_cast<int>(unit_of.size()) != n) throw std::invalid_argument("ZeRO-3 needs every parameter's unit");
        int units = 0;
        for (int u : unit_of) units = std::max(units, u + 1);
        groups.resize(units);
        for (int i = 0; i < n; i++) groups[unit_of[i]].push_back(i);
    } else {
        // From the last parameter back: the order in which the backward finishes them.
        int last = n - 1;
        while (last >= 0) {
            int first = last;
            int64_t bytes = params[first].numel() * 4;
            while (first > 0 && bytes + params[first - 1].numel() * 4 <= bucket_bytes) bytes += params[--first].numel() * 4;
            std::vector<int> members;
            for (int i = first; i <= last; i++) members.push_back(i);
            groups.push_back(members);
            last = first - 1;
        }
    }
    for (auto &members : groups) {
        Bucket b;
        b.offset = total_;
        b.members = members;
        int64_t size = 0;
        for (int i : members) {
            offset_[i] = total_ + size;
            bucket_of_[i] = static_cast<int>(buckets_.size());
            size += params[i].numel();
        }
        b.size = std::max<int64_t>(world, (size + world - 1) / world * world);
        total_ += b.size;
        buckets_.push_back(b);
    }
    options_ = torch::TensorOptions().dtype(torch::kFloat32).device(params.empty() ? torch::kCPU : params[0].device());
    if (zero_ <= 1) flat_grad_ = torch::zeros({total_}, options_);
    if (zero_ >= 2) shard_grad_ = torch::zeros({total_ / world}, options_);
    if (zero_ >= 1) {
        int r = group_->rank();
        for (auto &b : buckets_) {
            int64_t piece = b.size / world, lo = b.offset + r * piece, hi = lo + piece;
            for (int i : b.members) {
                int64_t plo = offset_[i], phi = plo + params[i].numel();
                int64_t a = std::max(lo, plo), z = std::min(hi, phi);
                if (a < z) {
                    owned_.push_back(Segment{static_cast<int>(&b - buckets_.data()), i, a - plo, z - a, a, shard_offset(b) + (a - lo),
                                             owned_total_});
                    owned_total_ += z - a;
                }
            }
        }
        reset_moments();
    }
    if (zero_ == 3) {
        shard_param_ = torch::zeros({total_ / world}, options_);
        load_weights(params);
        return;  // its gradients come from reduce_unit_gradients, not from hooks
    }
    for (int i = 0; i < n; i++) {
        auto acc = torch::autograd::impl::grad_accumulator(params[i]);
        acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
            [this, i](const torch::autograd::variable_list &outputs, const torch::autograd::variable_list &) {
                ready(i);
                return outputs;
            }));
        accumulators_.push_back(std::move(acc));
    }
}

void DataParallel::reset_moments() {
    if (zero_ < 1) return;
    exp_avg_ = torch::zeros({owned_total_}, options_);
    exp_avg_sq_ = torch::zeros({owned_total_}, options_);
}

void DataParallel::begin_step(std::vector<torch::Tensor> &params) {
    if (zero_ == 2) {
        begin_step_sharded();
        for (auto &p : params) p.mutable_grad() = torch::Tensor();
        return;
    }
    flat_grad_.zero_();
    for (size_t i = 0; i < params.size(); i++) {
        params[i].mutable_grad() = flat_grad_.narrow(0, offset_[i], params[i].numel()).view(params[i].sizes());
    }
    for (auto &b : buckets_) {
        b.pending = static_cast<int>(b.members.size());
        b.work.reset();
    }
    communicate_ = false;
}

void DataParallel::before_backward(bool last) {
    communicate_ = zero_ == 2 || last;
    if (zero_ != 2) return;
    for (auto &b : buckets_) b.pending = static_cast<int>(b.members.size());
}

void DataParallel::ready(int param) {
    if (!communicate_) return;
    Bucket &b = buckets_[bucket_of_[param]];
    if (--b.pending != 0) return;
    if (zero_ == 2) {
        // This micro-batch's gradients of the bucket are done: reduce-scatter them into the shard
        // while the backward goes on, and let them go.
        torch::NoGradGuard no_grad;
        std::vector<torch::Tensor> grads;
        for (int i : b.members) grads.push_back((*params_)[i].grad());
        reduce_unit_gradients(bucket_of_[param], grads);
        for (int i : b.members) (*params_)[i].mutable_grad() = torch::Tensor();
        return;
    }
    // The bucket's gradients are final for this step: reduce them while the backward goes on.
    b.work = group_->all_reduce_async(flat_grad_.narrow(0, b.offset, b.size));
}

void DataParallel::finish_gradients() {
    if (zero_ >= 2) {
        for (auto &b : buckets_) {
            if (zero_ == 2 && b.pending != 0) {
                throw std::logic_error("a bucket of " + std::to_string(b.members.size()) + " parameters was not reduced in the backward (" +
                                       std::to_string(b.pending) + " gradients missing)");
            }
        }
        while (!pending_gradients_.empty()) complete_oldest_gradients();
        return;
    }
    for (auto &b : buckets_) {
        if (b.pending != 0 || !b.work) {
            throw std::logic_error("a bucket of " + std::to_string(b.members.size()) + " parameters was not reduced in the backward (" +
                                   std::to_string(b.pending) + " gradients missing)");
        }
    }
    for (auto &b : buckets_) {
        b.work->wait();
        b.work.reset();
    }
}

torch::Tensor DataParallel::grad_norm(const std::vector<torch::Tensor> &params) {
    if (zero_ == 0) {
        // Every rank holds the whole reduced gradient: clip_grad_norm_'s norm of the per-tensor norms.
        std::vector<torch::Tensor> norms;
        for (auto &p : params) norms.push_back(p.grad().norm(2));
        return torch::stack(norms).norm(2);
    }
    // ZeRO >= 1: each rank sums the squares of its own elements; the sum over ranks is the global norm's square.
    auto squares = torch::zeros({1}, options_.dtype(torch::kFloat64));
    for (auto &s : owned_) {
        auto g = zero_ >= 2 ? shard_grad_.narrow(0, s.shard, s.length) : flat_grad_.narrow(0, s.flat, s.length);
        squares += g.to(torch::kFloat64).pow(2).sum();
    }
    group_->all_reduce(squares);
    return squares.sqrt().to(torch::kFloat32).reshape({});
}

void DataParallel::scale_gradients(std::vector<torch::Tensor> &params, const torch::Tensor &coef) {
    if (zero_ == 0) {
        for (auto &p : params) p.grad().mul_(coef);
        return;
    }
    if (zero_ >= 2) {
        shard_grad_.mul_(coef);
        return;
    }
    for (auto &s : owned_) flat_grad_.narrow(0, s.flat, s.length).mul_(coef);
}

void DataParallel::adamw_sharded(std::vector<torch::Tensor> &params, const std::vector<bool> &decay, int64_t step, double lr,
                                 double weight_decay, double b1, double b2, double eps) {
    // torch.optim.AdamW's update, element for element, on the runs of this rank's pieces.
    double bc1 = 1 - std::pow(b1, static_cast<double>(step)), bc2 = 1 - std::pow(b2, static_cast<double>(step));
    for (auto &s : owned_) {
        auto p = zero_ == 3 ? shard_param_.narrow(0, s.shard, s.length) : params[s.param].view({-1}).narrow(0, s.begin, s.length);
        auto g = zero_ >= 2 ? shard_grad_.narrow(0, s.shard, s.length) : flat_grad_.narrow(0, s.flat, s.length);
        auto m = exp_avg_.narrow(0, s.moment, s.length), v = exp_avg_sq_.narrow(0, s.moment, s.length);
        if (decay[s.param] && weight_decay != 0) p.mul_(1 - lr * weight_decay);
        m.mul_(b1).add_(g, 1 - b1);
        v.mul_(b2).addcmul_(g, g, 1 - b2);
        auto denom = (v.sqrt() / std::sqrt(bc2)).add_(eps);
        p.addcdiv_(m, denom, -lr / bc1);
    }
    if (zero_ == 3) return;  // the next forward gathers the updated pieces
    // Every rank's updated pieces to every rank, bucket by bucket into a buffer of the bucket's size,
    // then back into the parameters; at most two buckets' buffers exist at a time.
    struct Gather {
        int bucket;
        torch::Tensor whole;
        std::shared_ptr<Group::Pending> work;
    };
    std::vector<Gather> inflight;
    auto finish = [&](Gather &g) {
        g.work->wait();
        const Bucket &b = buckets_[g.bucket];
        for (int i : b.members) params[i].view({-1}).copy_(g.whole.narrow(0, offset_[i] - b.offset, params[i].numel()));
    };
    size_t next = 0;
    for (int k = 0; k < static_cast<int>(buckets_.size()); k++) {
        const Bucket &b = buckets_[k];
        auto whole = torch::zeros({b.size}, options_);
        for (; next < owned_.size() && owned_[next].bucket == k; next++) {
            const Segment &s = owned_[next];
            whole.narrow(0, s.flat - b.offset, s.length).copy_(params[s.param].view({-1}).narrow(0, s.begin, s.length));
        }
        int64_t n = b.size / group_->world();
        inflight.push_back(Gather{k, whole, group_->all_gather_async(whole, whole.narrow(0, group_->rank() * n, n))});
        if (inflight.size() > 2) {
            finish(inflight.front());
            inflight.erase(inflight.begin());
        }
    }
    for (auto &g : inflight) finish(g);
}

void DataParallel::load_moments(const std::vector<torch::Tensor> &exp_avg, const std::vector<torch::Tensor> &exp_avg_sq) {
    reset_moments();
    for (auto &s : owned_) {
        exp_avg_.narrow(0, s.moment, s.length).copy_(exp_avg[s.param].reshape({-1}).narrow(0, s.begin, s.length));
        exp_avg_sq_.narrow(0, s.moment, s.length).copy_(exp_avg_sq[s.param].reshape({-1}).narrow(0, s.begin, s.length));
    }
}

std::vector<DataParallel::Piece> DataParallel::pieces(const std::vector<torch::Tensor> &params) const {
    std::vector<Piece> out;
    for (auto &s : owned_) {
        auto w = zero_ == 3 ? shard_param_.narrow(0, s.shard, s.length) : params[s.param].detach().reshape({-1}).narrow(0, s.begin, s.length);
        out.push_back(Piece{s.param, s.begin, s.length, w, exp_avg_.narrow(0, s.moment, s.length), exp_avg_sq_.narrow(0, s.moment, s.length)});
    }
    return out;
}

int64_t DataParallel::take(int param, int64_t begin, const torch::Tensor &w, const torch::Tensor &m, const torch::Tensor &v) {
    torch::NoGradGuard no_grad;
    int64_t taken = 0, end = begin + w.numel();
    for (auto &s : owned_) {
        if (s.param != param) continue;
        int64_t a = std::max(begin, s.begin), z = std::min(end, s.begin + s.length);
        if (a >= z) continue;
        int64_t n = z - a;
        exp_avg_.narrow(0, s.moment + (a - s.begin), n).copy_(m.narrow(0, a - begin, n));
        exp_avg_sq_.narrow(0, s.moment + (a - s.begin), n).copy_(v.narrow(0, a - begin, n));
        if (zero_ == 3) shard_param_.narrow(0, s.shard + (a - s.begin), n).copy_(w.narrow(0, a - begin, n));
        taken += n;
    }
    return taken;
}

// ---- ZeRO-3 ----

void DataParallel::load_weights(const std::vector<torch::Tensor> &full) {
    torch::NoGradGuard no_grad;
    for (auto &s : owned_) {
        shard_param_.narrow(0, s.shard, s.length).copy_(full[s.param].detach().reshape({-1}).narrow(0, s.begin, s.length));
    }
}

void DataParallel::prefetch(int unit) {
    if (unit < 0 || unit >= units()) return;
    Bucket &b = buckets_[unit];
    if (b.gathered.defined()) return;
    b.gathered = torch::empty({b.size}, options_);
    int64_t piece = b.size / group_->world();
    b.gathering = group_->all_gather_async(b.gathered, shard_param_.narrow(0, shard_offset(b), piece));
}

void DataParallel::materialize(int unit, std::vector<torch::Tensor> &params, const std::vector<std::vector<int64_t>> &shapes, bool grad,
                               int next) {
    prefetch(unit);
    Bucket &b = buckets_[unit];
    if (b.gathering) {
        b.gathering->wait();
        b.gathering.reset();
    }
    prefetch(next);
    for (int i : b.members) {
        int64_t n = 1;
        for (auto d : shapes[i]) n *= d;
        auto view = b.gathered.narrow(0, offset_[i] - b.offset, n).view(shapes[i]);
        // A leaf of its own each time, so that a recomputation's gradients stop at it.
        params[i] = grad ? view.detach().requires_grad_(true) : view;
    }
}

void DataParallel::release(int unit, std::vector<torch::Tensor> &params) {
    Bucket &b = buckets_[unit];
    for (int i : b.members) params[i] = torch::Tensor();
    if (b.gathering) {
        b.gathering->wait();
        b.gathering.reset();
    }
    b.gathered = torch::Tensor();
}

void DataParallel::begin_step_sharded() {
    shard_grad_.zero_();
    while (!pending_gradients_.empty()) complete_oldest_gradients();
}

void DataParallel::reduce_unit_gradients(int unit, const std::vector<torch::Tensor> &grads) {
    Bucket &b = buckets_[unit];
    if (grads.size() != b.members.size()) throw std::logic_error("a unit's gradients do not match its parameters");
    auto in = torch::zeros({b.size}, options_);
    for (size_t k = 0; k < grads.size(); k++) {
        if (!grads[k].defined()) continue;  // a parameter this micro-batch did not reach
        in.narrow(0, offset_[b.members[k]] - b.offset, grads[k].numel()).copy_(grads[k].reshape({-1}));
    }
    auto out = torch::empty({b.size / group_->world()}, options_);
    pending_gradients_.push_back(PendingGradients{unit, in, out, group_->reduce_scatter_async(out, in)});
    // At most two units' full gradients exist at a time: the one just started and the one before.
    while (pending_gradients_.size() > 2) complete_oldest_gradients();
}

namespace {
int64_t bytes_of(const torch::Tensor &t) { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; }
}  // namespace

int64_t DataParallel::held_weight_bytes() const {
    int64_t n = bytes_of(shard_param_);
    for (auto &b : buckets_) n += bytes_of(b.gathered);
    return n;
}

int64_t DataParallel::held_gradient_bytes() const {
    int64_t n = bytes_of(flat_grad_) + bytes_of(shard_grad_);
    for (auto &p : pending_gradients_) n += bytes_of(p.in) + bytes_of(p.out);
    return n;
}

int64_t DataParallel::held_optimizer_bytes() const { return bytes_of(exp_avg_) + bytes_of(exp_avg_sq_); }

void DataParallel::complete_oldest_gradients() {
    auto p = pending_gradients_.front();
    pending_gradients_.erase(pending_gradients_.begin());
    p.work->wait();
    shard_grad_.narrow(0, shard_offset(buckets_[p.unit]), p.out.numel()).add_(p.out);
}

}  // namespace cpt
