// Multi-rank training for the torch engine over libtorch's own c10d: a process group (TCPStore
// rendezvous; Gloo on the CPU, NCCL on CUDA) and the data-parallel state of one model: gradients in
// flat buckets all-reduced (or reduce-scattered) as the backward produces them, and for ZeRO >= 1
// the AdamW moments of this rank's shard only, Megatron's distributed optimizer's layout.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace cpt {

/** Whether this shim was built with c10d's Gloo (CPU collectives) and NCCL (CUDA collectives). */
bool gloo_built();
bool nccl_built();

/** Thrown for rendezvous and collective failures (a peer that died, a timeout); the shim maps it to CPT_ERR_DISTRIBUTED. */
struct DistributedError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** One process group: this rank's place in it and its collectives, each waited for before returning unless it says async. */
class Group {
public:
    enum Backend { GLOO = 0, NCCL = 1 };

    /** Joins (rank 0: hosts) the TCPStore at address:port and builds the backend's process group; blocks until all ranks are in. */
    static std::shared_ptr<Group> create(const std::string &address, int port, int rank, int world, Backend backend, int threads,
                                         int64_t timeout_ms);
    ~Group();

    int rank() const { return rank_; }
    int world() const { return world_; }
    Backend backend() const { return backend_; }

    void barrier();
    /** Sums t across ranks in place. */
    void all_reduce(torch::Tensor &t);
    /** Starts a sum of t across ranks in place; the returned handle's wait() finishes it. */
    class Pending;
    std::shared_ptr<Pending> all_reduce_async(torch::Tensor t);
    /** Sums `in` (world·n values) across ranks and leaves values [rank·n, (rank+1)·n) in `out` (n values). */
    std::shared_ptr<Pending> reduce_scatter_async(torch::Tensor out, torch::Tensor in);
    /** Every rank's `in` (n values) into `out` (world·n values), in rank order; `in` may be out's own piece. */
    std::shared_ptr<Pending> all_gather_async(torch::Tensor out, torch::Tensor in);

    struct Impl;

private:
    Group(int rank, int world, Backend backend, std::unique_ptr<Impl> impl);
    int rank_, world_;
    Backend backend_;
    std::unique_ptr<Impl> impl_;
};

class Group::Pending {
public:
    virtual ~Pending() = default;
    /** Blocks until the collective is done (NCCL: until the current stream waits on it); rethrows its error. */
    virtual void wait() = 0;
};

/**
 * The data-parallel state of one model's parameters, laid out flat in buckets. ZeRO 0-2: buckets of
 * consecutive parameters of about bucket_bytes, filled from the last parameter back (the order in
 * which the backward finishes them); gradients live in one flat fp32 buffer and each parameter's
 * .grad is a view into it, so micro-batches accumulate there with no copies. ZeRO-3: one bucket (a
 * "unit", as FSDP calls it) per block, plus one for the parameters outside the blocks (embeddings,
 * final norm, head); weights are kept only as this rank's pieces and gathered unit by unit when a
 * block runs. Each bucket is padded to a multiple of the world size and split into one equal piece
 * per rank: with ZeRO >= 1 a rank owns its piece of every bucket (Megatron's layout) and keeps
 * AdamW moments for those elements only.
 */
class DataParallel {
public:
    /**
     * unit_of[i] (ZeRO-3 only): the bucket of parameter i, 0 for the parameters outside the blocks
     * and 1 + b for block b's.
     */
    DataParallel(std::shared_ptr<Group> group, int zero_stage, int64_t bucket_bytes, const std::vector<torch::Tensor> &params,
                 const std::vector<int> &unit_of = {});

    int zero_stage() const { return zero_; }
    Group &group() { return *group_; }

    /** Before a step's first micro-batch: zeroes the gradient buffer and points every .grad into it (ZeRO 0-1), or zeroes the shard (2). */
    void begin_step(std::vector<torch::Tensor> &params);
    /**
     * Before each micro-batch's backward. ZeRO 0-1: only the last one communicates, the others
     * accumulate into the gradient buffer. ZeRO-2: every one reduce-scatters its buckets as they
     * finish and frees them, so that no rank ever holds whole gradients (as DeepSpeed's ZeRO-2 does).
     */
    void before_backward(bool last);
    /** After the last backward: waits for every bucket's collective; the gradients are then the global mean's. */
    void finish_gradients();

    /** The L2 norm of the global gradient (before clipping), on every rank. */
    torch::Tensor grad_norm(const std::vector<torch::Tensor> &params);
    /** Multiplies the gradients this rank updates from by coef. */
    void scale_gradients(std::vector<torch::Tensor> &params, const torch::Tensor &coef);

    /** ZeRO >= 1: AdamW on this rank's shard; ZeRO 1-2 then gather every rank's updated shard into every parameter. */
    void adamw_sharded(std::vector<torch::Tensor> &params, const std::vector<bool> &decay, int64_t step, double lr,
                       double weight_decay, double beta1, double beta2, double eps);
    void reset_moments();

    /** ZeRO >= 1: keeps this rank's shard of full moments (as a checkpoint holds them, from any world size). */
    void load_moments(const std::vector<torch::Tensor> &exp_avg, const std::vector<torch::Tensor> &exp_avg_sq);

    /** One run of elements this rank owns, for a checkpoint shard: views of its weights and moments. */
    struct Piece {
        int param;
        int64_t begin, length;  // within the parameter (flattened)
        torch::Tensor weights, exp_avg, exp_avg_sq;
    };
    /** ZeRO >= 1: the runs this rank owns, in order, each with its weights and moments (views). */
    std::vector<Piece> pieces(const std::vector<torch::Tensor> &params) const;
    /**
     * ZeRO >= 1, loading a shard of any world size: copies the part of a run of parameter `param`
     * (elements [begin, begin + length) of weights w and moments m, v) that this rank owns into its
     * moments, and into its weight pieces at ZeRO-3. Returns the elements taken.
     */
    int64_t take(int param, int64_t begin, const torch::Tensor &w, const torch::Tensor &m, const torch::Tensor &v);

    // ---- ZeRO-3: weights as pieces, gathered a unit at a time ----
    /** Keeps this rank's pieces of full weights (at distribute, and from a checkpoint of any world size). */
    void load_weights(const std::vector<torch::Tensor> &full);
    /** Starts gathering unit u's weights, unless it is gathered or on its way. */
    void prefetch(int unit);
    /**
     * Waits for unit u's weights and points its parameters at them (leaves that require grad when
     * grad is set); then starts gathering `next` (-1: none), so that it arrives during u's compute.
     */
    void materialize(int unit, std::vector<torch::Tensor> &params, const std::vector<std::vector<int64_t>> &shapes, bool grad,
                     int next);
    /** Drops unit u's gathered weights: its parameters are undefined until the next materialize. */
    void release(int unit, std::vector<torch::Tensor> &params);
    /** Reduce-scatters a unit's gradients (one per member, in member order) into this rank's gradient shard. */
    void reduce_unit_gradients(int unit, const std::vector<torch::Tensor> &grads);
    /** Before a step's first micro-batch: zeroes the gradient shard. */
    void begin_step_sharded();
    const std::vector<int> &members(int unit) const { return buckets_[unit].members; }
    int units() const { return static_cast<int>(buckets_.size()); }

    int64_t owned_elements() const { return owned_total_; }
    /** Bytes of weights, gradients and optimizer state this rank's buffers hold now (the model's own tensors aside). */
    int64_t held_weight_bytes() const;
    int64_t held_gradient_bytes() const;
    int64_t held_optimizer_bytes() const;

private:
    struct Bucket {
        int64_t offset, size;      // in the flat layout; size padded to a multiple of the world size
        std::vector<int> members;  // parameter indices, in layout order
        int pending = 0;           // parameters whose gradient is not yet final in this backward
        std::shared_ptr<Group::Pending> work;
        torch::Tensor gathered;  // ZeRO-3: the unit's full weights while gathered or on their way
        std::shared_ptr<Group::Pending> gathering;
    };
    /** A run of one parameter's elements inside this rank's pieces. */
    struct Segment {
        int bucket;
        int param;
        int64_t begin, length;  // within the parameter (flattened)
        int64_t flat;           // in the flat layout
        int64_t shard;          // in this rank's shard layout (its pieces, bucket after bucket)
        int64_t moment;         // in the moment buffers
    };
    /** A unit's gradients waiting for their reduce-scatter. */
    struct PendingGradients {
        int unit;
        torch::Tensor in, out;
        std::shared_ptr<Group::Pending> work;
    };

    void ready(int param);
    int64_t shard_offset(const Bucket &b) const { return b.offset / group_->world(); }
    void complete_oldest_gradients();

    std::shared_ptr<Group> group_;
    int zero_;
    bool communicate_ = false;
    int64_t total_ = 0;
    torch::TensorOptions options_;
    torch::Tensor flat_grad_;                 // ZeRO 0-1: whole gradients, bucket after bucket
    torch::Tensor shard_grad_;                // ZeRO 2-3: this rank's pieces of the gradients, bucket after bucket
    torch::Tensor shard_param_;               // ZeRO-3: this rank's pieces of the weights
    std::vector<torch::Tensor> *params_;      // the model's (ZeRO-2 frees their .grad as buckets are reduced)
    std::vector<PendingGradients> pending_gradients_;
    std::vector<Bucket> buckets_;
    std::vector<int64_t> offset_;  // per parameter, in the flat layout
    std::vector<int> bucket_of_;
    std::vector<Segment> owned_;
    int64_t owned_total_ = 0;
    torch::Tensor exp_avg_, exp_avg_sq_;  // ZeRO >= 1: this rank's elements, in segment order
    std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // kept alive so their hooks stay
};

}  // namespace cpt
